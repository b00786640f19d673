"""The note type every part of vocalmidi passes around.

A :class:`Note` is one sung note: when it starts and ends (seconds from the start of the
take), its MIDI pitch, its velocity and, optionally, how its pitch moved around the
nominal pitch (a pitch-bend curve in semitones).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Note", "hz_to_midi", "midi_to_hz", "notes_to_arrays", "sort_notes"]


@dataclass(frozen=True)
class Note:
    """One note.

    Parameters
    ----------
    start : float
        Onset in seconds from the start of the take.
    end : float
        Offset in seconds; ``end >= start``.
    pitch : int
        MIDI note number, 0..127 (60 is middle C).
    velocity : int
        MIDI velocity, 1..127.
    bend : tuple of (float, float), optional
        Pitch-bend curve as ``(time_s, semitones)`` pairs; times are absolute seconds
        like ``start``, semitones are relative to ``pitch``. Empty when unknown or flat.
    """

    start: float
    end: float
    pitch: int
    velocity: int = 100
    bend: tuple[tuple[float, float], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"note times must be finite, got start={self.start} end={self.end}")
        if self.start < 0 or self.end < self.start:
            raise ValueError(
                f"a note needs 0 <= start <= end, got start={self.start} end={self.end}"
            )
        if not 0 <= int(self.pitch) <= 127 or int(self.pitch) != self.pitch:
            raise ValueError(f"note pitch must be a MIDI number 0..127, got {self.pitch}")
        if not 1 <= int(self.velocity) <= 127 or int(self.velocity) != self.velocity:
            raise ValueError(f"note velocity must be 1..127, got {self.velocity}")
        # Normalise numpy scalars and lists so notes compare, hash and serialise cleanly.
        object.__setattr__(self, "start", float(self.start))
        object.__setattr__(self, "end", float(self.end))
        object.__setattr__(self, "pitch", int(self.pitch))
        object.__setattr__(self, "velocity", int(self.velocity))
        object.__setattr__(self, "bend", tuple((float(t), float(s)) for t, s in self.bend))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @property
    def pitch_hz(self) -> float:
        """Nominal frequency of ``pitch`` in Hz (A4 = 440 Hz)."""
        return midi_to_hz(self.pitch)

    def shifted(self, seconds: float) -> Note:
        """Return a copy moved in time by ``seconds`` (bend curve included)."""
        return Note(
            max(0.0, self.start + seconds),
            max(0.0, self.end + seconds),
            self.pitch,
            self.velocity,
            tuple((t + seconds, s) for t, s in self.bend),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: ``start``, ``end``, ``pitch``, ``velocity`` (+ ``bend`` if any)."""
        d: dict[str, Any] = {
            "start": round(self.start, 6),
            "end": round(self.end, 6),
            "pitch": self.pitch,
            "velocity": self.velocity,
        }
        if self.bend:
            d["bend"] = [[round(t, 6), round(s, 4)] for t, s in self.bend]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Note:
        """Inverse of :meth:`to_dict`; raises ValueError on a malformed entry."""
        try:
            return cls(
                float(d["start"]),
                float(d["end"]),
                int(d["pitch"]),
                int(d.get("velocity", 100)),
                tuple((float(t), float(s)) for t, s in d.get("bend", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a note: {d!r} ({exc})") from None


def midi_to_hz(pitch: float) -> float:
    """Frequency in Hz of a (possibly fractional) MIDI pitch."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def hz_to_midi(hz: float) -> float:
    """Fractional MIDI pitch of a frequency in Hz (must be > 0)."""
    if not hz > 0:
        raise ValueError(f"frequency must be > 0 Hz, got {hz}")
    return 69.0 + 12.0 * math.log2(hz / 440.0)


def sort_notes(notes: Iterable[Note]) -> list[Note]:
    """Notes ordered by start, then pitch."""
    return sorted(notes, key=lambda n: (n.start, n.pitch, n.end))


def notes_to_arrays(notes: Sequence[Note]) -> tuple[Any, Any]:
    """``(intervals [N, 2] seconds, pitches_hz [N])`` as numpy arrays (mir_eval's layout)."""
    import numpy as np

    intervals = np.array([[n.start, n.end] for n in notes], dtype=float).reshape(-1, 2)
    pitches = np.array([midi_to_hz(n.pitch) for n in notes], dtype=float)
    return intervals, pitches
