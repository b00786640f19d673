"""Where a note stream loses its F1@50: a census of the errors, and what fixing each is worth.

F1@50 counts a note only if it starts within 50 ms of the true onset with the right
pitch, so one note sent 70 ms late costs twice (a miss and a false note), and so does a
wrong early guess that the decoder corrects (a false note before the right one). The
census sorts every note of a take:

- each **true** note: ``on_time`` (a sent note of its pitch starts within 50 ms),
  ``late_100`` (50-100 ms late), ``late`` (100-300 ms late) or ``missed``;
- each **sent** note that no true note claimed: ``guess`` (a corrected early guess: at
  most :data:`GUESS_MAX_S` long, ended on the next note's note-on of another pitch, as
  ``dawtest.oracles.settled`` defines it) or ``extra`` (any other false note).

Matching is greedy in time order (the first unclaimed sent note of the pitch in the
window), so ``f1_50`` here can differ from mir_eval's (maximum matching) by a note or
two. :meth:`Census.as_dict` adds what F1@50 would be with each class fixed: without the
guesses, with the notes up to 100 ms late on time, with every late note on time. That is
the bench's answer to "what limits it" on the decoder's and the model's side.

:func:`census_by_kind` splits the true notes by how the singer reaches them
(:func:`note_kind`: after a rest, a legato change to another pitch, the same pitch sung
again), because each waits on a different gate of the live decoder; a sent false note
belongs to no kind, so those censuses hold true notes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from vocalmidi.eval.latency import EARLY_S  # F1@50's tolerance before the onset, too
from vocalmidi.notes import Note

__all__ = ["GUESS_MAX_S", "LEGATO_CHANGE", "NOTE_KINDS", "TRUE_NOTE_CLASSES", "Census", "census",
           "census_by_kind", "is_corrected_guess", "note_kind"]

ON_TIME_S = 0.05
LATE_100_S = 0.1
LATE_MAX_S = 0.3  # past this a sent note of the pitch is not this note's, late
# The longest early guess the note model's decoder corrects in "retrigger" mode: its
# correction window (`correction_frames`, at most 12 frames = 60 ms in any shipped
# tuning) plus a hop. dawtest.oracles.settled leaves out the same guesses.
GUESS_MAX_S = 0.065
JOINT_S = 0.005
REST_S = 0.05  # a note starting this long after the previous one ended follows a rest
LEGATO_CHANGE = "legato change"  # another pitch joined to the previous note
NOTE_KINDS = ("after a rest", LEGATO_CHANGE, "repeated pitch")
# The classes of a true note (the Census fields that count true notes)
TRUE_NOTE_CLASSES = ("on_time", "late_100", "late", "missed")


def note_kind(prev: Note | None, note: Note) -> str:
    """How the singer reaches ``note`` from the note before it (``None``: the first)."""
    if prev is None or note.start - prev.end >= REST_S:
        return "after a rest"
    return "repeated pitch" if note.pitch == prev.pitch else LEGATO_CHANGE


def is_corrected_guess(length_s: float, gap_s: float, next_is_other_pitch: bool) -> bool:
    """A sent note the decoder corrected: at most :data:`GUESS_MAX_S` long, ended (within
    5 ms) on the next note's note-on, of another pitch. ``gap_s`` is that next note-on
    minus this note's end."""
    return next_is_other_pitch and abs(gap_s) <= JOINT_S and length_s <= GUESS_MAX_S


@dataclass
class Census:
    """Counts of each class (see the module doc); add two with ``+``."""

    on_time: int = 0
    late_100: int = 0
    late: int = 0
    missed: int = 0
    guess: int = 0
    extra: int = 0

    def __add__(self, other: Census) -> Census:
        return Census(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})

    @property
    def n_ref(self) -> int:
        return self.on_time + self.late_100 + self.late + self.missed

    @property
    def n_est(self) -> int:
        return self.on_time + self.late_100 + self.late + self.guess + self.extra

    def _f1(self, hits: int, n_est: int) -> float | None:
        total = self.n_ref + n_est
        return round(2 * hits / total, 4) if total else None

    def as_dict(self) -> dict[str, Any]:
        """The counts, F1@50 from them, and F1@50 with one class of error fixed."""
        return {
            "on_time": self.on_time, "late_100": self.late_100, "late": self.late,
            "missed": self.missed, "guess": self.guess, "extra": self.extra,
            "n_ref": self.n_ref, "n_est": self.n_est,
            "f1_50": self._f1(self.on_time, self.n_est),
            "f1_50_without_guesses": self._f1(self.on_time, self.n_est - self.guess),
            "f1_50_late_100_on_time": self._f1(self.on_time + self.late_100, self.n_est),
            "f1_50_all_late_on_time": self._f1(self.on_time + self.late_100 + self.late,
                                              self.n_est),
        }


def _match(ref: Sequence[Note], est: Sequence[Note]) -> tuple[list[str], set[int]]:
    """Each true note's class (``ref`` and ``est`` sorted by start), and the sent notes
    claimed."""
    classes: list[str] = []
    claimed: set[int] = set()
    for r in ref:
        match = next((i for i, e in enumerate(est) if i not in claimed
                      and e.pitch == r.pitch
                      and -EARLY_S <= e.start - r.start <= LATE_MAX_S), None)
        if match is None:
            classes.append("missed")
            continue
        claimed.add(match)
        lag = est[match].start - r.start
        classes.append("on_time" if lag <= ON_TIME_S else
                       "late_100" if lag <= LATE_100_S else "late")
    return classes, claimed


def census(ref: Sequence[Note], est: Sequence[Note]) -> Census:
    """Sort the notes of one take (``est`` as sent, in any order) into the census."""
    est = sorted(est, key=lambda n: n.start)
    classes, claimed = _match(sorted(ref, key=lambda n: n.start), est)
    out = Census(**{c: classes.count(c) for c in TRUE_NOTE_CLASSES})
    for i, e in enumerate(est):
        if i in claimed:
            continue
        nxt = est[i + 1] if i + 1 < len(est) else None
        if nxt is not None and is_corrected_guess(e.end - e.start, nxt.start - e.end,
                                                  nxt.pitch != e.pitch):
            out.guess += 1
        else:
            out.extra += 1
    return out


def census_by_kind(ref: Sequence[Note], est: Sequence[Note]) -> dict[str, Census]:
    """The true notes of one take per :func:`note_kind`, sorted as :func:`census` sorts
    them (the false notes are left out: they belong to no true note)."""
    ref = sorted(ref, key=lambda n: n.start)
    classes, _ = _match(ref, sorted(est, key=lambda n: n.start))
    out = {kind: Census() for kind in NOTE_KINDS}
    for prev, note, cls in zip([None, *ref[:-1]], ref, classes, strict=True):
        c = out[note_kind(prev, note)]
        setattr(c, cls, getattr(c, cls) + 1)
    return out
