"""Pull models into the cache: lock, fetch, verify, place atomically, record the manifest.

For each model :func:`pull` holds the model's cross-process lock, and for each file:
returns at once when a verified copy is cached; otherwise fetches the file from its
sources in order into ``<root>/tmp/<id>/<name>.part`` (resuming an interrupted HTTP
download), checks its SHA-256, and only then renames it into ``<root>/models/<id>/``.
A file with a wrong hash is deleted and never reaches the cache.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vocalmidi.errors import DownloadError, ModelError, VocalMidiError
from vocalmidi.models.cache import ModelCache
from vocalmidi.models.hashing import sha256_file
from vocalmidi.models.http import CacheWriteError, DownloadCancelled, HttpOptions
from vocalmidi.models.manifest import FileEntry, Manifest, ModelEntry, load_manifest
from vocalmidi.models.progress import ProgressCallback, ProgressReporter
from vocalmidi.models.sources import NETWORK_SOURCES, FetchContext, describe, fetch
from vocalmidi.models.wheel import WheelFetcher


def offline_from_env() -> bool:
    """True when ``$VOCALMIDI_OFFLINE`` is set to a true value (1, yes, true, on)."""
    return os.environ.get("VOCALMIDI_OFFLINE", "").strip().lower() in ("1", "yes", "true", "on")


@dataclass
class PullOptions:
    """How to pull.

    Attributes
    ----------
    offline : bool
        Use only the cache (and local ``path``/``derived`` sources); default from
        ``$VOCALMIDI_OFFLINE``.
    allow_http : bool
        Accept plain ``http://`` sources (local servers only).
    timeout : float
        Seconds a connect or a read may take.
    retries : int
        Retries after a retryable failure (connection lost, time-out, 5xx).
    backoff : float
        First wait between retries in seconds; doubled each time.
    jobs : int
        Models fetched at the same time.
    lock_timeout : float or None
        Seconds to wait for another process pulling the same model (None: wait).
    force : bool
        Fetch again even when a verified copy is cached.
    cancel : threading.Event
        Set it (from any thread) to stop; partial downloads are kept for resuming.
    progress : callable or None
        Receives :class:`~vocalmidi.models.progress.Progress` reports.
    """

    offline: bool = field(default_factory=offline_from_env)
    allow_http: bool = False
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    jobs: int = 4
    lock_timeout: float | None = None
    force: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: ProgressCallback | None = None

    def http(self) -> HttpOptions:
        return HttpOptions(
            timeout=self.timeout,
            retries=self.retries,
            backoff=self.backoff,
            allow_http=self.allow_http,
        )


@dataclass
class PullResult:
    """What one model's pull did.

    Attributes
    ----------
    model_id : str
    paths : list of Path
        The cached files, in manifest order.
    fetched : list of str
        Names of files that were fetched now (empty on a full cache hit).
    requests : int
        HTTP requests made for this model.
    onnx_path : Path
        The file the engine loads.
    """

    model_id: str
    paths: list[Path]
    fetched: list[str]
    requests: int
    onnx_path: Path


def pull(
    model_ids: Sequence[str] | None = None,
    *,
    manifest: Manifest | str | os.PathLike[str] | None = None,
    cache: ModelCache | str | os.PathLike[str] | None = None,
    options: PullOptions | None = None,
) -> list[PullResult]:
    """Make models available in the cache.

    Parameters
    ----------
    model_ids : sequence of str or None
        Models to pull; ``None`` or empty pulls the manifest's default models (the
        plugin's and the one for files, :meth:`Manifest.default_ids`).
    manifest : Manifest, path, URL or None
        The manifest (see :func:`~vocalmidi.models.manifest.load_manifest`).
    cache : ModelCache, path or None
        The cache (default: ``$VOCALMIDI_CACHE`` or the user cache folder).
    options : PullOptions or None
        Offline mode, time-outs, retries, concurrency, cancellation, progress.

    Returns
    -------
    list of PullResult
        One per requested model, in request order.

    Raises
    ------
    ModelError
        Unknown model, invalid manifest.
    DownloadError
        A file could not be fetched or verified (first failure; the other models are
        still pulled). ``DownloadCancelled`` when cancelled.
    """
    opts = options or PullOptions()
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest, allow_http=opts.allow_http, timeout=opts.timeout)
    store = cache if isinstance(cache, ModelCache) else ModelCache(cache)
    ids = list(dict.fromkeys(model_ids or manifest.default_ids()))
    entries = [manifest.model(i) for i in ids]
    # Models that derived variants start from are pulled first.
    bases = [manifest.model(d) for e in entries for d in e.depends_on() if d not in ids]
    with tempfile.TemporaryDirectory(prefix="vocalmidi-pull-") as scratch:
        wheels = WheelFetcher(Path(scratch), timeout=opts.timeout, retries=opts.retries)
        ordered = bases + [e for e in entries if not e.depends_on()]
        derived = [e for e in entries if e.depends_on()]
        results: dict[str, PullResult] = {}
        errors: list[VocalMidiError] = []
        for group in (ordered, derived):
            for entry, outcome in zip(
                group, _run_group(group, manifest, store, opts, wheels), strict=True
            ):
                if isinstance(outcome, PullResult):
                    results[entry.id] = outcome
                else:
                    errors.append(outcome)
            if errors:
                break
    fetched_any = any(r.fetched for r in results.values())
    if results and (fetched_any or not store.manifest_covers(manifest, list(results))):
        with store.manifest_lock():
            store.write_manifest(manifest)
    if errors:
        cancelled = [e for e in errors if isinstance(e, DownloadCancelled)]
        raise cancelled[0] if cancelled else errors[0]
    return [results[i] for i in ids]


def _run_group(
    group: list[ModelEntry],
    manifest: Manifest,
    store: ModelCache,
    opts: PullOptions,
    wheels: WheelFetcher,
) -> list[PullResult | VocalMidiError]:
    def one(entry: ModelEntry) -> PullResult | VocalMidiError:
        try:
            return _pull_model(entry, manifest, store, opts, wheels)
        except VocalMidiError as exc:
            return exc

    if len(group) <= 1 or opts.jobs <= 1:
        return [one(e) for e in group]
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        return list(pool.map(one, group))


def _pull_model(
    entry: ModelEntry,
    manifest: Manifest,
    store: ModelCache,
    opts: PullOptions,
    wheels: WheelFetcher,
) -> PullResult:
    # A cheap look first: a fully cached model needs no lock (files are only ever
    # replaced atomically, so a reader sees an old or a new verified file).
    if not opts.force:
        checks = store.verify(entry)
        if all(c.ok for c in checks):
            for spec in entry.files:
                ProgressReporter(entry.id, spec.name, opts.progress).phase(
                    "cached", spec.size, spec.size
                )
            store.touch(entry.id)
            onnx = store.file_path(entry.id, entry.onnx_file.name)
            return PullResult(entry.id, [c.path for c in checks], [], 0, onnx)
    with store.lock(entry.id, timeout=opts.lock_timeout, cancel=opts.cancel):
        fetched: list[str] = []
        requests = 0
        paths: list[Path] = []
        for spec in entry.files:
            path, was_fetched, n = _pull_file(entry, spec, manifest, store, opts, wheels)
            paths.append(path)
            requests += n
            if was_fetched:
                fetched.append(spec.name)
        store.touch(entry.id)
    onnx = store.file_path(entry.id, entry.onnx_file.name)
    return PullResult(entry.id, paths, fetched, requests, onnx)


def _pull_file(
    entry: ModelEntry,
    spec: FileEntry,
    manifest: Manifest,
    store: ModelCache,
    opts: PullOptions,
    wheels: WheelFetcher,
) -> tuple[Path, bool, int]:
    reporter = ProgressReporter(entry.id, spec.name, opts.progress)
    if not opts.force:
        # Another process may have placed it while we waited for the lock.
        check = store.check_file(entry, spec.name)
        if check.ok:
            reporter.phase("cached", spec.size, spec.size)
            return check.path, False, 0
    usable = [s for s in spec.sources if not (opts.offline and s["type"] in NETWORK_SOURCES)]
    if not usable:
        raise DownloadError(
            f"offline: {entry.id}/{spec.name} is not in the cache at {store.root}; "
            f"pull it while online (unset VOCALMIDI_OFFLINE)"
        )
    ctx = FetchContext(
        manifest,
        store,
        opts.http(),
        wheels,
        opts.cancel,
        on_bytes=lambda done, total: reporter.bytes(done, total if total else spec.size),
    )
    failures: list[str] = []
    for source in usable:
        resumable = source["type"] == "url"
        # A resumed download whose hash fails is retried once from scratch: the bytes
        # kept from an earlier attempt may be what is wrong.
        for fresh in (False, True) if resumable else (True,):
            part = store.new_part(entry.id, spec.name, keep=not fresh)
            resumed = part.exists() and part.stat().st_size > 0
            try:
                fetch(source, part, spec.size, ctx)
            except DownloadCancelled:
                raise
            except DownloadError as exc:
                if isinstance(exc, CacheWriteError):
                    raise
                failures.append(f"{describe(source)}: {_without_prefix(str(exc), source)}")
                break
            reporter.phase("verify", spec.size, spec.size)
            actual = sha256_file(part)
            if actual == spec.sha256 and part.stat().st_size == spec.size:
                dest = store.place(part, entry.id, spec.name)
                reporter.phase("done", spec.size, spec.size)
                return dest, True, ctx.requests
            store.drop_part(part)
            if resumed and not fresh:
                continue
            failures.append(
                f"{describe(source)}: sha256 {actual} does not match the pinned {spec.sha256}"
            )
            break
    detail = "; ".join(failures)
    raise DownloadError(f"could not get {entry.id}/{spec.name}: {detail}")


def _without_prefix(message: str, source: dict[str, object]) -> str:
    prefix = f"{source.get('url')}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def pull_preset(
    preset: str,
    *,
    manifest: Manifest | str | os.PathLike[str] | None = None,
    cache: ModelCache | str | os.PathLike[str] | None = None,
    options: PullOptions | None = None,
) -> list[PullResult]:
    """Pull every model a preset's pipeline uses (see :func:`pull`)."""
    opts = options or PullOptions()
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest, allow_http=opts.allow_http, timeout=opts.timeout)
    ids = manifest.preset_models(preset)
    if not ids:
        raise ModelError(f"preset {preset!r} uses no models")
    return pull(ids, manifest=manifest, cache=cache, options=opts)
