"""The model manifest: which models exist, where their files come from, their hashes.

A manifest is JSON (``models/manifest.json`` in the source tree, schema in
``models/manifest.schema.json``). It is checked twice: against the JSON schema when
``jsonschema`` and the schema file are available, and always by :func:`parse_manifest`,
which enforces everything that security depends on (pinned hashes, safe names, known
schema version, references that resolve) so that no manifest can make the package write
outside the cache.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalmidi.errors import ModelError
from vocalmidi.models.cache_location import cache_root

#: Schema versions this package understands.
SUPPORTED_SCHEMA_VERSIONS = (1,)
#: Adapters the engine knows (its ModelKind ids).
# vocalnote-offline: a whole-take note model (docs/note-model.md), for files only; the
# engine and the plugin do not know it, so their model lists skip it.
ADAPTERS = ("swiftf0", "crepe-tiny", "pesto", "basic-pitch", "vocalnote", "vocalnote-offline")
SOURCE_TYPES = ("wheel", "url", "path", "recipe", "derived")

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_REPO_ROOT = Path(__file__).resolve().parents[3]
_PACKAGED = Path(__file__).resolve().parent / "data"


def check_model_id(model_id: object) -> str:
    """Return ``model_id`` if it is a safe model id, else raise :class:`ModelError`.

    A model id names a cache folder, so it may hold only lower-case letters, digits,
    ``-``, ``_`` and single dots between them (never ``..``, never a separator).
    """
    if not isinstance(model_id, str) or len(model_id) > 64 or not _ID.match(model_id):
        raise ModelError(f"invalid model id {model_id!r}: use lower-case letters, digits, - and _")
    return model_id


def check_file_name(name: object) -> str:
    """Return ``name`` if it is a plain file name that cannot leave its folder.

    Rejects separators (``/`` and ``\\``), ``..``, leading dots, absolute paths, drive
    letters and anything but letters, digits, ``-``, ``_`` and single inner dots.
    """
    if not isinstance(name, str) or len(name) > 128 or not _FILE_NAME.match(name):
        raise ModelError(f"unsafe file name {name!r} in manifest: must be a plain file name")
    return name


@dataclass(frozen=True)
class FileEntry:
    """One file of a model.

    Attributes
    ----------
    name : str
        File name inside ``<cache>/models/<id>/``.
    sha256 : str
        Pinned hex SHA-256.
    size : int
        Size in bytes.
    role : str
        ``"onnx"`` for the file the engine loads.
    sources : tuple of dict
        Where the file can be fetched from, tried in order (``source`` then ``mirrors``).
    """

    name: str
    sha256: str
    size: int
    role: str
    sources: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ModelEntry:
    """One model of a manifest; ``raw`` holds the full JSON object."""

    id: str
    name: str
    task: str
    adapter: str
    license: str
    files: tuple[FileEntry, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def onnx_file(self) -> FileEntry:
        """The file the engine loads (``role == "onnx"``)."""
        return next(f for f in self.files if f.role == "onnx")

    @property
    def size(self) -> int:
        """Total bytes of all files."""
        return sum(f.size for f in self.files)

    def depends_on(self) -> list[str]:
        """Ids of models that ``derived`` sources of this model are computed from."""
        return sorted(
            {s["from"] for f in self.files for s in f.sources if s.get("type") == "derived"}
        )


@dataclass(frozen=True)
class Manifest:
    """A parsed, validated manifest.

    Attributes
    ----------
    schema_version : int
    default_model : str
    models : dict of str to ModelEntry
        In manifest order.
    presets : dict
        Preset name to its JSON object.
    raw : dict
        The JSON document as read.
    location : str
        Where it was read from (path or URL); ``"<memory>"`` when built from a dict.
    base_dir : Path or None
        Folder that relative ``path`` sources are resolved against (None for URLs).
    """

    schema_version: int
    default_model: str
    models: dict[str, ModelEntry]
    presets: dict[str, dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, compare=False)
    location: str = "<memory>"
    base_dir: Path | None = None
    default_file_model: str | None = None  # for files (transcribe, demo); else default_model

    def default_ids(self) -> list[str]:
        """The models used when none is chosen: live/plugin, then files (once each)."""
        return list(dict.fromkeys([self.default_model, self.default_file_model or
                                   self.default_model]))

    def model(self, model_id: str | None = None) -> ModelEntry:
        """Return a model entry; ``None`` means the default model.

        Raises
        ------
        ModelError
            When the manifest has no such model.
        """
        key = self.default_model if model_id is None else model_id
        try:
            return self.models[key]
        except KeyError:
            known = ", ".join(self.models)
            raise ModelError(f"unknown model {key!r}: this manifest has {known}") from None

    def preset_models(self, preset: str) -> list[str]:
        """Return the model ids a preset's pipeline uses, in stage order."""
        try:
            pipeline = self.presets[preset]["pipeline"]
        except KeyError:
            known = ", ".join(self.presets) or "none"
            raise ModelError(f"unknown preset {preset!r}: presets are {known}") from None
        return [m for m in (pipeline.get("f0"), pipeline.get("notes")) if m]


