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

__all__ = ["LAG_MIN", "MIN_CLARITY", "SPAN", "WINDOW_MIN", "note_from_audio", "refine_pitch"]

SPAN = 0.7  # semitones searched either side of the model's pitch
MIN_CLARITY = 0.8  # normalised correlation the best lag needs
WINDOW_MIN = 160  # samples (10 ms): the correlated stretch is at least this, else one period
LAG_MIN = 64  # samples: a shorter period is read over as many whole periods as fit in this
PITCH_RANGE = (34.0, 100.0)  # MIDI: model pitches outside are left alone (notes 36..86)

# The whole-take check of a note's pitch (note_from_audio; session 29). A note the model
# names a semitone or two off is outside the bends' SPAN, so it searches wider, over a
# longer window, and asks more of the period: most of the note must show it clearly.
CHECK_SPAN = 2.5  # semitones either side of the note
CHECK_WINDOW = 320  # samples (20 ms)
CHECK_CLARITY = 0.9  # a probed frame counts where the best lag reaches this
CHECK_SHARE = 0.6  # share of the probed frames that must count
CHECK_SKIP = 6  # frames (30 ms) of the note's attack not probed
CHECK_STEP = 4  # frames between probes
CHECK_OFF = 0.75  # semitones: the period names another note only this far from the model's
CHECK_NEAR = 0.3  # and this near that note's semitone
CHECK_PERIODS = 2  # at most: k periods +-2.5 semitones hold no other multiple for k <= 2


@numba.njit(cache=True)
def _period_search(audio: np.ndarray, end: int, pitch: float, span: float,
                   window_min: int, max_periods: int) -> tuple[float, float]:
    """The pitch (MIDI) of the clearest period within ``span`` semitones of ``pitch`` in
    the audio ending at ``end``, and its clarity (normalised correlation); ``(nan, 0)``
    where the search has no samples or its best lag lies on the search's edge."""
    period = SAMPLE_RATE / (440.0 * 2.0 ** ((pitch - 69.0) / 12.0))
    # A short period is read over several: the lag's grid is then finer against it. A
    # wide span must read fewer, or another pitch's multiple falls inside it.
    periods = min(max_periods, max(1, int(LAG_MIN / period)))
    lo = int(np.floor(periods * period * 2.0 ** (-span / 12.0))) - 1
    hi = int(np.ceil(periods * period * 2.0 ** (span / 12.0))) + 1
    w = max(window_min, int(period))
    if end > audio.shape[0] or end - w - hi < 0:
        return np.nan, 0.0
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
    if best == 0 or best == hi - lo:
        return np.nan, clarity[best]
    before, peak, after = clarity[best - 1], clarity[best], clarity[best + 1]
    curve = before - 2.0 * peak + after
    shift = 0.5 * (before - after) / curve if curve < 0.0 else 0.0
    shift = min(0.5, max(-0.5, shift))
    return 69.0 + 12.0 * np.log2(SAMPLE_RATE * periods / (lo + best + shift) / 440.0), peak


@numba.njit(cache=True)
def _refine_one(audio: np.ndarray, end: int, pitch: float) -> float:
    """One frame: the refined pitch (MIDI), or ``pitch`` where no clear period is found."""
    if not (PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]):
        return pitch
    # SPAN is narrow enough for any number of periods (the engine's port has no cap)
    found, clarity = _period_search(audio, end, pitch, SPAN, WINDOW_MIN, 1 << 30)
    if np.isnan(found) or clarity < MIN_CLARITY:
        return pitch
    return found


@numba.njit(cache=True)
def _refine(audio: np.ndarray, pitch: np.ndarray, first_frame: int) -> np.ndarray:
    out = np.empty(pitch.shape[0], np.float32)
    for j in range(pitch.shape[0]):
        end = HOP * (first_frame + j + 1 + LOOKAHEAD_HOPS)
        out[j] = _refine_one(audio, end, float(pitch[j]))
    return out


@numba.njit(cache=True)
def _note_period_pitch(audio: np.ndarray, first: int, stop: int, note: float) -> float:
    """Median pitch of the clear periods near ``note`` over frames ``first..stop-1`` (every
    CHECK_STEP-th, from CHECK_SKIP in), or nan where under CHECK_SHARE of them are clear."""
    found = np.empty(max(1, (stop - first) // CHECK_STEP + 1))
    clear, probed = 0, 0
    for k in range(first + CHECK_SKIP, stop, CHECK_STEP):
        end = HOP * (k + 1 + LOOKAHEAD_HOPS)
        pitch, clarity = _period_search(audio, end, note, CHECK_SPAN, CHECK_WINDOW,
                                        CHECK_PERIODS)
        probed += 1
        if not np.isnan(pitch) and clarity >= CHECK_CLARITY:
            found[clear] = pitch
            clear += 1
    if probed == 0 or clear < CHECK_SHARE * probed:
        return np.nan
    return float(np.median(found[:clear]))


def note_from_audio(audio: np.ndarray, first: int, stop: int, note: int) -> int:
    """The written note of a whole-take note, checked against the period the audio shows.

    The model names a steady pure tone's note a semitone or two off at some pitches (it
    reads pitch from harmonics, which a sine lacks: session 29). Where most of the note's
    frames after its attack show a clear period within ``CHECK_SPAN`` semitones of
    ``note`` whose median lies near another semitone (over ``CHECK_OFF`` from ``note``,
    within ``CHECK_NEAR`` of the semitone), that semitone is returned; else ``note``. A
    singer's note a little out of tune, a glide or vibrato keeps the model's note.

    Parameters
    ----------
    audio : ndarray
        The take's 16 kHz audio from its first sample.
    first, stop : int
        The note's label frames ``first..stop-1``.
    note : int
        The model's written note.
    """
    if stop - first <= CHECK_SKIP or not (PITCH_RANGE[0] <= note <= PITCH_RANGE[1]):
        return note
    heard = _note_period_pitch(np.ascontiguousarray(audio, dtype=np.float32), int(first),
                               int(stop), float(note))
    if np.isnan(heard) or abs(heard - note) <= CHECK_OFF or abs(heard - round(heard)) >= CHECK_NEAR:
        return note
    return int(round(heard))


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
