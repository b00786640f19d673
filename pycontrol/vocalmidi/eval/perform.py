"""Turn score notes into a sung-like performance: legato, scoops, vibrato, dynamics.

Real singing is not a keyboard: notes are joined (legato), a note is often entered from
below (a scoop of half a semitone or more that settles within ~0.1 s), held notes carry
vibrato (+-30..60 cents at 5..6 Hz, starting after a short delay) and loudness varies.
The performance keeps every note-on where the score puts it, so the score's onsets stay
the ground truth; only note ends move (legato overlap or a breath before the next note).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vocalmidi.notes import Note, sort_notes

__all__ = ["Style", "STYLES", "perform"]


@dataclass(frozen=True)
class Style:
    """How a performance sings.

    Parameters
    ----------
    legato : float
        Probability that a note runs into the next one (overlap of 10..35 ms) instead of
        ending with a short breath (40..120 ms early).
    scoop : float
        Probability that a note starts with a scoop from below.
    scoop_semitones : (float, float)
        Range of a scoop's starting depth.
    scoop_ms : (float, float)
        Range of how long a scoop takes to settle.
    vibrato_cents : (float, float)
        Range of vibrato depth (peak deviation).
    vibrato_hz : (float, float)
        Range of vibrato rate.
    vibrato_delay_ms : (float, float)
        Range of how long a note is held before vibrato sets in.
    vibrato_fade_ms : float
        How long the vibrato takes to reach its depth once it sets in (0: at once).
    drift_cents : float
        Standard deviation of a slow random pitch wander.
    velocity : (int, int)
        Range of note velocities.
    """

    legato: float = 0.8
    scoop: float = 0.5
    scoop_semitones: tuple[float, float] = (0.4, 1.2)
    scoop_ms: tuple[float, float] = (50.0, 130.0)
    vibrato_cents: tuple[float, float] = (30.0, 60.0)
    vibrato_hz: tuple[float, float] = (5.0, 6.0)
    vibrato_delay_ms: tuple[float, float] = (120.0, 300.0)
    vibrato_fade_ms: float = 200.0
    drift_cents: float = 8.0
    velocity: tuple[int, int] = (72, 110)


STYLES = {
    # Plain: still a voice patch, but no pitch gestures and detached notes.
    "plain": Style(legato=0.0, scoop=0.0, vibrato_cents=(0.0, 0.0), drift_cents=0.0,
                   velocity=(96, 96)),
    "sung": Style(),
    "expressive": Style(legato=0.9, scoop=0.8, scoop_semitones=(0.6, 1.8),
                        vibrato_cents=(45.0, 70.0)),
}

_BEND_STEP = 0.01  # seconds between bend points


def _bend_curve(
    note: Note, until: float, style: Style, rng: np.random.Generator
) -> tuple[tuple[float, float], ...]:
    """Bend points (absolute time, semitones) for one note, up to ``until``."""
    span = until - note.start
    if span <= 0:
        return ()
    t = np.arange(0.0, span, _BEND_STEP)
    semis = np.zeros_like(t)
    if rng.random() < style.scoop:
        depth = rng.uniform(*style.scoop_semitones)
        settle = rng.uniform(*style.scoop_ms) / 1000.0
        x = np.clip(t / settle, 0.0, 1.0)
        semis -= depth * (1.0 - x) ** 2  # fast rise first, then settle: an ease-out
    depth_c = rng.uniform(*style.vibrato_cents)
    if depth_c > 0:
        rate = rng.uniform(*style.vibrato_hz)
        delay = rng.uniform(*style.vibrato_delay_ms) / 1000.0
        fade_s = max(style.vibrato_fade_ms / 1000.0, 1e-6)
        fade = np.clip((t - delay) / fade_s, 0.0, 1.0)
        phase = rng.uniform(0, 2 * math.pi)
        # Rate wobbles by a few percent, as a real vibrato does.
        inst = rate * (1.0 + 0.04 * np.sin(2 * math.pi * 0.7 * t + phase))
        semis += fade * depth_c / 100.0 * np.sin(2 * math.pi * np.cumsum(inst) * _BEND_STEP
                                                   + phase)
    if style.drift_cents > 0 and len(t) > 1:
        walk = np.cumsum(rng.normal(0.0, 1.0, len(t)))
        walk = walk - np.linspace(walk[0], walk[-1], len(t)) * 0.5
        walk = walk / (np.std(walk) + 1e-9) * style.drift_cents / 100.0
        semis += walk
    if not np.any(semis):
        return ((note.start, 0.0),)
    return tuple((note.start + float(a), float(b)) for a, b in zip(t, semis, strict=True))


def perform(score: Sequence[Note], style: Style, seed: int) -> list[Note]:
    """Sing ``score`` (monophonic notes) in ``style``; deterministic for a given ``seed``.

    Parameters
    ----------
    score : sequence of Note
        Monophonic score notes.
    style : Style
        The gestures to apply.
    seed : int
        Random seed.

    Returns
    -------
    list of Note
        Same starts and pitches as ``score``; ends moved for legato or breaths, velocities
        varied, ``bend`` curves holding scoops, vibrato and drift.
    """
    rng = np.random.default_rng(seed)
    notes = sort_notes(score)
    out: list[Note] = []
    for i, n in enumerate(notes):
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        end = n.end
        touching = nxt is not None and nxt.start - n.end < 0.06
        if touching and nxt is not None:
            if nxt.pitch != n.pitch and rng.random() < style.legato:
                end = nxt.start + rng.uniform(0.010, 0.035)
            else:
                # A breath or a re-articulated repeat: end early, keep at least 60 % of it.
                gap = rng.uniform(0.040, 0.120)
                end = max(n.start + 0.6 * n.duration, nxt.start - gap)
        vel = int(rng.integers(style.velocity[0], style.velocity[1] + 1))
        until = min(end, nxt.start) if nxt is not None else end
        bend = _bend_curve(n, until, style, rng)
        out.append(Note(n.start, end, n.pitch, vel, bend))
    return out