def schema_path() -> Path | None:
    """Return the JSON schema file, or None when neither a packaged nor a source copy exists."""
    for candidate in (
        _PACKAGED / "manifest.schema.json",
        _REPO_ROOT / "models" / "manifest.schema.json",
    ):
        if candidate.is_file():
            return candidate
    return None


def bundled_manifest_path() -> Path | None:
    """Return the manifest shipped with the package or source tree, if there is one."""
    for candidate in (_PACKAGED / "manifest.json", _REPO_ROOT / "models" / "manifest.json"):
        if candidate.is_file():
            return candidate
    return None


def validate_schema(doc: dict[str, Any]) -> None:
    """Check ``doc`` against the JSON schema when ``jsonschema`` is installed.

    Raises
    ------
    ModelError
        With the first violation, as one line.
    """
    path = schema_path()
    if path is None:
        return
    try:
        import jsonschema
    except ImportError:  # the structural checks in parse_manifest still run
        return
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        message = err.message if len(err.message) < 200 else err.message[:197] + "..."
        raise ModelError(f"manifest does not match its schema at {where}: {message}")


def parse_manifest(
    doc: object, location: str = "<memory>", base_dir: Path | None = None
) -> Manifest:
    """Validate a manifest document and return it as a :class:`Manifest`.

    Parameters
    ----------
    doc : object
        The decoded JSON.
    location : str
        Where it came from, for messages.
    base_dir : Path or None
        Folder for relative ``path`` sources.

    Raises
    ------
    ModelError
        On any violation; the message names the offending field.
    """
    if not isinstance(doc, dict):
        raise ModelError(f"manifest {location} is not a JSON object")
    version = doc.get("schema_version")
    if isinstance(version, int) and version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ModelError(
            f"manifest {location} has schema_version {version}; this vocalmidi reads "
            f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}: upgrade vocalmidi"
        )
    validate_schema(doc)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ModelError(f"manifest {location} lacks a valid schema_version")
    models_raw = doc.get("models")
    if not isinstance(models_raw, list) or not models_raw:
        raise ModelError(f"manifest {location} lists no models")
    models: dict[str, ModelEntry] = {}
    for raw in models_raw:
        entry = _parse_model(raw, location)
        if entry.id in models:
            raise ModelError(f"manifest {location} lists model {entry.id!r} twice")
        models[entry.id] = entry
    default = doc.get("default_model")
    if default not in models:
        raise ModelError(f"manifest {location}: default_model {default!r} is not a listed model")
    presets = doc.get("presets") or {}
    if not isinstance(presets, dict):
        raise ModelError(f"manifest {location}: presets must be an object")
    file_default = doc.get("default_file_model")
    if file_default is not None and file_default not in models:
        raise ModelError(f"manifest {location}: default_file_model {file_default!r} is not a "
                         "listed model")
    manifest = Manifest(version, default, models, presets, doc, location, base_dir,
                        file_default)
    for name in presets:
        for model_id in manifest.preset_models(name):
            if model_id not in models:
                raise ModelError(
                    f"manifest {location}: preset {name!r} uses unknown model {model_id!r}"
                )
    for entry in models.values():
        for dep in entry.depends_on():
            if dep not in models or dep == entry.id:
                raise ModelError(
                    f"manifest {location}: {entry.id} is derived from unknown model {dep!r}"
                )
            if models[dep].depends_on():
                raise ModelError(
                    f"manifest {location}: {entry.id} derives from {dep}, itself derived"
                )
    return manifest


