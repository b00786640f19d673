"""Recording conditions for training clips: room, noise, microphone, level, clipping, host rate.

A clip is rendered at a host sample rate (22.05..96 kHz), passes through a chain that
stands for the room, the microphone and the interface, and is resampled to the model's
16 kHz with soxr, as the engine does with a host's audio:

room (generated impulse response) -> mic/EQ colouration -> background noise at an SNR ->
input gain (-45..-3 dBFS peak) -> soft or hard clipping -> converter noise floor ->
resample to 16 kHz.

Nothing here moves the labels: every filter is causal and the impulse response's direct
path is its first sample (t = 0), so a note's onset stays where the score puts it.
Every function is deterministic for a given random generator.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from vocalmidi.eval.conditions import active_power, pink_noise

# One resampler for training data and for takes at inference (soxr's one-shot call
# removes the filter delay, so labels stay where they were).
from vocalmidi.notemodel.run import resample_to_model as to_model_rate

__all__ = [
    "CLEAN_SHARE",
    "HOST_RATES",
    "NOISE_KINDS",
    "add_room",
    "augment",
    "babble",
    "biquad",
    "colour",
    "fan_noise",
    "mains_hum",
    "fftconvolve",
    "room_impulse_response",
    "sosfilt",
    "to_model_rate",
]

HOST_RATES = (22050, 44100, 48000, 88200, 96000)
CLEAN_SHARE = 0.2
NOISE_KINDS = ("pink", "hum", "fan", "babble")


def room_impulse_response(sr: int, rt60: float, rng: np.random.Generator,
                          drr_db: float) -> np.ndarray:
    """A synthetic room: direct path at sample 0, early reflections, a decaying tail.

    Parameters
    ----------
    sr : int
        Sample rate.
    rt60 : float
        Reverberation time (s): the tail falls 60 dB in this long.
    rng : numpy.random.Generator
        Random stream.
    drr_db : float
        Direct-to-reverberant energy ratio.

    Returns
    -------
    numpy.ndarray
        float32 impulse response, ``ir[0] == 1``.
    """
    n = max(2, int(rt60 * sr))
    t = np.arange(n) / sr
    # Late tail: noise under an exponential envelope (-60 dB at rt60), growing in over the
    # first few ms (the reflections take time to get dense); high frequencies die faster,
    # which one smoothing pass of growing length per segment is too costly for, so the
    # tail is split into a bright early and a dull late half.
    pre = float(rng.uniform(0.004, 0.02))
    env = np.exp(-6.91 * t / rt60) * np.clip((t - pre) / 0.01, 0.0, 1.0)
    tail = rng.standard_normal(n) * env
    cut = min(n - 1, int(0.25 * rt60 * sr))
    k = max(1, int(sr / float(rng.uniform(2000.0, 6000.0))))
    dull = np.convolve(tail, np.ones(k) / math.sqrt(k), mode="same")
    tail[cut:] = dull[cut:]
    # Early reflections: a few discrete echoes from walls, floor and desk, 1..30 ms late.
    early = np.zeros(n)
    for _ in range(int(rng.integers(3, 10))):
        i = int(rng.uniform(0.001, 0.03) * sr)
        if i < n:
            early[i] += rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.6)
    reverb = tail + early
    energy = float(np.sum(reverb**2))
    if energy > 0:
        reverb *= math.sqrt(10 ** (-drr_db / 10) / energy)
    reverb[0] = 1.0  # the direct path: keeps the onsets where the labels put them
    return reverb.astype(np.float32)


def add_room(audio: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                           dict[str, float]]:
    """Convolve with a room of RT60 0.1..1.2 s; same length out (the tail past the end is cut)."""
    rt60 = float(rng.uniform(0.1, 1.2))
    drr = float(rng.uniform(-4.0, 12.0))
    ir = room_impulse_response(sr, rt60, rng, drr)
    out = fftconvolve(np.asarray(audio, np.float64), ir.astype(np.float64))
    return out.astype(np.float32), {"rt60": round(rt60, 3), "drr_db": round(drr, 1)}


def biquad(kind: str, f0: float, sr: int, gain_db: float = 0.0, q: float = 0.7071) -> np.ndarray:
    """One second-order section ``[b0, b1, b2, 1, a1, a2]`` (RBJ audio-EQ cookbook).

    Parameters
    ----------
    kind : {"peak", "low", "high", "lowpass", "highpass", "bandpass"}
        Peaking EQ, low/high shelf, or a 2nd-order low-, high- or band-pass (unit gain
        at ``f0``; for a band-pass ``q`` is ``f0`` over the bandwidth).
    f0 : float
        Centre, corner or shelf frequency in Hz (clamped below Nyquist).
    sr : int
        Sample rate.
    gain_db : float
        Gain of a peak or shelf.
    q : float
        Quality factor.
    """
    a = 10 ** (gain_db / 40)
    w = 2 * math.pi * min(f0, 0.45 * sr) / sr
    cw, sw = math.cos(w), math.sin(w)
    alpha = sw / (2 * q)
    if kind == "peak":
        b = (1 + alpha * a, -2 * cw, 1 - alpha * a)
        den = (1 + alpha / a, -2 * cw, 1 - alpha / a)
    elif kind in ("low", "high"):
        sa = 2 * math.sqrt(a) * alpha
        sign = 1 if kind == "low" else -1
        b = (a * ((a + 1) - sign * (a - 1) * cw + sa),
             sign * 2 * a * ((a - 1) - sign * (a + 1) * cw),
             a * ((a + 1) - sign * (a - 1) * cw - sa))
        den = ((a + 1) + sign * (a - 1) * cw + sa,
               -sign * 2 * ((a - 1) + sign * (a + 1) * cw),
               (a + 1) + sign * (a - 1) * cw - sa)
    elif kind == "lowpass":
        b = ((1 - cw) / 2, 1 - cw, (1 - cw) / 2)
        den = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "highpass":
        b = ((1 + cw) / 2, -(1 + cw), (1 + cw) / 2)
        den = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "bandpass":
        b = (alpha, 0.0, -alpha)
        den = (1 + alpha, -2 * cw, 1 - alpha)
    else:
        raise ValueError(f"unknown filter kind {kind!r}")
    return np.array([*b, *den]) / den[0]


@numba.njit(cache=True)
def _sosfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    y = x.astype(np.float64)
    for s in range(sos.shape[0]):
        b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
        z1 = z2 = 0.0
        for i in range(y.shape[0]):  # transposed direct form II
            xi = y[i]
            yi = b0 * xi + z1
            z1 = b1 * xi - a1 * yi + z2
            z2 = b2 * xi - a2 * yi
            y[i] = yi
    return y


def sosfilt(sections: list[np.ndarray] | np.ndarray, x: np.ndarray) -> np.ndarray:
    """Run ``x`` through cascaded :func:`biquad` sections (causal, float64 out).

    A numba loop instead of scipy.signal, whose import alone costs each worker seconds.
    """
    return _sosfilt(np.atleast_2d(np.asarray(sections, np.float64)),
                    np.ascontiguousarray(x, np.float64))


def fftconvolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The first ``len(x)`` samples of the linear convolution ``x * h`` (via FFT)."""
    from scipy import fft

    n = x.shape[0] + h.shape[0] - 1
    nfft = fft.next_fast_len(n, real=True)  # 5-smooth: up to 2x less work than a power of 2
    y = fft.irfft(fft.rfft(x, nfft) * fft.rfft(h, nfft), nfft)
    return y[: x.shape[0]]


