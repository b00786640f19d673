"""Melodies from music21's bundled corpus (offline), as timed note lists.

A melody is the top line of one part (folk-tune tunes from the Essen collection, soprano
lines of Bach chorales), ties merged, timed at a tempo chosen so that the typical note
is singable (about 0.4 s), cut to a few seconds and transposed into a voice range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note

__all__ = [
    "VOICE_RANGES",
    "MelodySpec",
    "corpus_specs",
    "load_melody",
]

# Median MIDI pitch each voice type is moved to (nearest semitone shift keeps the tune).
VOICE_RANGES = {"male": 52, "female": 67}

_ESSEN_FILES = (
    "altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "ballad40", "ballad50",
    "boehme10", "boehme20", "erk10", "erk20", "erk30", "fink0", "han1", "kinder0",
    "zuccal0",
)
_CHORALES = (
    "bwv66.6", "bwv1.6", "bwv2.6", "bwv3.6", "bwv4.8", "bwv5.7", "bwv6.6", "bwv7.7",
    "bwv10.7", "bwv11.6", "bwv13.6", "bwv14.5", "bwv16.6", "bwv17.7", "bwv18.5",
)


@dataclass(frozen=True)
class MelodySpec:
    """Where a melody comes from.

    Parameters
    ----------
    name : str
        Short identifier used in clip names, e.g. ``essen-altdeu10-1``.
    corpus_path : str
        music21 corpus path, e.g. ``essenFolksong/altdeu10``.
    number : int, optional
        Tune number inside a multi-tune (ABC) file.
    part : int
        Index of the part to take (0 = top/soprano).
    """

    name: str
    corpus_path: str
    number: int | None = None
    part: int = 0


DEMO_SPEC = MelodySpec("essen-altdeu10-1", "essenFolksong/altdeu10", 1)


def corpus_specs(kind: str = "all") -> list[MelodySpec]:
    """Deterministic list of melody sources: ``folk``, ``chorale`` or ``all`` (interleaved)."""
    folk = [MelodySpec(f"essen-{f}-{k}", f"essenFolksong/{f}", k)
            for k in (1, 2) for f in _ESSEN_FILES]
    chorale = [MelodySpec(f"bach-{c}", f"bach/{c}") for c in _CHORALES]
    if kind == "folk":
        return folk
    if kind == "chorale":
        return chorale
    if kind != "all":
        raise UsageError(f"unknown melody kind {kind!r}: use folk, chorale or all")
    out: list[MelodySpec] = []
    for i in range(max(len(folk), len(chorale))):
        out.extend(x[i] for x in (folk, chorale) if i < len(x))
    return out


def _score_notes(spec: MelodySpec) -> list[tuple[float, float, int]]:
    """(offset quarters, length quarters, midi) of the chosen part's top line."""
    from music21 import corpus

    try:
        score = corpus.parse(spec.corpus_path, number=spec.number)
    except Exception as exc:  # music21 raises many types for a missing/odd work
        raise UsageError(f"cannot load corpus melody {spec.corpus_path}: {exc}") from None
    parts = list(getattr(score, "parts", [])) or [score]
    part = parts[min(spec.part, len(parts) - 1)].stripTies()
    out: list[tuple[float, float, int]] = []
    for el in part.flatten().notes:
        if el.duration.isGrace or float(el.quarterLength) <= 0:
            continue
        pitches = getattr(el, "pitches", None) or [el.pitch]
        midi = max(int(p.midi) for p in pitches)
        start = float(el.getOffsetInHierarchy(part))
        if out and start < out[-1][0] + out[-1][1] - 1e-6:
            continue  # a second voice in the same part: keep the line monophonic
        out.append((start, float(el.quarterLength), midi))
    if not out:
        raise UsageError(f"corpus melody {spec.corpus_path} has no notes")
    return out


def load_melody(
    spec: MelodySpec,
    *,
    voice: str = "female",
    max_seconds: float = 12.0,
    typical_note_s: float = 0.4,
    lead_in: float = 0.5,
    tempo_scale: float = 1.0,
) -> tuple[list[Note], float]:
    """Timed notes of a corpus melody.

    Parameters
    ----------
    spec : MelodySpec
        Which melody.
    voice : {"male", "female"}
        Voice range to transpose into (median pitch near ``VOICE_RANGES[voice]``).
    max_seconds : float
        Keep notes that end within this many seconds after ``lead_in``.
    typical_note_s : float
        Wanted median note length; sets the tempo (kept within 50..180 quarter notes/min).
    lead_in : float
        Seconds of silence before the first note.
    tempo_scale : float
        Multiplies the chosen tempo (variety between clips).

    Returns
    -------
    notes : list of Note
        Score-exact notes (no articulation yet), velocity 96.
    bpm : float
        Tempo in quarter notes per minute.
    """
    if voice not in VOICE_RANGES:
        raise UsageError(f"unknown voice {voice!r}: use {' or '.join(VOICE_RANGES)}")
    raw = _score_notes(spec)
    median_q = float(np.median([q for _, q, _ in raw]))
    bpm = float(np.clip(60.0 * median_q / typical_note_s, 50.0, 180.0)) * tempo_scale
    sec_per_q = 60.0 / bpm
    first = raw[0][0]
    shift = VOICE_RANGES[voice] - int(round(float(np.median([m for _, _, m in raw]))))
    notes: list[Note] = []
    for off, q, midi in raw:
        start = lead_in + (off - first) * sec_per_q
        end = start + q * sec_per_q
        if end > lead_in + max_seconds and notes:
            break
        notes.append(Note(start, end, int(np.clip(midi + shift, 24, 108)), 96))
    return notes, bpm
