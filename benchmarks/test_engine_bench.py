"""Engine speed and timing: audio-thread cost per block, ML-thread CPU share, offline
real-time factor, and emission latency per model and latency mode.

Run: VOCALMIDI_NATIVE_DIR=<dir with libvocalmidi.so> PYTHONPATH=pycontrol
     pytest benchmarks/test_engine_bench.py --benchmark-only
The emission-latency benchmarks use crepe-tiny and pesto when they are in the model cache
(``vocalmidi models pull crepe-tiny pesto``, ``VOCALMIDI_CACHE``) and skip them otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vocalmidi.engine import Engine, EventType, transcribe_array
from vocalmidi.errors import VocalMidiError
from vocalmidi.eval.dataset import load_set, make_set
from vocalmidi.eval.latency import Pacer, emission_latencies
from vocalmidi.eval.sweep import Take, join_takes, takes_from_set

BLOCK = 64
RATE = 48000
BLOCK_BUDGET_US = BLOCK / RATE * 1e6  # 1333 us


def test_audio_thread_cost_per_64_sample_block(
    benchmark: Any, swiftf0_model: Path, melody_48k: np.ndarray
) -> None:
    """Target: the engine's own audio-thread work is < 2% of the 1.33 ms block budget."""
    with Engine(swiftf0_model) as eng:
        eng.prepare(RATE, BLOCK, realtime=True)
        blocks = [melody_48k[i : i + BLOCK] for i in range(0, melody_48k.size - BLOCK, BLOCK)]
        state = {"i": 0}

        def one_block() -> None:
            eng.process(blocks[state["i"] % len(blocks)])
            state["i"] += 1

        benchmark.pedantic(one_block, rounds=3000, iterations=1, warmup_rounds=100)
        stats = eng.stats()
        eng.release()
    # The ctypes call dominates what pytest-benchmark sees; the engine's own timer is the
    # audio-thread cost a plugin host pays.
    block = stats["timers"]["audio_block"]
    benchmark.extra_info["engine_block_mean_us"] = block["mean_us"]
    benchmark.extra_info["engine_block_p99_us"] = block["p99_us"]
    benchmark.extra_info["engine_block_max_us"] = block["max_us"]
    assert block["mean_us"] < 0.02 * BLOCK_BUDGET_US
    assert block["p99_us"] < 0.02 * BLOCK_BUDGET_US


def _ml_share(model: Path, audio: np.ndarray, mode: str, kind: str = "swiftf0") -> dict[str, Any]:
    with Engine(model, kind) as eng:
        eng.set_param("latency_mode", mode)
        eng.prepare(RATE, 480, realtime=True)
        start = time.perf_counter()
        for n, i in enumerate(range(0, audio.size - 480, 480)):
            eng.process(audio[i : i + 480])
            # Paced like a sound card: 10 ms per 480-sample block.
            delay = start + (n + 1) * 0.01 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        time.sleep(0.2)
        stats = eng.stats()
        eng.release()
    return stats


def test_ml_thread_cpu_share_swiftf0(
    benchmark: Any, swiftf0_model: Path, melody_48k: np.ndarray
) -> None:
    """Target: the ML thread uses < 25% of one core while running SwiftF0 live."""
    audio = melody_48k[: RATE * 5]
    results: dict[str, dict[str, Any]] = {}

    def run() -> None:
        for mode in ("fast", "accurate"):
            results[mode] = _ml_share(swiftf0_model, audio, mode)

    benchmark.pedantic(run, rounds=1, iterations=1)
    for mode, stats in results.items():
        share = stats["ml"]["cpu_share"]
        benchmark.extra_info[f"{mode}_ml_cpu_share"] = share
        benchmark.extra_info[f"{mode}_inference_mean_us"] = stats["timers"]["inference"]["mean_us"]
        benchmark.extra_info[f"{mode}_frames_dropped"] = stats["ml"]["frames_dropped"]
        benchmark.extra_info[f"{mode}_latency_ms"] = stats["latency"]["algorithmic_ms"]
        assert share < 0.25, f"{mode}: ML thread used {share:.0%} of a core"
        assert stats["ml"]["frames_dropped"] == 0


