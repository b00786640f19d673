"""Live measurements: emission-latency matching, real-time pacing, thread CPU, and the
latency sweep through the built VST3 in our headless host (realtime mode).

``model_cache`` (tests/python/conftest.py) points ``VOCALMIDI_CACHE``, which the plugin
reads, at a cache holding the default model.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_eval_cli import quick_set, run_cli  # noqa: F401 (fixture)
from test_host_vocalmidi import tone  # the same voice-like tone at 48 kHz (= RATE)

from vocalmidi.eval.latency import (
    Pacer,
    emission_latencies,
    memory_mb,
    other_threads_cpu,
    thread_cpu_seconds,
)
from vocalmidi.eval.sweep import RATE, Take, host_latency_sweep
from vocalmidi.notes import Note


def test_each_true_note_takes_its_own_note_on_of_the_same_pitch() -> None:
    truth = [Note(1.0, 1.5, 60), Note(2.0, 2.4, 62), Note(2.5, 3.0, 62), Note(4.0, 4.5, 64)]
    ons = [(1.08, 60), (1.10, 60),  # a repeated note-on counts once
           (2.05, 61), (2.07, 62),  # a wrong pitch first, then the right one
           (2.58, 62),              # the repeated D takes the next D
           (4.9, 64),               # too late: missed
           (6.0, 60)]
    st = emission_latencies(truth, ons, window_s=0.5)
    assert st.latencies_ms == pytest.approx([80.0, 70.0, 80.0])
    assert (st.matched, st.n_truth, st.n_note_ons) == (3, 4, 7)
    assert st.recall == 0.75
    assert st.median_ms == pytest.approx(80.0)
    d = st.as_dict()
    assert d["matched"] == 3 and d["p95_ms"] == pytest.approx(80.0)
    # A note-on before the onset counts only within the early margin (50 ms).
    assert emission_latencies([Note(1.0, 2.0, 60)], [(0.97, 60)]).latencies_ms == \
        pytest.approx([-30.0])
    assert emission_latencies([Note(1.0, 2.0, 60)], [(0.9, 60)]).matched == 0


def test_pacer_never_runs_ahead_of_real_time() -> None:
    pacer = Pacer(48000)
    t0 = time.perf_counter()
    for _ in range(225):  # 0.3 s of 64-sample blocks
        pacer.wait(64)
        pacer.done(64)
    assert time.perf_counter() - t0 >= 0.3 - 1e-3
    assert pacer.blocks == 225


def test_thread_cpu_counts_other_threads_and_memory_is_read() -> None:
    done, own = threading.Event(), []

    def work() -> None:
        t0 = time.thread_time()
        while time.thread_time() - t0 < 0.3:
            pass
        own.append(time.thread_time() - t0)
        done.wait()  # stay alive: an ended thread leaves /proc with its CPU time

    t = threading.Thread(target=work)
    before = thread_cpu_seconds()
    t.start()
    while not own:
        time.sleep(0.02)
    used = other_threads_cpu(before, thread_cpu_seconds())
    done.set()
    t.join()
    assert used == pytest.approx(own[0], abs=0.05)
    mem = memory_mb()
    assert mem["rss"] and mem["peak"] and mem["peak"] >= mem["rss"] > 10


@pytest.mark.slow
def test_host_sweep_measures_emission_latency_in_realtime(model_cache: Path) -> None:
    gap = np.zeros(int(0.4 * RATE), np.float32)
    audio = np.concatenate([gap, tone(0.7, 220.0), gap, tone(0.7, 329.63), gap])
    truth = [Note(0.4, 1.1, 57), Note(1.5, 2.2, 64)]
    [res] = host_latency_sweep([Take("phrase", audio, truth)], [256])
    e = res.emission
    assert res.reported_latency_samples > 0
    assert e.matched == 2, e
    # Notes leave after they are sung and about the reported latency later, not seconds.
    assert 0 <= min(e.latencies_ms) and max(e.latencies_ms) <= res.reported_latency_ms + 150
    # Fed at real-time pace: the stream took its own length.
    assert res.wall_seconds >= (audio.size + RATE) / RATE - 0.05
    assert res.blocks == -(-(audio.size + RATE) // 256)
    d = res.as_dict()
    assert d["block_budget_us"] == pytest.approx(5333.3, abs=0.1)
    assert len(d["emission_latencies_ms"]) == 2


@pytest.mark.slow
def test_bench_live_writes_latency_and_cost(quick_set: Path, tmp_path: Path,  # noqa: F811
                                            model_cache: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "bench"
    code, out, err = run_cli(["bench", "--set", str(quick_set), "--system", "swift-f0",
                              "--out", str(out_dir), "--block-sizes", "512",
                              "--live-takes", "1"], capsys)
    assert code == 0, err
    live = json.loads((out_dir / "results.json").read_text())["live"]
    [host] = live["host"]
    assert host["block_size"] == 512 and host["reported_latency_ms"] > 0
    assert host["emission"]["matched"] > 0
    [eng] = live["engine"]
    assert eng["audio_block_mean_us"] > 0 and 0 < eng["ml_cpu_share"] < 1
    swift = next(r for r in live["offline"] if r["model"] == "swiftf0")
    assert swift["rtf"] > 0 and swift["peak_rss_mb"] > swift["model_delta_mb"] > 0
    assert "reported ms" in out and "model adds MiB" in out
    for name in ("latency_hist.png", "cpu_per_block.png"):
        assert (out_dir / name).read_bytes()[:4] == b"\x89PNG"
    # The Markdown tables the README shows: accuracy, then the sweep row for this block.
    summary = (out_dir / "summary.md").read_text()
    assert "| swift-f0 | clean |" in summary and "\n| 512 | " in summary
    # Beside the measured emission: the earliest SwiftF0's pitch could give each note.
    bound = live["bound"]["emission"]
    assert bound["n_truth"] == host["emission"]["n_truth"] and bound["matched"] > 0
    assert bound["median_ms"] >= 32
    assert f"\n| pitch-model bound (swiftf0) | - | {bound['median_ms']:.0f} / " in summary
    assert "pitch-model bound" in out
