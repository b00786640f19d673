"""Recording conditions: room reverb (sox), pink noise at a set SNR, negative clips.

Every function is deterministic for a given seed. Reverb keeps the dry path, so onsets
stay where the ground truth says; its tail is cut to the input length.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from vocalmidi.errors import BackendUnavailableError

__all__ = [
    "CONDITIONS",
    "NEGATIVE_KINDS",
    "active_power",
    "add_noise",
    "apply_condition",
    "negative_clip",
    "pink_noise",
    "room_reverb",
]

CONDITIONS = ("clean", "room", "noisy")
NEGATIVE_KINDS = ("pink", "roomtone", "clicks")


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of unit-RMS pink (1/f power) noise."""
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.shape[0], dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    x -= x.mean()
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def active_power(audio: np.ndarray, sr: int, floor_db: float = -40.0) -> float:
    """Mean power of the 20 ms frames within ``floor_db`` of the loudest frame.

    A simple active-level measure: silence between phrases does not dilute the SNR.
    """
    hop = max(1, int(0.02 * sr))
    n = audio.shape[0] // hop
    if n == 0:
        return float(np.mean(audio.astype(float) ** 2)) if audio.size else 0.0
    p = np.mean(audio[: n * hop].astype(float).reshape(n, hop) ** 2, axis=1)
    top = p.max()
    if top <= 0:
        return 0.0
    return float(p[p >= top * 10 ** (floor_db / 10)].mean())


def add_noise(audio: np.ndarray, sr: int, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add pink noise so that active signal power / noise power = ``snr_db``."""
    noise = pink_noise(audio.shape[0], rng)
    p = active_power(audio, sr)
    scale = np.sqrt(p / 10 ** (snr_db / 10)) if p > 0 else 0.0
    return (audio + scale * noise).astype(np.float32)


def _sox() -> str:
    exe = shutil.which("sox")
    if exe is None:
        raise BackendUnavailableError("sox is not installed: install the Debian package `sox`")
    return exe


def room_reverb(
    audio: np.ndarray,
    sr: int,
    *,
    reverberance: float = 50.0,
    damping: float = 50.0,
    room_scale: float = 80.0,
    wet_gain_db: float = -3.0,
) -> np.ndarray:
    """Add a room with sox's ``reverb`` (dry path kept, no pre-delay), same length out."""
    exe = _sox()
    with tempfile.TemporaryDirectory(prefix="vocalmidi-room-") as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(str(src), audio.astype(np.float32), sr, subtype="FLOAT")
        cmd = [exe, "-q", str(src), "-b", "32", "-e", "floating-point", str(dst), "reverb",
               f"{reverberance:g}", f"{damping:g}", f"{room_scale:g}", "100", "0",
               f"{wet_gain_db:g}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise BackendUnavailableError(f"sox reverb failed: {proc.stderr.strip()}")
        out, _ = sf.read(str(dst), dtype="float32", always_2d=True)
    out = out.mean(axis=1)
    if out.shape[0] < audio.shape[0]:
        out = np.pad(out, (0, audio.shape[0] - out.shape[0]))
    return np.ascontiguousarray(out[: audio.shape[0]], dtype=np.float32)


def apply_condition(
    audio: np.ndarray, sr: int, condition: str, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, float]]:
    """Apply ``clean``, ``room`` or ``noisy`` (room + pink noise at 15..20 dB SNR).

    Returns the processed audio and the parameters drawn (for the clip's metadata).
    """
    if condition == "clean":
        return audio.astype(np.float32), {}
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}: use {', '.join(CONDITIONS)}")
    params = {
        "reverberance": float(rng.uniform(35, 70)),
        "room_scale": float(rng.uniform(50, 100)),
        "damping": float(rng.uniform(30, 70)),
    }
    out = room_reverb(audio, sr, reverberance=params["reverberance"],
                      room_scale=params["room_scale"], damping=params["damping"])
    if condition == "noisy":
        params["snr_db"] = float(rng.uniform(15, 20))
        out = add_noise(out, sr, params["snr_db"], rng)
    return out, params


def negative_clip(kind: str, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A clip with no notes in it, to count false notes.

    ``pink``: steady pink noise; ``roomtone``: low brown noise with mains hum and a fan
    band; ``clicks``: quiet room tone with sharp knocks and clicks (desk, keyboard).
    Levels are near a quiet singer's, i.e. -30..-20 dBFS RMS.
    """
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    if kind == "pink":
        x = pink_noise(n, rng) * 10 ** (-24 / 20)
    elif kind == "roomtone":
        brown = np.cumsum(rng.standard_normal(n))
        brown -= np.convolve(brown, np.ones(2048) / 2048, mode="same")  # drop the drift
        brown /= np.sqrt(np.mean(brown**2)) + 1e-12
        mains = float(rng.choice([50.0, 60.0]))
        hum = sum(np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 6.3)) / k
                  for k in (1, 2, 3, 5))
        fan = np.convolve(rng.standard_normal(n), np.hanning(64) / 32, mode="same")
        x = 0.05 * brown + 0.02 * hum + 0.02 * fan
        x = x / (np.sqrt(np.mean(x**2)) + 1e-12) * 10 ** (-30 / 20)
    elif kind == "clicks":
        x = pink_noise(n, rng) * 10 ** (-45 / 20)
        for start in rng.uniform(0.2, max(0.3, seconds - 0.3), size=int(seconds * 1.5)):
            i = int(start * sr)
            length = int(rng.uniform(0.005, 0.04) * sr)
            burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.004 * sr))
            x[i : i + length] += 10 ** (rng.uniform(-18, -8) / 20) * burst[: n - i]
    else:
        raise ValueError(f"unknown negative kind {kind!r}: use {', '.join(NEGATIVE_KINDS)}")
    return np.asarray(x, dtype=np.float32)