def colour(audio: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                         dict[str, Any]]:
    """Microphone and channel colouration: random shelves and peaks, a band limit.

    All sections are causal IIR filters (no added latency beyond their own phase).
    """
    sections: list[np.ndarray] = []
    names: list[str] = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["low", "high", "peak"]))
        f0 = {"low": rng.uniform(80, 400), "high": rng.uniform(2000, 7000),
              "peak": math.exp(rng.uniform(math.log(200), math.log(6000)))}[kind]
        gain = float(rng.uniform(-10.0, 10.0))
        q = float(rng.uniform(0.5, 3.0)) if kind == "peak" else 0.707
        sections.append(biquad(kind, float(f0), sr, gain, q))
        names.append(f"{kind}{f0:.0f}:{gain:+.1f}")
    if rng.random() < 0.5:  # the mic's or the stand's low cut
        f = float(rng.uniform(40.0, 200.0))
        sections.append(biquad("highpass", f, sr))
        names.append(f"hp{f:.0f}")
    if rng.random() < 0.3:  # a dull or telephone-like mic
        f = float(rng.uniform(3000.0, 7500.0))
        sections.append(biquad("lowpass", f, sr))
        names.append(f"lp{f:.0f}")
    out = sosfilt(sections, audio)
    return out.astype(np.float32), {"eq": " ".join(names)}


