"""What the training voices sing: corpus melodies and random walks, performed like a singer.

A performance is a few seconds of monophonic notes in one voice register (low male to
high soprano/whistle, MIDI 38..84), at 50..200 beats per minute, sung legato or detached,
with repeated syllables on one pitch (a note split into 2..4 re-articulated syllables,
or a walk that stays on its note) and a singer's scoops, vibrato and drift from
:func:`vocalmidi.eval.perform.perform`, with a style drawn per clip.

Melodies come from music21's bundled corpus (Essen folk songs, Bach chorale soprano
lines), never one of the evaluation set's or the demo's. The ``dev`` split (early
stopping) takes a fixed tenth of the corpus melodies, the ``train`` split the rest, so
the two never share a melody.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.eval.melodies import DEMO_SPEC, MelodySpec, load_melody
from vocalmidi.eval.perform import Style, perform
from vocalmidi.notes import Note

__all__ = [
    "LOWEST",
    "HIGHEST",
    "REGISTERS",
    "SPLITS",
    "Performance",
    "excluded_melodies",
    "make_performance",
    "melody_pool",
    "repeated_fraction",
]

LOWEST, HIGHEST = 38, 84  # low male .. high soprano / whistle
# Median MIDI pitch range of each register.
REGISTERS = {"male": (45, 55), "female": (59, 69), "high": (69, 77)}
SPLITS = ("train", "dev")
_DEV_SHARE = 10  # one corpus melody in ten is a dev melody
_MIN_NOTE_S = 0.09  # shorter written notes are too fast to sing; the tempo halves


@dataclass(frozen=True)
class Performance:
    """One performed take.

    Attributes
    ----------
    notes : list of Note
        Performed notes: written pitch, sung times, ``bend`` curves (scoops, vibrato,
        drift), velocities.
    seconds : float
        Length of the clip the notes sit in (the last note ends at least 0.1 s before).
    melody : str
        The corpus melody's name (``essen-...``, ``bach-...``) or ``walk-<key>``.
    register : str
        ``male``, ``female`` or ``high``.
    bpm : float
        Quarter notes per minute.
    style : dict
        The drawn performance style and articulation, for the clip's metadata.
    """

    notes: list[Note]
    seconds: float
    melody: str
    register: str
    bpm: float
    style: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def excluded_melodies() -> frozenset[str]:
    """Names of the melodies the evaluation set and the demo sing (never trained on)."""
    from vocalmidi.eval import dataset

    names = {DEMO_SPEC.name}
    from vocalmidi.eval.render import DEMO_MELODY

    names.add(DEMO_MELODY.name)
    named = getattr(dataset, "eval_melody_names", None)
    if callable(named):
        names.update(named())
    else:  # an older evaluation module: every take of both set sizes
        for quick in (False, True):
            names.update(p.melody.name for p in dataset.plan_takes(quick))
    return frozenset(names)


def _corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@functools.lru_cache(maxsize=2)
def melody_pool(split: str) -> tuple[MelodySpec, ...]:
    """The corpus melodies of ``split`` (``train`` or ``dev``), in a fixed order.

    Every tune of the Essen folk-song files and every Bach chorale in music21's corpus,
    less :func:`excluded_melodies`; a melody is a dev melody when the CRC-32 of its name
    is a multiple of ten.
    """
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}: use {' or '.join(SPLITS)}")
    root = _corpus_dir()
    specs: list[MelodySpec] = []
    for f in sorted((root / "essenFolksong").glob("*.abc")):
        numbers = re.findall(r"^X:\s*(\d+)", f.read_text(errors="replace"), flags=re.M)
        specs.extend(MelodySpec(f"essen-{f.stem}-{k}", f"essenFolksong/{f.stem}", int(k))
                     for k in dict.fromkeys(numbers))
    for f in sorted((root / "bach").glob("bwv*.mxl")):
        specs.append(MelodySpec(f"bach-{f.stem}", f"bach/{f.stem}"))
    excluded = excluded_melodies()
    dev = split == "dev"
    return tuple(s for s in specs if s.name not in excluded
                 and (zlib.crc32(s.name.encode()) % _DEV_SHARE == 0) == dev)


@functools.lru_cache(maxsize=256)
def _melody(spec: MelodySpec) -> tuple[tuple[tuple[float, float, int], ...], float]:
    """((start s, end s, midi), ...) of a melody as :func:`load_melody` times it, and its bpm."""
    notes, bpm = load_melody(spec, voice="female", max_seconds=600.0, lead_in=0.0)
    return tuple((n.start, n.end, n.pitch) for n in notes), bpm


def _fold(pitch: int) -> int:
    """Move a pitch by octaves into LOWEST..HIGHEST."""
    while pitch < LOWEST:
        pitch += 12
    while pitch > HIGHEST:
        pitch -= 12
    return pitch


def _from_melody(spec: MelodySpec, rng: np.random.Generator, bpm: float, centre: int,
                 lead_in: float, until: float) -> tuple[list[Note], float] | None:
    """Score notes of a stretch of ``spec`` at ``bpm`` (halved while its notes are too
    short to sing), centred on ``centre``; and the tempo used."""
    try:
        raw, own_bpm = _melody(spec)
    except UsageError:
        return None
    if len(raw) < 4:
        return None
    lengths = np.array([e - s for s, e, _ in raw])
    first = int(rng.integers(0, max(1, len(raw) // 2)))
    shift = centre - int(np.median([p for _, _, p in raw]))
    base = raw[first][0]
    # load_melody timed it at its own tempo (~0.4 s notes); retime it to ``bpm``.
    scale = own_bpm / bpm
    while float(np.median(lengths)) * scale < _MIN_NOTE_S:
        scale *= 2.0
        bpm /= 2.0
    out: list[Note] = []
    for s, e, p in raw[first:]:
        start = lead_in + (s - base) * scale
        end = lead_in + (e - base) * scale
        if end > until:
            break
        out.append(Note(start, end, _fold(p + shift), 96))
    return (out, bpm) if len(out) >= 2 else None


_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}
_BEATS = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
_BEAT_P = np.array([0.08, 0.27, 0.05, 0.32, 0.1, 0.13, 0.05])


def _random_walk(rng: np.random.Generator, bpm: float, centre: int, lead_in: float,
                 until: float, repeat_p: float) -> tuple[list[Note], str]:
    """A melody that wanders through a key: steps, some leaps, repeats and rests."""
    tonic = int(rng.integers(0, 12))
    mode = str(rng.choice(list(_SCALES)))
    degrees = [p for p in range(LOWEST - 12, HIGHEST + 13)
               if (p - tonic) % 12 in _SCALES[mode]]
    lo, hi = max(LOWEST, centre - 9), min(HIGHEST, centre + 9)
    idx = int(np.argmin([abs(p - centre) for p in degrees]))
    octave = len(_SCALES[mode])
    beat = 60.0 / bpm
    t = lead_in
    out: list[Note] = []
    while True:
        length = float(rng.choice(_BEATS, p=_BEAT_P)) * beat
        length = max(length, _MIN_NOTE_S)
        if t + length > until:
            break
        out.append(Note(t, t + length, _fold(degrees[idx]), 96))
        t += length
        if rng.random() < 0.08:  # a rest: a breath between phrases
            t += float(rng.choice([0.5, 1.0, 2.0])) * beat
        u = rng.random()
        if u < repeat_p:
            step = 0
        elif u < repeat_p + 0.55 * (1 - repeat_p):
            step = int(rng.choice([-1, 1]))
        elif u < repeat_p + 0.85 * (1 - repeat_p):
            step = int(rng.choice([-2, 2]))
        else:  # a leap: up to a sixth, or an octave
            step = int(rng.choice([-5, -4, -3, 3, 4, 5, octave, -octave]))
        for nxt in (idx + step, idx - step):  # turn back at the register's edges
            if lo <= degrees[min(max(nxt, 0), len(degrees) - 1)] <= hi:
                idx = nxt
                break
        else:  # nothing fits: step towards the register's centre
            idx += 1 if degrees[idx] < centre else -1
    names = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
    return out, f"walk-{names[tonic]}-{mode}"


def _split_syllables(score: Sequence[Note], rng: np.random.Generator, p: float) -> list[Note]:
    """Split some notes into 2..4 syllables on the same pitch (re-articulated repeats)."""
    out: list[Note] = []
    for n in score:
        parts = int(rng.integers(2, 5))
        if n.duration / parts >= 0.12 and rng.random() < p:
            edges = np.linspace(n.start, n.end, parts + 1)
            out.extend(Note(float(a), float(b), n.pitch, n.velocity)
                       for a, b in zip(edges[:-1], edges[1:], strict=True))
        else:
            out.append(n)
    return out


# Share of vibrato singers who vibrate from a note's first moment (voice set 5 on). Until
# then every vibrato set in after 80 ms or more and faded in over 200 ms, so a note whose
# pitch rises from its first frame looked like a scoop into the note above: stage 25 named
# dawtest's phrase (vibrato from the start, rising first) a semitone high.
ONSET_VIBRATO_SHARE = 0.3
# Voice set 6 on: more legato singing. Half the evaluation set's notes are legato changes
# and they hold three quarters of its late notes (docs/measurements.md, session 24), while
# training's singers joined only half their notes (legato drawn from 0..1) and a quarter of
# the clips were detached. Set 6 maps the same draws to LEGATO_FLOOR..1 and detaches
# DETACHED_SHARE_LEGATO of the clips (the same draw against a lower bar).
LEGATO_FLOOR = 0.4
DETACHED_SHARE = 0.25
DETACHED_SHARE_LEGATO = 0.15


def _style(rng: np.random.Generator, onset_vibrato: bool = False) -> Style:
    """A singer drawn at random: from plain and detached to expressive and legato.

    With ``onset_vibrato`` (voice set 5 on) some vibrato singers vibrate from each note's
    first moment (no delay, no fade-in); the extra draw comes last, so sets 1-4 keep
    their singers.
    """
    vib_lo = float(rng.uniform(0.0, 40.0)) if rng.random() < 0.75 else 0.0
    vel_lo = int(rng.integers(45, 100))
    style = Style(
        legato=float(rng.uniform(0.0, 1.0)),
        scoop=float(rng.uniform(0.0, 0.8)),
        scoop_semitones=(0.3, float(rng.uniform(0.5, 1.8))),
        scoop_ms=(40.0, float(rng.uniform(60.0, 160.0))),
        vibrato_cents=(vib_lo, vib_lo * float(rng.uniform(1.0, 1.8))),
        vibrato_hz=(4.5, float(rng.uniform(5.0, 6.8))),
        vibrato_delay_ms=(80.0, float(rng.uniform(150.0, 400.0))),
        drift_cents=float(rng.uniform(0.0, 15.0)),
        velocity=(vel_lo, int(rng.integers(vel_lo, 128))),
    )
    if onset_vibrato and vib_lo > 0 and rng.random() < ONSET_VIBRATO_SHARE:
        style = replace(style, vibrato_delay_ms=(0.0, 0.0), vibrato_fade_ms=0.0)
    return style


def _tighten_repeats(notes: list[Note], rng: np.random.Generator) -> list[Note]:
    """Close the breath before a same-pitch repeat to 10..40 ms (a quick "la-la"), or to
    nothing for 40 % of them: re-articulated with no silence at all, the hardest case."""
    out = list(notes)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a.pitch == b.pitch and 0.0 < b.start - a.end and b.start - a.start > 0.1:
            gap = 0.0 if rng.random() < 0.4 else float(rng.uniform(0.010, 0.040))
            end = max(a.end, b.start - gap)
            out[i] = replace(a, end=end)
    return out


def make_performance(rng: np.random.Generator, seconds: float, split: str,
                     onset_vibrato: bool = False, more_legato: bool = False) -> Performance:
    """Draw one performance of ``seconds`` (4..12 s) for ``split``; deterministic in ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The clip's random stream.
    seconds : float
        Clip length.
    split : {"train", "dev"}
        Which melodies may be sung.
    onset_vibrato : bool
        Let some singers vibrate from a note's first moment (:data:`ONSET_VIBRATO_SHARE`).
    more_legato : bool
        Singers join more of their notes (:data:`LEGATO_FLOOR`, :data:`DETACHED_SHARE_LEGATO`).

    Returns
    -------
    Performance
    """
    register = str(rng.choice(list(REGISTERS), p=[0.4, 0.4, 0.2]))
    centre = int(rng.integers(*REGISTERS[register], endpoint=True))
    bpm = float(np.exp(rng.uniform(np.log(50.0), np.log(200.0))))
    lead_in = float(rng.uniform(0.05, 0.8))
    until = seconds - float(rng.uniform(0.1, 0.6))
    repeat_p = float(rng.uniform(0.1, 0.35))
    score: list[Note] | None = None
    name = ""
    if rng.random() < 0.6:
        pool = melody_pool(split)
        spec = pool[int(rng.integers(0, len(pool)))]
        sung_melody = _from_melody(spec, rng, bpm, centre, lead_in, until)
        if sung_melody is not None:
            (score, bpm), name = sung_melody, spec.name
    if score is None:
        score, name = _random_walk(rng, bpm, centre, lead_in, until, repeat_p)
    if not score:  # a very slow tempo in a short clip: one held note
        score = [Note(lead_in, until, _fold(centre), 96)]
    score = _split_syllables(score, rng, float(rng.uniform(0.03, 0.2)))
    detached = rng.random() < (DETACHED_SHARE_LEGATO if more_legato else DETACHED_SHARE)
    if detached:  # staccato-ish: every note shortened, silence before the next
        keep = float(rng.uniform(0.45, 0.85))
        score = [replace(n, end=n.start + max(0.06, keep * n.duration)) for n in score]
    style = _style(rng, onset_vibrato)
    if more_legato:
        style = replace(style, legato=LEGATO_FLOOR + (1.0 - LEGATO_FLOOR) * style.legato)
    sung = perform(score, style, int(rng.integers(0, 2**31)))
    tight = rng.random() < 0.6
    if tight:
        sung = _tighten_repeats(sung, rng)
    info = {"legato": round(style.legato, 3), "scoop": round(style.scoop, 3),
            "vibrato_cents": round(style.vibrato_cents[1], 1),
            **({"onset_vibrato": True} if style.vibrato_fade_ms == 0.0 else {}),
            "drift_cents": round(style.drift_cents, 1), "detached": detached,
            "tight_repeats": tight}
    return Performance(sung, seconds, name, register, round(bpm, 2), info)


def repeated_fraction(notes: Sequence[Note]) -> float:
    """Share of notes that repeat the previous note's pitch within 0.3 s of its end."""
    ordered = sorted(notes, key=lambda n: n.start)
    if not ordered:
        return 0.0
    rep = sum(1 for a, b in zip(ordered, ordered[1:], strict=False)
              if a.pitch == b.pitch and b.start - a.end < 0.3)
    return rep / len(ordered)