def test_ml_thread_share_note_model_front_end_in_cpp_vs_in_the_graph(
    benchmark: Any, melody_48k: np.ndarray, tmp_path: Path
) -> None:
    """Target (issue 14): the ML thread <= 10 % of a core with our note model, Instant.
    vocalnote-s's float graph (note-features/1: the engine computes the front end in C++)
    beside the same weights with the front end inside the graph (note-model/1, the file
    shipped before session 32), runs interleaved so the machine's neighbours weigh on both
    alike. Session 32 on this machine: model 556-718 vs 915-1155 us a hop."""
    from vocalmidi.train.export import reexport_onnx

    shipped = Path(__file__).resolve().parents[1] / "models/trained/vocalnote-s/vocalnote-s.onnx"
    graphs = {"cpp_front_end": shipped,
              "front_end_in_graph": reexport_onnx(shipped, tmp_path / "audio-graph.onnx")}
    means = _note_models_interleaved(benchmark, graphs, melody_48k[: RATE * 5])
    # The point of the C++ front end: less per hop than the graph's own, same weights.
    assert means["cpp_front_end"] < means["front_end_in_graph"]


def _note_models_interleaved(benchmark: Any, graphs: dict[str, Path],
                             audio: np.ndarray) -> dict[str, float]:
    """Each note model graph through the engine, 3 runs each, interleaved so the machine's
    neighbours weigh on all alike; prints and records each one's median ML-thread share
    and model time a hop, and returns the latter by name."""
    shares: dict[str, list[float]] = {name: [] for name in graphs}
    means: dict[str, list[float]] = {name: [] for name in graphs}

    def run() -> None:
        for _ in range(3):
            for name, path in graphs.items():
                stats = _ml_share(path, audio, "instant", kind="vocalnote")
                shares[name].append(stats["ml"]["cpu_share"])
                means[name].append(stats["timers"]["inference"]["mean_us"])

    benchmark.pedantic(run, rounds=1, iterations=1)
    medians = {}
    for name in graphs:
        share, medians[name] = float(np.median(shares[name])), float(np.median(means[name]))
        print(f"{name:<20} ML thread {share:6.1%} of a core (target <= 10 %), "
              f"model {medians[name]:6.0f} us a hop")
        benchmark.extra_info[f"{name}_ml_cpu_share"] = round(share, 4)
        benchmark.extra_info[f"{name}_inference_mean_us"] = round(medians[name], 1)
    return medians


def test_ml_thread_share_note_model_int8_one_frame_vs_float(
    benchmark: Any, melody_48k: np.ndarray
) -> None:
    """Target (issue 14): the ML thread <= 10 % of a core with our note model, Instant.
    The shipped file (vocalnote-s-int8.onnx: one frame per call, the first and the GRU's
    products int8, vocalmidi.train.one_frame) beside the float graph it is made from,
    interleaved. Session 34 (the GRU's products only): 9.7 vs 10.9 % of a core here.
    Session 35 (the first product int8 too, a smaller graph): with `vocalmidi profile
    --realtime demo.wav` (128-sample blocks) ~80 us a hop less than session 34's file."""
    trained = Path(__file__).resolve().parents[1] / "models/trained/vocalnote-s"
    graphs = {"int8_one_frame": trained / "vocalnote-s-int8.onnx",
              "float": trained / "vocalnote-s.onnx"}
    means = _note_models_interleaved(benchmark, graphs, melody_48k[: RATE * 5])
    # Why it ships: less per hop than the float graph (accuracy: tests/python/test_one_frame.py
    # and the evaluation set, docs/measurements.md).
    assert means["int8_one_frame"] < means["float"]


