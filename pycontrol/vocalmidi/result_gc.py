"""Eviction of the result cache (``<cache root>/results/``): least recently used first,
down to a size cap, like the model cache's ``vocalmidi models gc``.

A result is "used" when it is written or read back. Reads are recorded by the access
time that :func:`mark_used` sets explicitly (file systems mounted ``relatime`` or
``noatime`` would not keep it); eviction orders entries by the later of access and
modification time. Removing a result never loses work: the next run that needs it
transcribes the file again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ResultGcReport", "gc_results", "mark_used", "results_dir"]

#: Temporary files older than this are left over by a killed writer.
STALE_TMP_SECONDS = 3600.0


@dataclass
class ResultGcReport:
    """What :func:`gc_results` found and removed."""

    evicted: int = 0
    temp_removed: int = 0
    freed: int = 0
    total_before: int = 0
    total_after: int = 0
    entries_after: int = 0
    errors: list[str] = field(default_factory=list)


def results_dir(root: Path | None = None) -> Path:
    """``<root>/results`` (root: ``$VOCALMIDI_CACHE`` or the user cache)."""
    if root is None:
        from vocalmidi.models.cache import cache_root

        root = cache_root()
    return Path(root) / "results"


def mark_used(path: Path) -> None:
    """Record that a cached result was just read (for least-recently-used eviction)."""
    try:
        os.utime(path, (time.time(), path.stat().st_mtime))
    except OSError:
        pass  # a read-only cache still works, it just cannot record use


def gc_results(max_size: int | None = None, root: Path | None = None) -> ResultGcReport:
    """Remove stale temporary files and, above ``max_size`` bytes, the least recently used
    results.

    Parameters
    ----------
    max_size : int or None
        Largest total size in bytes to keep; None only removes stale temporary files.
    root : Path or None
        Cache root (default: ``$VOCALMIDI_CACHE`` or the user cache).

    Returns
    -------
    ResultGcReport
    """
    report = ResultGcReport()
    folder = results_dir(root)
    entries: list[tuple[float, int, Path]] = []
    now = time.time()
    for path in sorted(folder.glob("*/*")) if folder.is_dir() else []:
        try:
            st = path.lstat()
        except OSError:
            continue  # removed by another process meanwhile
        if not path.is_file() or path.is_symlink():
            continue
        if path.suffix == ".tmp":
            if now - st.st_mtime > STALE_TMP_SECONDS and _remove(path, report):
                report.temp_removed += 1
                report.freed += st.st_size
            continue
        if path.suffix == ".json":
            entries.append((max(st.st_atime, st.st_mtime), st.st_size, path))
    total = sum(size for _, size, _ in entries)
    report.total_before = total
    if max_size is not None:
        entries.sort(key=lambda e: (e[0], str(e[2])))
        keep_from = 0
        for _used, size, path in entries:
            if total <= max_size:
                break
            keep_from += 1
            if _remove(path, report):
                report.evicted += 1
                report.freed += size
                total -= size
        entries = entries[keep_from:]
    report.total_after = total
    report.entries_after = len(entries)
    return report


def _remove(path: Path, report: ResultGcReport) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        report.errors.append(f"{path}: {exc.strerror or exc}")
        return False
    return True
