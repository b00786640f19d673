"""Test inputs: a short sung phrase with known notes, and the hostile inputs DAWs pass.

Everything is generated from a formula (no files, no randomness without a fixed seed), so a
scenario is the same on every run and at every sample rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The phrase: silence, then A3, C4, E4 (0.5 s each, 0.25 s gaps), then silence.
PHRASE_NOTES = (57, 60, 64)
LEAD_S, NOTE_S, GAP_S, TAIL_S = 0.3, 0.5, 0.25, 0.6


@dataclass(frozen=True)
class Phrase:
    """A rendered phrase and its ground truth.

    Attributes
    ----------
    audio
        Mono float32 samples.
    sample_rate
        Its sample rate in Hz.
    notes
        ``(onset_s, offset_s, midi_note)`` of each sung note.
    """

    audio: np.ndarray
    sample_rate: int
    notes: tuple[tuple[float, float, int], ...]


def voice(seconds: float, f0: float, sample_rate: int) -> np.ndarray:
    """A voice-like tone: 7 harmonics, 5.5 Hz vibrato of +-30 cents, 40 ms fades."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    freq = f0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    x = sum((0.5 / k) * np.sin(k * phase) for k in range(1, 8))
    env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (t[-1] - t) / 0.04)
    return (0.3 * x * env).astype(np.float32)


def phrase(sample_rate: int = 48000, notes: tuple[int, ...] = PHRASE_NOTES) -> Phrase:
    """The test phrase at ``sample_rate`` (same timing and pitches at every rate)."""
    parts = [np.zeros(int(round(LEAD_S * sample_rate)), np.float32)]
    truth = []
    t = LEAD_S
    for i, note in enumerate(notes):
        f0 = 440.0 * 2 ** ((note - 69) / 12)
        parts.append(voice(NOTE_S, f0, sample_rate))
        truth.append((t, t + NOTE_S, note))
        t += NOTE_S
        gap = GAP_S if i < len(notes) - 1 else TAIL_S
        parts.append(np.zeros(int(round(gap * sample_rate)), np.float32))
        t += gap
    return Phrase(np.concatenate(parts), sample_rate, tuple(truth))


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(int(seconds * sample_rate), np.float32)


def dc(seconds: float, sample_rate: int, level: float = 0.5) -> np.ndarray:
    return np.full(int(seconds * sample_rate), level, np.float32)


def full_scale_noise(seconds: float, sample_rate: int, seed: int = 7) -> np.ndarray:
    """White noise spanning the whole -1..1 range."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, int(seconds * sample_rate)).astype(np.float32)


def hostile(sample_rate: int) -> np.ndarray:
    """The phrase with NaN, +-Inf bursts and denormals in its silent stretches."""
    x = phrase(sample_rate).audio.copy()
    n = int(0.05 * sample_rate)
    a = int(0.05 * sample_rate)                  # inside the leading silence
    x[a:a + n] = np.nan
    x[a + n:a + 2 * n] = np.inf
    x[a + 2 * n:a + 3 * n] = -np.inf
    tail = x.size - int(0.4 * sample_rate)       # inside the trailing silence
    x[tail:tail + n] = np.float32(1e-40)         # denormal (subnormal float32)
    x[tail + n:tail + 2 * n] = np.nan
    return x
