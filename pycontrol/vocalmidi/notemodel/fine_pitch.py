"""Fine pitch for pitch bend: the note model's pitch, refined by a period search in the
audio the model heard for that frame.

The model's fine-pitch head reads a held, in-tune note a median 7-9 cents off (dev split,
steady frames; up to 14 cents on a plain synthetic tone), which a pitch bend makes
audible. Once the model has named the pitch, the period is easy to read precisely: search
the normalised correlation of the last ``max(WINDOW_MIN, period)`` samples with the audio
one period earlier (a whole number of periods, at least ``LAG_MIN`` samples, for a high
note), over the lags within ``SPAN`` semitones of the model's pitch, and interpolate the
best lag by a parabola. Where the best correlation is under
``MIN_CLARITY`` (noise, a breath, a reverberant change) or at the edge of the search, the
model's own pitch stays. Measured on the dev split (training voices, the two settings
chosen there): median error 8.5 -> 3.9 cents, clean takes 7.3 -> 1.8; validation voices
9.0 -> 5.1 (docs/measurements.md, session 28).

Frame ``k``'s window ends where the model's own does (sample ``80 (k + 2)``, the
contract's one-hop lookahead): it adds no latency. The same arithmetic runs in the
engine (``engine/src/dsp/PitchRefiner.cpp``, golden-tested against this one); only pitch
bends and the pitch an editor shows use it, never a note decision.
"""

from __future__ import annotations

import numba
import numpy as np

from vocalmidi.train.contract import HOP, LOOKAHEAD_HOPS, SAMPLE_RATE

__all__ = ["LAG_MIN", "MIN_CLARITY", "SPAN", "WINDOW_MIN", "refine_pitch"]

SPAN = 0.7  # semitones searched either side of the model's pitch
MIN_CLARITY = 0.8  # normalised correlation the best lag needs
WINDOW_MIN = 160  # samples (10 ms): the correlated stretch is at least this, else one period
LAG_MIN = 64  # samples: a shorter period is read over as many whole periods as fit in this
PITCH_RANGE = (34.0, 100.0)  # MIDI: model pitches outside are left alone (notes 36..86)


@numba.njit(cache=True)
def _refine_one(audio: np.ndarray, end: int, pitch: float) -> float:
    """One frame: the refined pitch (MIDI), or ``pitch`` where no clear period is found."""
    if not (PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]):
        return pitch
    period = SAMPLE_RATE / (440.0 * 2.0 ** ((pitch - 69.0) / 12.0))
    # A short period is read over several: the lag's grid is then finer against it.
    periods = max(1, int(LAG_MIN / period))
    lo = int(np.floor(periods * period * 2.0 ** (-SPAN / 12.0))) - 1
    hi = int(np.ceil(periods * period * 2.0 ** (SPAN / 12.0))) + 1
    w = max(WINDOW_MIN, int(period))
    if end > audio.shape[0] or end - w - hi < 0:
        return pitch
    x0 = end - w
    xx = 0.0
    for n in range(w):
        xx += float(audio[x0 + n]) * float(audio[x0 + n])
    clarity = np.empty(hi - lo + 1)
    best = 0
    for i in range(hi - lo + 1):
        xy, yy = 0.0, 0.0
        for n in range(w):
            y = float(audio[x0 - lo - i + n])
            xy += float(audio[x0 + n]) * y
            yy += y * y
        clarity[i] = 2.0 * xy / (xx + yy + 1e-12)
        if clarity[i] > clarity[best]:
            best = i
    if clarity[best] < MIN_CLARITY or best == 0 or best == hi - lo:
        return pitch
    before, peak, after = clarity[best - 1], clarity[best], clarity[best + 1]
    curve = before - 2.0 * peak + after
    shift = 0.5 * (before - after) / curve if curve < 0.0 else 0.0
    shift = min(0.5, max(-0.5, shift))
    return 69.0 + 12.0 * np.log2(SAMPLE_RATE * periods / (lo + best + shift) / 440.0)


@numba.njit(cache=True)
def _refine(audio: np.ndarray, pitch: np.ndarray, first_frame: int) -> np.ndarray:
    out = np.empty(pitch.shape[0], np.float32)
    for j in range(pitch.shape[0]):
        end = HOP * (first_frame + j + 1 + LOOKAHEAD_HOPS)
        out[j] = _refine_one(audio, end, float(pitch[j]))
    return out


def refine_pitch(audio: np.ndarray, pitch: np.ndarray, first_frame: int = 0) -> np.ndarray:
    """Refine the model's fine pitch of frames ``first_frame, first_frame + 1, ...``.

    Parameters
    ----------
    audio : ndarray
        The 16 kHz mono audio the model heard, from the stream's first sample.
    pitch : ndarray
        The model's ``pitch`` output (MIDI semitones), one per frame.
    first_frame : int
        Label frame of ``pitch[0]``.

    Returns
    -------
    ndarray
        float32, the refined pitch per frame; the model's own where the audio shows no
        clear period near it (or lacks the samples: the stream's first frames).
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    pitch = np.ascontiguousarray(pitch, dtype=np.float32)
    return _refine(audio, pitch, int(first_frame))
