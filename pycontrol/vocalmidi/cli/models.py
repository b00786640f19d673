"""`vocalmidi models list|info|pull|verify|rm|gc`: the model cache from the command line."""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

from vocalmidi.errors import ModelError, UsageError
from vocalmidi.models import (
    Manifest,
    ModelCache,
    Progress,
    PullOptions,
    load_manifest,
    offline_from_env,
    pull,
)
from vocalmidi.models.manifest import check_model_id


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON")
    common.add_argument(
        "--manifest",
        metavar="PATH_OR_URL",
        help="manifest to use (default: $VOCALMIDI_MANIFEST, then the bundled one)",
    )
    common.add_argument(
        "--cache", metavar="DIR", help="cache root (default: $VOCALMIDI_CACHE or the user cache)"
    )
    common.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="use only the cache (also $VOCALMIDI_OFFLINE=1)",
    )
    common.add_argument(
        "--allow-http", action="store_true", help="accept plain http URLs (local servers)"
    )

    p = sub.add_parser("models", help="list, pull, verify and clean the model cache")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    a = msub.add_parser("list", parents=[common], help="models in the manifest and their state")
    a.add_argument("--cached", action="store_true", help="only models present in the cache")
    a.set_defaults(func=_list)

    a = msub.add_parser("info", parents=[common], help="everything about one model")
    a.add_argument("model", nargs="?", help="model id (default: the default model)")
    a.set_defaults(func=_info)

    a = msub.add_parser("pull", parents=[common], help="fetch and verify models into the cache")
    a.add_argument("models", nargs="*", metavar="MODEL", help="model ids (default: the default)")
    a.add_argument("--preset", help="pull the models of a preset, e.g. live-fast")
    a.add_argument("--all", action="store_true", help="pull every model of the manifest")
    a.add_argument("--force", action="store_true", help="fetch again even when cached")
    a.add_argument("--jobs", type=int, default=4, help="models fetched at once (default 4)")
    a.add_argument("--timeout", type=float, default=30.0, help="seconds per connect/read")
    a.add_argument("--retries", type=int, default=4, help="retries after a failure (default 4)")
    a.set_defaults(func=_pull)

    a = msub.add_parser("verify", parents=[common], help="re-hash cached files")
    a.add_argument("models", nargs="*", metavar="MODEL", help="model ids (default: all cached)")
    a.set_defaults(func=_verify)

    a = msub.add_parser("rm", parents=[common], help="delete models from the cache")
    a.add_argument("models", nargs="*", metavar="MODEL", help="model ids")
    a.add_argument("--all", action="store_true", help="delete every cached model")
    a.set_defaults(func=_rm)

    a = msub.add_parser(
        "gc", parents=[common], help="drop partial downloads; evict least-recently-used models"
    )
    a.add_argument("--max-size", metavar="SIZE", help="keep the cache under SIZE, e.g. 200M, 1G")
    a.set_defaults(func=_gc)


# -- helpers ---------------------------------------------------------------------------------
def choice_summary(choice: dict[str, Any]) -> str:
    """One line on why the default model is the default (the manifest's default_choice)."""
    f1 = choice.get("note_f1_50", {})
    conds = ", ".join(f"{c} {100 * v:.0f}%" for c, v in f1.items() if v is not None)
    lat = choice.get("emission_latency_ms", {})
    at = "256" if "256" in lat else next(iter(lat), None)
    live = (f"; emission latency at {at} samples: median {lat[at]['median_ms']} ms, "
            f"p95 {lat[at]['p95_ms']} ms" if at else "")
    return (f"{choice.get('system')} ({choice.get('latency_mode')} mode), note F1@50ms "
            f"{conds}{live}; {choice.get('date')}: {choice.get('command')}")


def _cache(args: argparse.Namespace) -> ModelCache:
    return ModelCache(args.cache)


def _offline(args: argparse.Namespace) -> bool:
    return bool(args.offline) if args.offline is not None else offline_from_env()


def _manifest(args: argparse.Namespace, cache: ModelCache) -> Manifest:
    try:
        return load_manifest(args.manifest, allow_http=args.allow_http)
    except ModelError:
        # Offline with no bundled manifest: fall back to the copy kept in the cache.
        if args.manifest is None:
            cached = cache.read_manifest()
            if cached is not None:
                return cached
        raise