def _parse_model(raw: object, location: str) -> ModelEntry:
    if not isinstance(raw, dict):
        raise ModelError(f"manifest {location}: a model entry is not an object")
    model_id = check_model_id(raw.get("id"))
    adapter = raw.get("adapter")
    if adapter not in ADAPTERS:
        raise ModelError(f"manifest {location}: model {model_id} has unknown adapter {adapter!r}")
    files_raw = raw.get("files")
    if not isinstance(files_raw, list) or not files_raw:
        raise ModelError(f"manifest {location}: model {model_id} lists no files")
    files = tuple(_parse_file(f, model_id, location) for f in files_raw)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ModelError(f"manifest {location}: model {model_id} lists a file name twice")
    if sum(f.role == "onnx" for f in files) != 1:
        raise ModelError(
            f"manifest {location}: model {model_id} needs exactly one file with role onnx"
        )
    return ModelEntry(
        id=model_id,
        name=str(raw.get("name", model_id)),
        task=str(raw.get("task", "")),
        adapter=adapter,
        license=str(raw.get("license", "")),
        files=files,
        raw=raw,
    )


def _parse_file(raw: object, model_id: str, location: str) -> FileEntry:
    if not isinstance(raw, dict):
        raise ModelError(f"manifest {location}: a file of {model_id} is not an object")
    name = check_file_name(raw.get("name"))
    sha = raw.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ModelError(
            f"manifest {location}: {model_id}/{name} has no pinned sha256 (64 hex digits)"
        )
    size = raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ModelError(f"manifest {location}: {model_id}/{name} has no valid size")
    sources = [raw.get("source"), *(raw.get("mirrors") or [])]
    for source in sources:
        if not isinstance(source, dict) or source.get("type") not in SOURCE_TYPES:
            raise ModelError(f"manifest {location}: {model_id}/{name} has an invalid source")
        if source["type"] == "url" and not str(source.get("url", "")).startswith(
            ("https://", "http://")
        ):
            raise ModelError(f"manifest {location}: {model_id}/{name} url must be http(s)")
        if source["type"] == "derived":
            check_model_id(source.get("from"))
    return FileEntry(name, sha, size, str(raw.get("role", "data")), tuple(sources))


def load_manifest(
    location: str | os.PathLike[str] | None = None,
    *,
    allow_http: bool = False,
    timeout: float = 30.0,
) -> Manifest:
    """Read and validate a manifest.

    Parameters
    ----------
    location : str, path-like or None
        A file path or an ``https://`` URL. ``None`` uses ``$VOCALMIDI_MANIFEST``, then
        the manifest shipped with the package (or source tree), then the copy in the cache.
    allow_http : bool
        Accept a plain ``http://`` URL (meant for local test servers).
    timeout : float
        Seconds before a URL read times out.

    Returns
    -------
    Manifest

    Raises
    ------
    ModelError
        When no manifest is found or it is invalid.
    DownloadError
        When a URL cannot be fetched.
    """
    if location is None:
        location = os.environ.get("VOCALMIDI_MANIFEST") or None
    if location is None:
        found = bundled_manifest_path()
        if found is None:
            cached = cache_root() / "manifest.json"
            if not cached.is_file():
                raise ModelError(
                    "no model manifest found: pass --manifest PATH_OR_URL or set VOCALMIDI_MANIFEST"
                )
            found = cached
        location = found
    text = str(location)
    if text.startswith(("https://", "http://")):
        from vocalmidi.models.http import fetch_bytes

        data = fetch_bytes(text, allow_http=allow_http, timeout=timeout, max_bytes=16 << 20)
        return _decode(data, text, None)
    return _load_file(Path(text))


_FILE_MEMO: dict[Path, tuple[int, int, Manifest]] = {}


def _load_file(path: Path) -> Manifest:
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    key = path.resolve()
    memo = _FILE_MEMO.get(key)
    if memo and memo[0] == st.st_mtime_ns and memo[1] == st.st_size:
        return memo[2]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    manifest = _decode(data, str(path), path.resolve().parent)
    _FILE_MEMO[key] = (st.st_mtime_ns, st.st_size, manifest)
    return manifest


def _decode(data: bytes, location: str, base_dir: Path | None) -> Manifest:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"manifest {location} is not valid JSON: {exc}") from None
    return parse_manifest(doc, location, base_dir)
