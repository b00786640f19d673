"""Progress reports for downloads: bytes done, speed, time left.

The API hands :class:`Progress` objects to a callback; the CLI draws them as rich progress
bars. Reports are throttled so a callback is not called for every 64 KiB chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds between two reports of the same file (the first and last are always sent).
REPORT_INTERVAL = 0.1


@dataclass(frozen=True)
class Progress:
    """One progress report for one file of one model.

    Attributes
    ----------
    model_id : str
        The model the file belongs to.
    file_name : str
        The file's name in the cache.
    phase : str
        ``"fetch"`` while bytes arrive, ``"verify"`` while hashing, ``"done"`` when the file
        was placed in the cache, ``"cached"`` when it was already there.
    done : int
        Bytes fetched so far (including bytes resumed from an earlier attempt).
    total : int or None
        Expected size in bytes, when known.
    speed : float
        Recent download speed in bytes per second (0 when unknown).
    eta : float or None
        Seconds left at the recent speed, when it can be estimated.
    """

    model_id: str
    file_name: str
    phase: str
    done: int
    total: int | None
    speed: float = 0.0
    eta: float | None = None


ProgressCallback = Callable[[Progress], None]


class ProgressReporter:
    """Turns ``(done, total)`` byte counts into throttled :class:`Progress` reports.

    Parameters
    ----------
    model_id, file_name : str
        What the reports are about.
    callback : callable or None
        Receives each report; ``None`` makes the reporter a no-op.
    clock : callable
        Monotonic clock in seconds (tests may pass their own).
    """

    def __init__(
        self,
        model_id: str,
        file_name: str,
        callback: ProgressCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model_id = model_id
        self.file_name = file_name
        self._callback = callback
        self._clock = clock
        self._last_report = -1.0
        self._speed = 0.0
        self._mark: tuple[float, int] | None = None

    def phase(self, phase: str, done: int, total: int | None) -> None:
        """Send a report for a phase change (always sent)."""
        self._send(phase, done, total)

    def bytes(self, done: int, total: int | None) -> None:
        """Record fetch progress; sends a report at most every ``REPORT_INTERVAL``."""
        now = self._clock()
        if self._mark is None:
            self._mark = (now, done)
        else:
            t0, d0 = self._mark
            elapsed = now - t0
            if elapsed >= 0.25:
                rate = (done - d0) / elapsed
                # Exponential smoothing keeps the ETA from jumping with every chunk.
                self._speed = rate if self._speed == 0 else 0.7 * self._speed + 0.3 * rate
                self._mark = (now, done)
            elif self._speed == 0 and elapsed > 0.02 and done > d0:
                self._speed = (done - d0) / elapsed  # a first estimate for short files
        if self._callback is None:
            return
        finished = total is not None and done >= total
        if finished or now - self._last_report >= REPORT_INTERVAL:
            self._last_report = now
            self._send("fetch", done, total)

    def _send(self, phase: str, done: int, total: int | None) -> None:
        if self._callback is None:
            return
        eta = None
        if total is not None and self._speed > 0:
            eta = max(0.0, (total - done) / self._speed)
        self._callback(
            Progress(self.model_id, self.file_name, phase, done, total, self._speed, eta)
        )
