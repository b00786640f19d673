"""Offline transcription speed with basic-pitch: the engine against the basic-pitch package.

Both run the same ``nmp.onnx`` on the same 30 s take (48 kHz, resampled to 22.05 kHz by
each: the engine's own resampler, librosa/soxr in the package). The engine uses one
ONNX Runtime thread; the package uses ONNX Runtime's default (all cores).

Run: VOCALMIDI_NATIVE_DIR=<dir with libvocalmidi.so> PYTHONPATH=pycontrol
     pytest benchmarks/test_basic_pitch_bench.py --benchmark-only
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from conftest import sung_melody

from vocalmidi.engine import transcribe_array

RATE = 48000
SECONDS = 30.0


def test_offline_rtf_basic_pitch_engine_vs_package(benchmark: Any, tmp_path: Path) -> None:
    """Target: the engine transcribes with basic-pitch at least 5x faster than real time
    (RTF < 0.2) on one core, and is not slower than the package by more than 1.5x."""
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp = pytest.importorskip("basic_pitch", reason="pip install --no-deps basic-pitch==0.4.0")
        from basic_pitch import inference
    nmp = Path(bp.__file__).parent / "saved_models" / "icassp_2022" / "nmp.onnx"
    audio = sung_melody(RATE, SECONDS, seed=3)
    wav = tmp_path / "take.wav"
    sf.write(wav, audio, RATE, subtype="FLOAT")
    model = inference.Model(nmp)
    times: dict[str, float] = {}

    def run() -> None:
        t0 = time.perf_counter()
        transcribe_array(audio, RATE, nmp, kind="basic-pitch")
        times["engine"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inference.predict(wav, model)
        times["package"] = time.perf_counter() - t0

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    rtf = {k: v / SECONDS for k, v in times.items()}
    benchmark.extra_info.update({f"{k}_rtf": v for k, v in rtf.items()})
    assert rtf["engine"] < 0.2
    assert rtf["engine"] < 1.5 * rtf["package"]