def test_offline_real_time_factor(
    benchmark: Any, swiftf0_model: Path, melody_48k: np.ndarray
) -> None:
    """Offline transcription speed (seconds of compute per second of audio)."""
    seconds = melody_48k.size / RATE
    notes = benchmark.pedantic(
        lambda: transcribe_array(melody_48k, RATE, swiftf0_model, latency_mode="accurate"),
        rounds=2,
        iterations=1,
    )
    rtf = benchmark.stats.stats.mean / seconds
    benchmark.extra_info["real_time_factor"] = rtf
    benchmark.extra_info["notes"] = len(notes)
    assert len(notes) > 10
    assert rtf < 0.5


@pytest.fixture(scope="module")
def rendered_takes(tmp_path_factory: pytest.TempPathFactory) -> list[Take]:
    """Two clean takes of the quick evaluation set (rendered voices, exact truth)."""
    root = tmp_path_factory.mktemp("engine-evalset")
    make_set(root, quick=True)
    return takes_from_set(load_set(root), count=2)


def _model_path(model: str, swiftf0_model: Path) -> Path:
    if model == "swiftf0":
        return swiftf0_model
    from vocalmidi.models import get_model_path

    try:
        return get_model_path(model, download=False)
    except VocalMidiError as exc:
        pytest.skip(f"{model} is not in the model cache ({exc}): "
                    f"run `vocalmidi models pull {model}`")


@pytest.mark.parametrize("mode", ["fast", "accurate"])
@pytest.mark.parametrize("model", ["swiftf0", "crepe-tiny", "pesto"])
def test_emission_latency(benchmark: Any, swiftf0_model: Path, rendered_takes: list[Take],
                          model: str, mode: str) -> None:
    """Note-on out of the engine minus true onset, live: 64-sample blocks at 48 kHz fed at
    real-time pace (sleeping to each block's deadline like an audio callback).

    Target (issue 3): median under 60 ms with the default model (swiftf0) in Fast mode.
    The assertion checks what holds today (see docs/engine.md for the numbers and why).
    """
    path = _model_path(model, swiftf0_model)
    audio, truth = join_takes(rendered_takes)
    result: dict[str, Any] = {}

    def run() -> None:
        with Engine(path, model) as eng:
            eng.set_param("latency_mode", mode)
            eng.prepare(RATE, BLOCK, realtime=True)
            pacer = Pacer(RATE)
            ons: list[tuple[float, int]] = []
            for i in range(0, audio.size - BLOCK + 1, BLOCK):
                pacer.wait(BLOCK)
                ons += [(e.position / RATE, e.note) for e in eng.process(audio[i : i + BLOCK])
                        if e.type == EventType.NOTE_ON]
                pacer.done(BLOCK)
            result["stats"] = eng.stats()
            result["latency_ms"] = eng.latency_samples / RATE * 1000
            result["late_blocks"] = pacer.late
            eng.release()
        # Accurate mode's latency is ~0.35 s: count note-ons up to 0.3 s beyond it.
        window = max(0.5, result["latency_ms"] / 1000 + 0.3)
        result["emission"] = emission_latencies(truth, ons, window_s=window)

    benchmark.pedantic(run, rounds=1, iterations=1)
    em = result["emission"]
    stats = result["stats"]
    benchmark.extra_info.update({f"emission_{k}": v for k, v in em.as_dict().items()})
    benchmark.extra_info["reported_latency_ms"] = round(result["latency_ms"], 2)
    benchmark.extra_info["ml_cpu_share"] = round(stats["ml"]["cpu_share"], 4)
    benchmark.extra_info["frames_dropped"] = stats["ml"]["frames_dropped"]
    benchmark.extra_info["late_blocks"] = result["late_blocks"]
    assert em.recall >= 0.5, f"only {em.matched}/{em.n_truth} notes came out at their pitch"
    # Note-ons leave the reported latency after the onset the engine estimated, or when
    # they were decided if that is later: never long before, and typically not far after.
    assert em.median_ms is not None
    assert 0.5 * result["latency_ms"] <= em.median_ms <= result["latency_ms"] + 150, em.as_dict()
    assert stats["ml"]["frames_dropped"] == 0