def _emit(args: argparse.Namespace, data: Any, text: Callable[[], None]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        text()


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Parse ``"500M"``, ``"1.5G"``, ``"200MiB"`` or plain bytes (K, M, G, T are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"invalid size {text!r}: use bytes or a number with K, M, G or T")
    scale = 1024 ** " kmgt".index((match.group(2) or " ").lower())
    return int(float(match.group(1)) * scale)


# -- actions ---------------------------------------------------------------------------------
def _list(args: argparse.Namespace) -> int:
    cache = _cache(args)
    manifest = _manifest(args, cache)
    rows = []
    for entry in manifest.models.values():
        status = cache.status(entry)
        if args.cached and status != "cached":
            continue
        rows.append(
            {
                "id": entry.id,
                "name": entry.name,
                "task": entry.task,
                "adapter": entry.adapter,
                "license": entry.license,
                "size": entry.size,
                "status": status,
                "default": entry.id == manifest.default_model,
                "default_for_files": entry.id == manifest.default_file_model,
                "path": str(cache.file_path(entry.id, entry.onnx_file.name)),
            }
        )
    data = {
        "cache": str(cache.root),
        "manifest": manifest.location,
        "default_model": manifest.default_model,
        "default_file_model": manifest.default_file_model,
        "presets": {k: v["pipeline"] for k, v in manifest.presets.items()},
        "models": rows,
        "default_choice": manifest.raw.get("default_choice"),
    }

    def text() -> None:
        # The id column fits the longest id (vocalnote-offline-s ran into TASK at 14).
        w = max([len("ID"), *(len(r["id"]) for r in rows)]) + 2
        print(f"{'ID':<{w}}{'TASK':<7}{'SIZE':>10}  {'STATUS':<8}{'LICENSE':<12}NAME")
        for r in rows:
            mark = (" (default)" if r["default"] else
                    " (default for files)" if r["default_for_files"] else "")
            print(
                f"{r['id']:<{w}}{r['task']:<7}{_human(r['size']):>10}  {r['status']:<8}"
                f"{r['license']:<12}{r['name']}{mark}"
            )
        if data["default_choice"]:
            print("default chosen by: " + choice_summary(data["default_choice"]))
        print(f"cache: {cache.root}")

    _emit(args, data, text)
    return 0


def _info(args: argparse.Namespace) -> int:
    cache = _cache(args)
    manifest = _manifest(args, cache)
    entry = manifest.model(args.model)
    checks = [cache.check_file(entry, f.name, rehash=False) for f in entry.files]
    data = dict(entry.raw)
    data["status"] = cache.status(entry)
    data["default"] = entry.id == manifest.default_model
    choice = manifest.raw.get("default_choice") if data["default"] else None
    if choice:
        data["default_choice"] = choice
    data["cache_files"] = [
        {"name": c.name, "path": str(c.path), "state": c.state, "detail": c.detail} for c in checks
    ]

    def text() -> None:
        for key in ("id", "name", "task", "adapter", "license", "sample_rate", "hop", "lookahead"):
            print(f"{key:<12}{entry.raw.get(key)}")
        print(f"{'status':<12}{data['status']}")
        for c in checks:
            print(f"{'file':<12}{c.path} ({c.state})")
        if choice:
            print(f"{'default':<12}{choice_summary(choice)}")

    _emit(args, data, text)
    return 0


def _pull(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    cache = _cache(args)
    options = PullOptions(
        offline=_offline(args),
        allow_http=args.allow_http,
        timeout=args.timeout,
        retries=max(0, args.retries),
        jobs=args.jobs,
        force=args.force,
    )
    manifest = _manifest(args, cache)
    if args.preset and (args.models or args.all):
        raise UsageError("give model ids, --all or --preset, not several")
    if args.preset:
        ids = manifest.preset_models(args.preset)
    elif args.all:
        ids = list(manifest.models)
    else:
        ids = args.models or manifest.default_ids()
    show_bars = not args.json and sys.stderr.isatty()
    with _ProgressView(show_bars, quiet=args.json) as view:
        options.progress = view.update
        results = _run_cancellable(
            lambda: pull(ids, manifest=manifest, cache=cache, options=options), options.cancel
        )
    data = {
        "cache": str(cache.root),
        "models": [
            {
                "id": r.model_id,
                "onnx_path": str(r.onnx_path),
                "paths": [str(p) for p in r.paths],
                "fetched": r.fetched,
            }
            for r in results
        ],
    }

    def text() -> None:
        w = max([0, *(len(r.model_id) for r in results)]) + 2  # the longest id fits
        for r in results:
            state = "fetched" if r.fetched else "cached"
            print(f"{r.model_id:<{w}}{state:<9}{r.onnx_path}")

    _emit(args, data, text)
    return 0


def _run_cancellable(work: Callable[[], Any], cancel: threading.Event) -> Any:
    """Run ``work`` in a thread so Ctrl-C can set ``cancel`` and wait for a clean stop."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="vocalmidi-pull", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        cancel.set()
        thread.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


class _ProgressView:
    """Rich progress bars on a terminal; one line per finished file otherwise."""

    def __init__(self, bars: bool, quiet: bool) -> None:
        self.bars = bars
        self.quiet = quiet
        self._lock = threading.Lock()
        self._tasks: dict[tuple[str, str], Any] = {}
        self._progress: Any = None

    def __enter__(self) -> _ProgressView:
        if self.bars:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, p: Progress) -> None:
        key = (p.model_id, p.file_name)
        label = f"{p.model_id}/{p.file_name}"
        with self._lock:
            if self._progress is None:
                if not self.quiet and p.phase in ("done", "cached"):
                    word = "fetched" if p.phase == "done" else "cached "
                    print(f"{word} {label} ({_human(p.total or p.done)})", file=sys.stderr)
                return
            if key not in self._tasks:
                self._tasks[key] = self._progress.add_task(label, total=p.total)
            task = self._tasks[key]
            suffix = {"verify": " (verifying)", "cached": " (cached)"}.get(p.phase, "")
            self._progress.update(task, completed=p.done, total=p.total, description=label + suffix)


def _verify(args: argparse.Namespace) -> int:
    cache = _cache(args)
    manifest = _manifest(args, cache)
    stored = cache.read_manifest()
    ids = args.models or cache.installed_ids()
    results = []
    for model_id in ids:
        check_model_id(model_id)
        entry = manifest.models.get(model_id) or (stored.models.get(model_id) if stored else None)
        if entry is None:
            results.append(
                {
                    "model": model_id,
                    "name": None,
                    "state": "unknown",
                    "path": None,
                    "detail": "not in the manifest",
                }
            )
            continue
        for c in cache.verify(entry):
            results.append(
                {
                    "model": c.model_id,
                    "name": c.name,
                    "state": c.state,
                    "path": str(c.path),
                    "detail": c.detail,
                }
            )
    ok = all(r["state"] == "ok" for r in results)
    data = {"cache": str(cache.root), "ok": ok, "files": results}

    def text() -> None:
        if not results:
            print(f"no models in the cache at {cache.root}")
        for r in results:
            where = f"{r['model']}/{r['name']}" if r["name"] else r["model"]
            detail = f" ({r['detail']})" if r["detail"] else ""
            print(f"{r['state']:<8}{where}{detail}")

    _emit(args, data, text)
    if not ok:
        bad = sum(r["state"] != "ok" for r in results)
        print(
            f"vocalmidi: error: {bad} cached file(s) failed verification: "
            f"run `vocalmidi models pull MODEL` to fetch them again",
            file=sys.stderr,
        )
        return ModelError.exit_code
    return 0


def _rm(args: argparse.Namespace) -> int:
    cache = _cache(args)
    if args.all == bool(args.models):
        raise UsageError("give model ids or --all")
    ids = cache.installed_ids() if args.all else [check_model_id(m) for m in args.models]
    missing = [m for m in ids if m not in cache.installed_ids()]
    if missing:
        raise ModelError(f"not in the cache at {cache.root}: {', '.join(missing)}")
    freed = 0
    for model_id in ids:
        with cache.lock(model_id, timeout=10.0):
            freed += cache.remove(model_id)
    data = {"cache": str(cache.root), "removed": ids, "freed": freed}
    _emit(args, data, lambda: print(f"removed {', '.join(ids) or 'nothing'} ({_human(freed)})"))
    return 0


def _gc(args: argparse.Namespace) -> int:
    cache = _cache(args)
    max_size = parse_size(args.max_size) if args.max_size is not None else None
    report = cache.gc(max_size)
    data = {
        "cache": str(cache.root),
        "evicted": report.evicted,
        "parts_removed": report.parts_removed,
        "freed": report.freed,
        "total_after": report.total_after,
    }

    def text() -> None:
        print(
            f"evicted {', '.join(report.evicted) or 'nothing'}; removed {report.parts_removed} "
            f"partial download(s); freed {_human(report.freed)}; "
            f"cache now {_human(report.total_after)}"
        )

    _emit(args, data, text)
    return 0
