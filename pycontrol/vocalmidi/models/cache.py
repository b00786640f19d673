"""The on-disk model cache (layout fixed by docs/CONTRACTS.md).

::

    <root>/manifest.json             the manifest the files were pulled with
    <root>/models/<id>/<file-name>   verified files only (atomic rename after SHA-256)
    <root>/tmp/<id>/<file-name>.part partial downloads, resumed by the next pull
    <root>/locks/<id>.lock           cross-process locks (filelock)

The root is ``$VOCALMIDI_CACHE`` or ``platformdirs.user_cache_dir("vocalmidi")``.
Least-recently-used eviction reads the access time that :meth:`ModelCache.touch` sets
explicitly, so it works on file systems mounted ``noatime`` too.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import filelock

from vocalmidi.errors import ModelError
from vocalmidi.models.cache_location import cache_root
from vocalmidi.models.hashing import sha256_file
from vocalmidi.models.http import DownloadCancelled
from vocalmidi.models.http import cache_write_error as _write_error
from vocalmidi.models.manifest import (
    Manifest,
    ModelEntry,
    check_file_name,
    check_model_id,
    parse_manifest,
)


@dataclass(frozen=True)
class FileCheck:
    """Result of checking one cached file.

    ``state`` is ``"ok"``, ``"missing"``, ``"size"`` (wrong size), ``"hash"`` (wrong
    SHA-256) or ``"unsafe"`` (a link or not a regular file).
    """

    model_id: str
    name: str
    path: Path
    state: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ok"


class ModelCache:
    """A model cache at ``root`` (default: :func:`cache_root`).

    Parameters
    ----------
    root : str, Path or None
        Cache root; created lazily when something is written.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()
        self.models_dir = self.root / "models"
        self.tmp_dir = self.root / "tmp"
        self.locks_dir = self.root / "locks"

    # -- paths ---------------------------------------------------------------------------
    def model_dir(self, model_id: str) -> Path:
        """Folder of one model's verified files."""
        return self.models_dir / check_model_id(model_id)

    def file_path(self, model_id: str, name: str) -> Path:
        """Path of one verified file; the name is checked so it cannot leave the folder."""
        path = self.model_dir(model_id) / check_file_name(name)
        if path.parent != self.model_dir(model_id):  # belt and braces over the name check
            raise ModelError(f"unsafe file name {name!r}")
        return path

    def part_path(self, model_id: str, name: str) -> Path:
        """Path of the partial download of one file."""
        return self.tmp_dir / check_model_id(model_id) / f"{check_file_name(name)}.part"

    # -- locking ---------------------------------------------------------------------------
    @contextmanager
    def lock(
        self,
        model_id: str,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[None]:
        """Hold the cross-process lock of one model.

        Parameters
        ----------
        model_id : str
            Model to lock.
        timeout : float or None
            Seconds to wait for another process; ``None`` waits until it is done.
        cancel : threading.Event or None
            Stops waiting when set.

        Raises
        ------
        ModelError
            When the lock cannot be had within ``timeout``.
        CacheWriteError
            When the lock file cannot be created (read-only cache, no space).
        """
        with self._lock(f"{check_model_id(model_id)}.lock", model_id, timeout, cancel):
            yield

    @contextmanager
    def manifest_lock(self) -> Iterator[None]:
        """Hold the lock that serialises writes of ``<root>/manifest.json``."""
        with self._lock(".manifest.lock", "the manifest", None, None):
            yield

    @contextmanager
    def _lock(
        self,
        file_name: str,
        model_id: str,
        timeout: float | None,
        cancel: threading.Event | None,
    ) -> Iterator[None]:
        self._mkdir(self.locks_dir)
        lock = filelock.FileLock(str(self.locks_dir / file_name))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(f"cancelled while waiting for the lock of {model_id}")
            try:
                lock.acquire(timeout=0.2)
                break
            except filelock.Timeout:
                if deadline is not None and time.monotonic() > deadline:
                    raise ModelError(
                        f"another process holds the lock of {model_id} "
                        f"({lock.lock_file}) for more than {timeout:g} s"
                    ) from None
            except OSError as exc:
                raise _write_error(self.locks_dir, exc) from None
        try:
            yield
        finally:
            lock.release()

    # -- state -----------------------------------------------------------------------------
    def check_file(self, entry: ModelEntry, name: str, *, rehash: bool = True) -> FileCheck:
        """Check one cached file against the manifest (size, and SHA-256 when ``rehash``)."""
        spec = next(f for f in entry.files if f.name == name)
        path = self.file_path(entry.id, name)
        try:
            st = os.lstat(path)
            dir_st = os.lstat(path.parent)
        except FileNotFoundError:
            return FileCheck(entry.id, name, path, "missing")
        if not stat.S_ISREG(st.st_mode) or not stat.S_ISDIR(dir_st.st_mode):
            return FileCheck(entry.id, name, path, "unsafe", "not a regular file in a real folder")
        if st.st_size != spec.size:
            return FileCheck(
                entry.id, name, path, "size", f"{st.st_size} bytes, expected {spec.size}"
            )
        if rehash:
            actual = sha256_file(path)
            if actual != spec.sha256:
                return FileCheck(
                    entry.id, name, path, "hash", f"sha256 {actual}, expected {spec.sha256}"
                )
        return FileCheck(entry.id, name, path, "ok")

    def verify(self, entry: ModelEntry) -> list[FileCheck]:
        """Re-hash every file of a model."""
        return [self.check_file(entry, f.name) for f in entry.files]

    def status(self, entry: ModelEntry) -> str:
        """State from sizes only: ``cached``, ``partial``, ``missing`` or ``changed``."""
        checks = [self.check_file(entry, f.name, rehash=False) for f in entry.files]
        if all(c.ok for c in checks):
            return "cached"
        if any(c.state in ("size", "unsafe") for c in checks):
            return "changed"
        if any(self.part_path(entry.id, f.name).exists() for f in entry.files) or any(
            c.ok for c in checks
        ):
            return "partial"
        return "missing"

    def installed_ids(self) -> list[str]:
        """Ids of the model folders present in the cache."""
        try:
            names = sorted(p.name for p in self.models_dir.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []
        return names

    def model_size(self, model_id: str) -> int:
        """Bytes used by one model folder."""
        total = 0
        for path in _files(self.model_dir(model_id)):
            total += path.lstat().st_size
        return total

    def last_used(self, model_id: str) -> float:
        """Latest access time of the model's files (0 when it has none)."""
        times = [p.lstat().st_atime for p in _files(self.model_dir(model_id))]
        return max(times, default=0.0)

    def touch(self, model_id: str) -> None:
        """Mark a model as used now (for least-recently-used eviction)."""
        now = time.time()
        for path in _files(self.model_dir(model_id)):
            try:
                os.utime(path, (now, path.lstat().st_mtime), follow_symlinks=False)
            except OSError:
                pass  # a read-only cache still works, it just cannot record use

    # -- changes ---------------------------------------------------------------------------
    def place(self, part: Path, model_id: str, name: str) -> Path:
        """Move a verified partial file into place atomically."""
        dest = self.file_path(model_id, name)
        self._mkdir(dest.parent)
        if dest.parent.is_symlink():
            raise ModelError(f"refusing to write through a link at {dest.parent}")
        try:
            os.replace(part, dest)
        except OSError as exc:
            raise _write_error(dest.parent, exc) from None
        _fsync_dir(dest.parent)
        return dest

    def new_part(self, model_id: str, name: str, *, keep: bool) -> Path:
        """Return the partial-file path, emptied unless ``keep`` (resume)."""
        part = self.part_path(model_id, name)
        self._mkdir(part.parent)
        if not keep:
            self.drop_part(part)
        return part

    def drop_part(self, part: Path) -> None:
        """Delete a partial file if it exists."""
        try:
            part.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _write_error(part.parent, exc) from None

    def remove(self, model_id: str) -> int:
        """Delete a model's files and partial downloads; return the bytes freed."""
        freed = 0
        folder = self.model_dir(model_id)
        if folder.is_symlink():
            folder.unlink()
        elif folder.is_dir():
            freed = self.model_size(model_id)
            try:
                shutil.rmtree(folder)
            except OSError as exc:
                raise _write_error(folder, exc) from None
        shutil.rmtree(self.tmp_dir / model_id, ignore_errors=True)
        return freed

    def read_manifest(self) -> Manifest | None:
        """The manifest stored in the cache, or None when there is none or it is unreadable."""
        path = self.root / "manifest.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return parse_manifest(doc, str(path), None)
        except (OSError, ValueError, ModelError):
            return None

    def manifest_covers(self, manifest: Manifest, model_ids: list[str]) -> bool:
        """Whether ``<root>/manifest.json`` already says what ``manifest`` says of
        ``model_ids`` (their whole entries) and of everything but the models (presets,
        defaults, the default choice). Why the rest too: ``resolve_model`` and the plugin
        read presets and defaults from this copy, and a manifest that changed only a preset
        (2026-12-05: live-accurate moved to vocalnote-s) was never written here."""
        try:
            doc = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
            stored = {m["id"]: m for m in doc["models"]}
        except (OSError, ValueError, KeyError, TypeError):
            return False
        rest = {k: v for k, v in manifest.raw.items() if k != "models"}
        if {k: v for k, v in doc.items() if k != "models"} != rest:
            return False
        return all(stored.get(i) == manifest.model(i).raw for i in model_ids)

    def write_manifest(self, manifest: Manifest) -> Path:
        """Store ``manifest`` as ``<root>/manifest.json``.

        Entries of models that are in the cache but not in ``manifest`` are kept from the
        previous copy, so the plugin still finds their hashes.
        """
        doc = dict(manifest.raw)
        models = list(doc.get("models", []))
        previous = self.read_manifest()
        if previous is not None:
            present = set(self.installed_ids())
            for model_id, entry in previous.models.items():
                if model_id not in manifest.models and model_id in present:
                    models.append(entry.raw)
        doc["models"] = models
        path = self.root / "manifest.json"
        self._mkdir(self.root)
        tmp = self.root / f".manifest.json.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _write_error(self.root, exc) from None
        return path

    def total_size(self) -> int:
        """Bytes used by all model folders."""
        return sum(self.model_size(m) for m in self._valid_ids())

    def gc(self, max_size: int | None = None, *, keep: tuple[str, ...] = ()) -> GcReport:
        """Remove partial downloads and, above ``max_size``, least-recently-used models.

        Models whose lock another process holds (a pull in progress) are left alone.

        Parameters
        ----------
        max_size : int or None
            Largest total size in bytes of ``<root>/models`` to keep; None only removes
            partial downloads.
        keep : tuple of str
            Model ids never evicted.

        Returns
        -------
        GcReport
        """
        report = GcReport()
        if self.tmp_dir.is_dir():
            for folder in sorted(p for p in self.tmp_dir.iterdir() if p.is_dir()):
                self._try_locked(folder.name, lambda f=folder: _remove_tree(f, report))
        if max_size is not None:
            usage = sorted(self._valid_ids(), key=self.last_used)
            total = sum(self.model_size(m) for m in usage)
            for model_id in usage:
                if total <= max_size:
                    break
                if model_id in keep:
                    continue
                size = self.model_size(model_id)

                def evict(m: str = model_id, n: int = size) -> None:
                    self.remove(m)
                    report.evicted.append(m)
                    report.freed += n

                if self._try_locked(model_id, evict):
                    total -= size
        report.total_after = self.total_size()
        return report

    def _valid_ids(self) -> list[str]:
        ids = []
        for name in self.installed_ids():
            try:
                ids.append(check_model_id(name))
            except ModelError:
                continue
        return ids

    def _try_locked(self, model_id: str, action: Callable[[], None]) -> bool:
        """Run ``action`` under the model's lock if it is free; return whether it ran."""
        try:
            check_model_id(model_id)
        except ModelError:
            return False
        self._mkdir(self.locks_dir)
        lock = filelock.FileLock(str(self.locks_dir / f"{model_id}.lock"))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        try:
            action()
            return True
        finally:
            lock.release()

    def _mkdir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(path, exc) from None


@dataclass
class GcReport:
    """What :meth:`ModelCache.gc` removed."""

    evicted: list[str] = field(default_factory=list)
    parts_removed: int = 0
    freed: int = 0
    total_after: int = 0


def _remove_tree(folder: Path, report: GcReport) -> None:
    for part in folder.glob("*.part"):
        size = part.lstat().st_size
        part.unlink(missing_ok=True)
        report.parts_removed += 1
        report.freed += size
    shutil.rmtree(folder, ignore_errors=True)


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