def mains_hum(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS mains hum: 50 or 60 Hz with harmonics up to ~1 kHz, buzzy (odd-rich) or not."""
    mains = float(rng.choice([50.0, 60.0])) * float(rng.uniform(0.998, 1.002))
    t = np.arange(n) / sr
    tilt = float(rng.uniform(0.6, 2.0))
    odd = float(rng.uniform(0.0, 1.0))
    x = np.zeros(n)
    for k in range(1, int(1000 // mains) + 1):
        amp = k ** -tilt * (1.0 if k % 2 else 1.0 - odd)
        x += amp * np.sin(2 * math.pi * mains * k * t + rng.uniform(0, 2 * math.pi))
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def fan_noise(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS fan/air-conditioning noise: low-passed rumble, a broad whoosh band and the
    blade-pass tone with its harmonics, slowly wobbling."""
    rumble = sosfilt([biquad("lowpass", float(rng.uniform(150, 500)), sr)],
                     rng.standard_normal(n))
    centre = float(rng.uniform(500, 2500))
    whoosh = sosfilt([biquad("bandpass", centre, sr, q=float(rng.uniform(0.3, 1.0)))] * 2,
                     rng.standard_normal(n))
    t = np.arange(n) / sr
    blade = float(rng.uniform(40, 220))
    wobble = 1 + 0.01 * np.sin(2 * math.pi * float(rng.uniform(0.1, 0.5)) * t)
    phase = 2 * math.pi * blade * np.cumsum(wobble) / sr
    tone = sum(np.sin(k * phase) / k**1.5 for k in (1, 2, 3))
    x = (rumble / (np.std(rumble) + 1e-12) + float(rng.uniform(0.3, 1.0)) * whoosh
         / (np.std(whoosh) + 1e-12) + float(rng.uniform(0.0, 0.4)) * tone)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def babble(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS babble: 3..6 synthetic talkers (espeak-ng) at random offsets and levels."""
    from vocalmidi.train.negatives import speech

    x = np.zeros(n)
    for _ in range(int(rng.integers(3, 7))):
        talk = speech(n / sr + 1.0, sr, rng)
        off = int(rng.integers(0, max(1, talk.shape[0] - n)))
        seg = talk[off : off + n]
        x[: seg.shape[0]] += seg * float(rng.uniform(0.5, 1.0))
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def _noise(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "pink":
        return pink_noise(n, rng)
    if kind == "hum":
        return mains_hum(n, sr, rng)
    if kind == "fan":
        return fan_noise(n, sr, rng)
    return babble(n, sr, rng)


def augment(audio: np.ndarray, sr: int, rng: np.random.Generator, *,
            reference_power: float | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Record ``audio`` (host rate ``sr``) in a random condition and bring it to 16 kHz.

    Parameters
    ----------
    audio : numpy.ndarray
        Dry mono float32 audio at ``sr``.
    sr : int
        Its (host) sample rate.
    rng : numpy.random.Generator
        The clip's random stream.
    reference_power : float, optional
        Power the SNR is measured against (default: the clip's active power); negative
        clips pass a singer's level so that their noise is not scaled to their own level.

    Returns
    -------
    audio16k : numpy.ndarray
        float32 at 16 kHz, ``ceil(len(audio) * 16000 / sr)`` samples.
    params : dict
        What was applied, with a short ``condition`` name (``clean``, ``room+noise`` ...).
    """
    x = np.asarray(audio, dtype=np.float32)
    params: dict[str, Any] = {"host_rate": sr}
    parts: list[str] = []
    # A fifth of the clips stay clean (a close mic in a dry room): only level and rate.
    clean = rng.random() < CLEAN_SHARE
    if not clean and rng.random() < 0.5:
        x, p = add_room(x, sr, rng)
        params.update(p)
        parts.append("room")
    if not clean and rng.random() < 0.6:
        x, p = colour(x, sr, rng)
        params.update(p)
        parts.append("eq")
    if not clean and rng.random() < 0.6:
        kind = str(rng.choice(NOISE_KINDS, p=[0.3, 0.2, 0.25, 0.25]))
        snr = float(rng.uniform(0.0, 35.0))
        power = active_power(x, sr) if reference_power is None else reference_power
        if power <= 0:
            power = 10 ** (-30 / 10)
        x = x + math.sqrt(power / 10 ** (snr / 10)) * _noise(kind, x.shape[0], sr, rng)
        params.update({"noise": kind, "snr_db": round(snr, 1)})
        parts.append(kind)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if not clean and rng.random() < 0.08:
        # Overdriven input: the peak lands 1..14 dB over full scale and is clipped.
        drive_db = float(rng.uniform(1.0, 14.0))
        x = x * (10 ** (drive_db / 20) / max(peak, 1e-9))
        soft = rng.random() < 0.5
        x = np.tanh(x) if soft else np.clip(x, -1.0, 1.0)
        params.update({"clip": "soft" if soft else "hard", "drive_db": round(drive_db, 1)})
        parts.append("clip")
    else:
        level = float(rng.uniform(-45.0, -3.0))
        x = x * (10 ** (level / 20) / max(peak, 1e-9))
        params["peak_dbfs"] = round(level, 1)
    floor = float(rng.uniform(-100.0, -75.0))  # the converter's own noise
    x = x + 10 ** (floor / 20) * rng.standard_normal(x.shape[0])
    out = to_model_rate(x.astype(np.float32), sr)
    params["condition"] = "+".join(parts) or "clean"
    return out, params
