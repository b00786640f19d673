"""How consecutive performed notes join: the shared reading of a performance by the voices.

A monophonic voice sounds one pitch at a time, so each note is read together with its
neighbour: does it start a phrase, glide in legato from the previous note, come after a
short gap, or repeat the previous pitch (which a singer must re-articulate)? The pitch
contour (note pitch plus its bend curve) is also computed here, once for all voices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note, sort_notes

__all__ = ["PHRASE_GAP", "Join", "NoteJoin", "check_notes", "pitch_contour", "read_joins"]

PHRASE_GAP = 0.25  # a silence this long (s) ends a phrase: the singer may breathe
_TOUCH = 0.01  # notes closer than this (s) touch


class Join:
    """How a note is entered (string constants, kept simple for metadata)."""

    FIRST = "first"  # starts a phrase (nothing sounds before it)
    DETACHED = "detached"  # a short gap after the previous note
    LEGATO = "legato"  # the previous note runs into it at another pitch
    REPEAT = "repeat"  # touches the previous note at the same pitch: re-articulated


@dataclass(frozen=True)
class NoteJoin:
    """One note and how it joins the previous one."""

    note: Note
    join: str
    gap: float  # seconds of silence before it (negative: overlap; inf at the first note)


def check_notes(notes: Sequence[Note]) -> list[Note]:
    """Sorted notes, or a clear error when there are none or they start together."""
    if not notes:
        raise UsageError("a voice cannot sing an empty note list")
    ordered = sort_notes(notes)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start - a.start < 0.02:
            raise UsageError(
                f"notes at {a.start:.3f} s and {b.start:.3f} s start together: "
                "a voice is monophonic"
            )
    return ordered


def read_joins(notes: Sequence[Note]) -> list[NoteJoin]:
    """Classify how each note (sorted by start) is entered."""
    out: list[NoteJoin] = []
    prev: Note | None = None
    for n in notes:
        if prev is None:
            out.append(NoteJoin(n, Join.FIRST, float("inf")))
        else:
            gap = n.start - prev.end
            if gap >= PHRASE_GAP:
                join = Join.FIRST
            elif gap > _TOUCH:
                join = Join.DETACHED
            elif n.pitch == prev.pitch:
                join = Join.REPEAT
            else:
                join = Join.LEGATO
            out.append(NoteJoin(n, join, gap))
        prev = n
    return out


def pitch_contour(note: Note, times: np.ndarray) -> np.ndarray:
    """The performed pitch (MIDI semitones) of ``note`` at ``times`` (absolute seconds):
    its written pitch plus its bend curve, held flat outside the curve."""
    if not note.bend:
        return np.full(times.shape, float(note.pitch))
    bt = np.array([b[0] for b in note.bend])
    bs = np.array([b[1] for b in note.bend])
    return note.pitch + np.interp(times, bt, bs)
