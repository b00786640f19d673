"""Fast, repeated access to cached models within one process.

The first call for a file checks its SHA-256; later calls only ``stat`` it and return the
remembered answer while its ``(path, mtime, size)`` is unchanged, so loading the same
model again in one process costs microseconds.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from vocalmidi.errors import ModelError
from vocalmidi.models.cache import ModelCache
from vocalmidi.models.manifest import Manifest, ModelEntry, load_manifest
from vocalmidi.models.pull import PullOptions, pull

_LOCK = threading.Lock()
_VERIFIED: dict[Path, tuple[int, int]] = {}
_BYTES: dict[Path, tuple[int, int, bytes]] = {}


def clear_memo() -> None:
    """Forget every remembered verification and loaded bytes."""
    with _LOCK:
        _VERIFIED.clear()
        _BYTES.clear()


def _key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_size)


def _resolve(
    model_id: str | None,
    manifest: Manifest | str | os.PathLike[str] | None,
    cache: ModelCache | str | os.PathLike[str] | None,
) -> tuple[Manifest, ModelEntry, ModelCache]:
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    store = cache if isinstance(cache, ModelCache) else ModelCache(cache)
    return man, man.model(model_id), store


def get_model_path(
    model_id: str | None = None,
    *,
    manifest: Manifest | str | os.PathLike[str] | None = None,
    cache: ModelCache | str | os.PathLike[str] | None = None,
    download: bool = True,
    options: PullOptions | None = None,
) -> Path:
    """Return the path of a model's ONNX file in the cache, pulling it when needed.

    Parameters
    ----------
    model_id : str or None
        Model id; ``None`` means the manifest's default model.
    manifest, cache
        As for :func:`~vocalmidi.models.pull.pull`.
    download : bool
        Pull a missing or damaged model (unless offline); when False, raise instead.
    options : PullOptions or None
        Options for that pull.

    Returns
    -------
    Path
        A verified file.

    Raises
    ------
    ModelError
        When the model is not cached and cannot be pulled.
    """
    man, entry, store = _resolve(model_id, manifest, cache)
    path = store.file_path(entry.id, entry.onnx_file.name)
    key = _key(path)
    with _LOCK:
        if key is not None and _VERIFIED.get(path) == key:
            return path
    if not _all_verified(entry, store):
        opts = options or PullOptions()
        if not download or opts.offline:
            raise ModelError(
                f"model {entry.id} is not in the cache at {store.root}: "
                f"run `vocalmidi models pull {entry.id}`"
            )
        pull([entry.id], manifest=man, cache=store, options=opts)
        if not _all_verified(entry, store):
            raise ModelError(f"model {entry.id} changed in the cache while it was being pulled")
    store.touch(entry.id)
    return path


def _all_verified(entry: ModelEntry, store: ModelCache) -> bool:
    for spec in entry.files:
        check = store.check_file(entry, spec.name)
        if not check.ok:
            return False
        key = _key(check.path)
        if key is not None:
            with _LOCK:
                _VERIFIED[check.path] = key
    return True


def load_bytes(
    model_id: str | None = None,
    *,
    manifest: Manifest | str | os.PathLike[str] | None = None,
    cache: ModelCache | str | os.PathLike[str] | None = None,
    download: bool = True,
    options: PullOptions | None = None,
) -> bytes:
    """Return the bytes of a model's ONNX file (see :func:`get_model_path`).

    Repeated calls return the same ``bytes`` object while the file is unchanged.
    """
    path = get_model_path(
        model_id, manifest=manifest, cache=cache, download=download, options=options
    )
    key = _key(path)
    with _LOCK:
        hit = _BYTES.get(path)
        if hit is not None and key is not None and hit[:2] == key:
            return hit[2]
    data = path.read_bytes()
    if key is not None:
        with _LOCK:
            _BYTES[path] = (key[0], key[1], data)
    return data
