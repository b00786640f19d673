"""Shared pieces of the live measurements: emission latency, real-time pacing, CPU, memory.

Emission latency is the time a note-on leaves the plugin (or engine) minus the true
onset of the note it stands for. :func:`emission_latencies` pairs note-ons with the
ground truth; :class:`Pacer` feeds blocks at the pace a sound card would, so the ML
thread gets the time it would really have (and no more); :func:`thread_cpu_seconds` and
:func:`memory_mb` read what the process used from ``/proc`` (Linux).

Both the host-level sweep (:mod:`vocalmidi.eval.sweep`) and the engine benchmarks use
these, so the two measure the same thing the same way.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vocalmidi.notes import Note

__all__ = [
    "EmissionStats",
    "Pacer",
    "emission_latencies",
    "memory_mb",
    "other_threads_cpu",
    "thread_cpu_seconds",
]

EARLY_S = 0.05
"""A note-on this much before the true onset still counts (sample-accurate truth vs.
voice patches that start sounding a few ms before their note-on is not an issue, but
legato overlaps can make a tracker switch a hair early)."""


@dataclass
class EmissionStats:
    """Emission latencies of the notes that were found.

    Attributes
    ----------
    n_truth : int
        Notes in the ground truth.
    n_note_ons : int
        Note-ons emitted.
    latencies_ms : list of float
        For each true note matched by a note-on of the same pitch, emitted minus true
        onset in milliseconds.
    """

    n_truth: int
    n_note_ons: int
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.latencies_ms)

    @property
    def recall(self) -> float:
        """Share of true notes that got a note-on of their pitch within the window."""
        return self.matched / self.n_truth if self.n_truth else 0.0

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else None

    @property
    def median_ms(self) -> float | None:
        return self.percentile(50)

    @property
    def p95_ms(self) -> float | None:
        return self.percentile(95)

    def merge(self, other: EmissionStats) -> EmissionStats:
        return EmissionStats(self.n_truth + other.n_truth, self.n_note_ons + other.n_note_ons,
                             self.latencies_ms + other.latencies_ms)

    def as_dict(self) -> dict[str, float | int | None]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)

        return {"n_truth": self.n_truth, "n_note_ons": self.n_note_ons,
                "matched": self.matched, "recall": round(self.recall, 4),
                "median_ms": r(self.median_ms), "p95_ms": r(self.p95_ms),
                "mean_ms": r(float(np.mean(self.latencies_ms))) if self.latencies_ms else None}


def emission_latencies(
    truth: Sequence[Note],
    note_ons: Iterable[tuple[float, int]],
    window_s: float = 0.5,
) -> EmissionStats:
    """Pair true notes with the note-ons emitted for them.

    Each true note, in onset order, takes the first unused note-on of the same MIDI pitch
    emitted between ``EARLY_S`` before its onset and ``window_s`` after it. Notes that
    none matches (missed, or emitted at another pitch) have no latency; see
    :attr:`EmissionStats.recall`.

    Parameters
    ----------
    truth : sequence of Note
        Ground truth, times in seconds.
    note_ons : iterable of (seconds, pitch)
        When each note-on left, and its note number.
    window_s : float
        The latest a note-on may come after its onset and still count.
    """
    ons = sorted((float(t), int(p)) for t, p in note_ons)
    used = [False] * len(ons)
    times = np.array([t for t, _ in ons])
    lat: list[float] = []
    for note in sorted(truth, key=lambda n: n.start):
        lo = int(np.searchsorted(times, note.start - EARLY_S, side="left"))
        for i in range(lo, len(ons)):
            t, p = ons[i]
            if t > note.start + window_s:
                break
            if not used[i] and p == note.pitch:
                used[i] = True
                lat.append(1000.0 * (t - note.start))
                break
    return EmissionStats(len(truth), len(ons), lat)


class Pacer:
    """Waits like an audio callback: block ``k`` is due when its last sample was captured.

    Parameters
    ----------
    sample_rate : float
        Stream rate in Hz.

    Notes
    -----
    Feeding faster than real time would let the ML thread fall behind (and drop frames);
    feeding slower would hide that it cannot keep up. ``late`` counts blocks whose
    processing ended after the next block was due (an audio-driver overrun).
    """

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = float(sample_rate)
        self._t0 = time.perf_counter()
        self._fed = 0
        self.late = 0
        self.blocks = 0

    def restart(self) -> None:
        self._t0 = time.perf_counter()
        self._fed = 0

    def wait(self, n: int) -> None:
        """Sleep until a block of ``n`` more samples would have been captured."""
        self._fed += int(n)
        self.blocks += 1
        delay = self._t0 + self._fed / self.sample_rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)

    def done(self, next_n: int) -> None:
        """Call after processing; counts an overrun when the next block is already due."""
        if time.perf_counter() > self._t0 + (self._fed + next_n) / self.sample_rate:
            self.late += 1


def thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) used so far by each thread of this process, by id.

    Empty where ``/proc`` is absent. Resolution is one clock tick (10 ms).
    """
    out: dict[int, float] = {}
    try:
        tids = os.listdir("/proc/self/task")
        tick = float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def other_threads_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds all threads but the calling one used between two snapshots."""
    me = threading.get_native_id()
    return sum(v - before.get(tid, 0.0) for tid, v in after.items() if tid != me)


def memory_mb() -> dict[str, float | None]:
    """Resident memory now (``rss``) and at its peak (``peak``), MiB; None if unknown."""
    out: dict[str, float | None] = {"rss": None, "peak": None}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out["rss" if key == "VmRSS" else "peak"] = int(rest.split()[0]) / 1024.0
    except OSError:
        import resource

        out["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out
