"""Humming, whistling and plain tones made directly: a band-limited harmonic source
through formants.

The source is additive (every harmonic below a ceiling under Nyquist, so nothing
aliases), its phase runs continuously through a phrase so legato notes glide. Each
harmonic's amplitude is a spectral tilt times the formant envelope at its frequency
(a closed-mouth nasal hum, an "oo" hum, a whistle's nearly pure tone, or a plain tone: no
formants, a random tilt and harmonic ceiling, as synth test tones and simple synthetic
voices are), updated every 32 samples as the pitch moves. Breath noise follows the
loudness (strongly for the whistle). A note's onset is the start of its attack ramp (10-30
ms rise; 5-50 ms for the plain tone), exact to the sample; a repeated pitch is
re-articulated by a fade-out 25-50 ms before the next note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.signal import butter, sosfilt

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note
from vocalmidi.train.voices.phrasing import Join, check_notes, pitch_contour, read_joins

__all__ = ["HUM_KINDS", "SET8_KINDS", "HumVoice"]

TAIL_S = 0.5
PEAK_LEVEL = 0.5
_BLOCK = 32  # samples between harmonic-amplitude updates

# Formants (Hz, bandwidth Hz, gain dB), spectral tilt (dB/octave), breath noise level (dB
# below the tone) per kind.
HUM_KINDS: dict[str, tuple[tuple[tuple[float, float, float], ...], float, float]] = {
    # Closed-mouth hum: one strong nasal murmur, everything above is weak.
    "mm": (((260.0, 120.0, 0.0), (1100.0, 250.0, -24.0), (2300.0, 300.0, -30.0)), -9.0,
           -40.0),
    # Hummed "oo": low F1 and F2.
    "oo": (((320.0, 90.0, 0.0), (850.0, 120.0, -8.0), (2300.0, 200.0, -24.0)), -7.0, -36.0),
    # Whistle: the fundamental almost alone, with much breath.
    "whistle": (((1500.0, 4000.0, 0.0),), -30.0, -26.0),
    # Plain tone: a flat envelope; its tilt (-12..-3 dB/octave), harmonic ceiling
    # (1.5-8 kHz) and attack (5-50 ms) are drawn per take (_TONE_*). Added for stage 10:
    # the stage 9 model guessed wrong first notes on such tones (dawtest's phrase).
    "tone": (((1000.0, 1.0e6, 0.0),), -7.5, -60.0),
    # Sine: the fundamental alone (a test-tone generator, a tuning fork, a sine synth),
    # held steady at a flat level. Voice set 8 (2026-12-07): vocalnote-offline-s read a
    # steady sine as another note at 11 of 24 pitches from MIDI 38 to 84 (A2 as C3, E5
    # as A#2 after 0.6 s); no training voice was ever a pure tone.
    # (A -120 dB/octave tilt leaves the harmonics 120 dB and more under it.)
    "sine": (((1000.0, 1.0e6, 0.0),), -120.0, -70.0),
}
# Kinds a voice set below 8 does not hear: adding one must not change those sets' files.
SET8_KINDS = ("sine",)
_TONE_TILT = (-12.0, -3.0)
_TONE_CEILING_HZ = (1500.0, 8000.0)
_TONE_ATTACK_S = (0.005, 0.05)


@numba.njit(cache=True)
def _additive(f0: np.ndarray, amp: np.ndarray, fs: float, tilt_db: float,
              formants: np.ndarray, ceiling: float) -> np.ndarray:  # pragma: no cover
    """Sum of harmonics of the per-sample f0 (Hz), weighted by tilt and formants."""
    n = f0.shape[0]
    out = np.zeros(n)
    max_h = 200
    phase = np.zeros(max_h)
    weights = np.zeros(max_h)
    nf = formants.shape[0]
    for s0 in range(0, n, _BLOCK):
        f = f0[min(s0 + _BLOCK // 2, n - 1)]
        nh = 0
        if f > 0:
            nh = min(max_h, int(ceiling / f))
            for h in range(nh):
                fh = f * (h + 1)
                w = 10.0 ** (tilt_db * math.log2(h + 1.0) / 20.0)
                env = 0.0
                for k in range(nf):
                    d = (fh - formants[k, 0]) / (0.5 * formants[k, 1])
                    env += 10.0 ** (formants[k, 2] / 20.0) / (1.0 + d * d)
                weights[h] = w * env
        for s in range(s0, min(s0 + _BLOCK, n)):
            fs_ = f0[s]
            acc = 0.0
            for h in range(nh):
                phase[h] += 2.0 * math.pi * fs_ * (h + 1) / fs
                if phase[h] > 2.0 * math.pi:
                    phase[h] -= 2.0 * math.pi
                acc += weights[h] * math.sin(phase[h])
            out[s] = amp[s] * acc
    return out


@dataclass(frozen=True)
class HumVoice:
    """A hum or whistle voice (``kind`` is a key of :data:`HUM_KINDS`)."""

    kind: str
    name: str = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in HUM_KINDS:
            raise UsageError(f"unknown hum kind {self.kind!r}: use {', '.join(HUM_KINDS)}")
        object.__setattr__(self, "name", f"hum:{self.kind}")

    def render(self, notes: Sequence[Note], sample_rate: int,
               seed: int) -> tuple[np.ndarray, list[Note]]:
        """Hum or whistle ``notes``; same contract as
        :meth:`vocalmidi.train.voices.syllable.SyllableVoice.render` (onset = start of the
        attack ramp, end = start of the release)."""
        if not 8000 <= sample_rate <= 192000:
            raise UsageError(f"sample rate {sample_rate} Hz is out of range 8000..192000")
        ordered = check_notes(notes)
        joins = read_joins(ordered)
        rng = np.random.default_rng(seed)
        fs = sample_rate
        formants, tilt, noise_db = HUM_KINDS[self.kind]
        shift = rng.uniform(0.92, 1.08)  # a different mouth each take
        fm = np.array([[f * shift, bw, g] for f, bw, g in formants])
        tilt = rng.uniform(*_TONE_TILT) if self.kind == "tone" else tilt + rng.uniform(-2.0, 2.0)
        # a test tone starts as a synth does, anywhere from 5 to 50 ms
        attack_s = _TONE_ATTACK_S if self.kind in ("tone", "sine") else (0.010, 0.030)
        total = max(n.end for n in ordered) + TAIL_S
        n_out = int(round(total * fs))
        f0 = np.zeros(n_out)
        amp = np.zeros(n_out)
        truth: list[Note] = []
        n_notes = len(ordered)
        prev_semi = 0.0
        for i, n in enumerate(ordered):
            a = int(round(n.start * fs))
            nxt = ordered[i + 1] if i + 1 < n_notes else None
            e = int(round(n.end * fs))
            legato_next = nxt is not None and joins[i + 1].join == Join.LEGATO
            if nxt is not None:
                b = int(round(nxt.start * fs))
                e = min(e, b)
                if joins[i + 1].join == Join.REPEAT:
                    e = min(e, b - int(rng.uniform(0.025, 0.05) * fs))
            e = max(e, a + int(0.01 * fs))
            release = int(rng.uniform(0.03, 0.08) * fs)
            stop = min(e if legato_next else e + release, n_out)
            if nxt is not None:
                stop = min(stop, int(round(nxt.start * fs)))
            idx = np.arange(a, stop)
            semis = pitch_contour(n, idx / fs)
            env = np.ones(idx.size) * 10 ** ((n.velocity - 100) * 0.25 / 20.0)
            if joins[i].join == Join.LEGATO:
                g = rng.uniform(0.015, 0.045) * fs
                ramp = 1.0 - (1.0 - np.clip(np.arange(idx.size) / g, 0.0, 1.0)) ** 2
                semis = prev_semi + (semis - prev_semi) * ramp
            else:
                att = rng.uniform(*attack_s) * fs
                env *= np.sin(0.5 * np.pi * np.clip(np.arange(idx.size) / att, 0.0, 1.0)) ** 2
            rel = idx >= e
            if np.any(rel):
                x = (idx[rel] - e) / release
                env[rel] *= np.cos(0.5 * np.pi * np.clip(x, 0.0, 1.0)) ** 2
            f0[a:stop] = 440.0 * 2.0 ** ((semis - 69.0) / 12.0)
            amp[a:stop] = env
            prev_semi = float(semis[min(e, stop) - a - 1])
            truth.append(Note(a / fs, max(e / fs, a / fs + 0.005), n.pitch, n.velocity,
                              n.bend))
        # Slow loudness wander (a held hum is never perfectly steady).
        wobble = np.interp(np.arange(n_out), np.linspace(0, n_out, 64),
                           rng.normal(0.0, 0.08, 64))
        amp *= np.exp(wobble)
        top = rng.uniform(*_TONE_CEILING_HZ) if self.kind == "tone" else \
            (12000.0 if self.kind == "whistle" else 8000.0)
        ceiling = min(0.45 * fs, top)
        y = _additive(f0, amp, float(fs), tilt, fm, ceiling)
        tone_rms = float(np.sqrt(np.mean(y[amp > 0.1] ** 2))) if np.any(amp > 0.1) else 0.0
        lo, hi = (800.0, min(6000.0, 0.45 * fs)) if self.kind == "whistle" else (200.0, 0.4 * fs)
        sos = butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")
        breath = sosfilt(sos, rng.normal(0.0, 1.0, n_out))
        breath *= tone_rms * 10 ** (noise_db / 20.0) / (np.std(breath) + 1e-12)
        y = y + breath * amp
        peak = float(np.max(np.abs(y)))
        if peak <= 0:
            raise UsageError(f"{self.name} rendered silence")
        return (y * (PEAK_LEVEL / peak)).astype(np.float32), truth
