"""Shared fixtures for the benchmarks: the real SwiftF0 model and sung-like test audio."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def swiftf0_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """swift_f0/model.onnx from the swift-f0 0.3.0 wheel (or $VOCALMIDI_SWIFTF0_ONNX)."""
    override = os.environ.get("VOCALMIDI_SWIFTF0_ONNX")
    if override:
        return Path(override)
    d = tmp_path_factory.mktemp("swiftf0")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "swift-f0==0.3.0"]
        + ["-d", str(d)],
        check=True,
    )
    with zipfile.ZipFile(next(d.glob("swift_f0-*.whl"))) as z:
        z.extract("swift_f0/model.onnx", d)
    return d / "swift_f0" / "model.onnx"


def sung_melody(sr: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A random sung-like melody: harmonic tones with vibrato, gaps and legato joins."""
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(int(seconds * sr)) * 1e-3
    t0 = 0.2
    while t0 < seconds - 0.5:
        dur = rng.uniform(0.15, 0.6)
        a, b = int(t0 * sr), int(min(seconds, t0 + dur) * sr)
        t = np.arange(b - a) / sr
        midi = rng.integers(45, 76)
        f0 = 440.0 * 2 ** ((midi - 69 + 0.4 * np.sin(2 * np.pi * 5.5 * t)) / 12)
        phase = np.cumsum(2 * np.pi * f0 / sr)
        env = np.minimum(1, t / 0.05) * np.minimum(1, (t[-1] - t) / 0.04)
        out[a:b] += 0.18 * env * sum(np.sin(k * phase) / k for k in range(1, 9))
        t0 += dur + (0.0 if rng.random() < 0.4 else rng.uniform(0.05, 0.3))
    return out.astype(np.float32)


@pytest.fixture(scope="session")
def melody_48k() -> np.ndarray:
    return sung_melody(48000, 10.0)
