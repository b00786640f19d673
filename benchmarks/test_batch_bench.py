"""Batch transcription throughput: files per minute of the local pool (1 and 2 processes)
and of Ray (a local instance with 1 and 2 actors) on the same files, in one run.

Each configuration is the real CLI in a subprocess, as a user runs it (``--no-cache``, so
every file is decoded), timed from start to exit: Ray's numbers include starting Ray and
warming the actors. All configurations must write byte-identical MIDI files.

Run with::

    pytest benchmarks/test_batch_bench.py --benchmark-only --benchmark-json=build/batch-pytest.json

It writes ``build/batch-bench.json`` (files/min per configuration, machine, files) and the
plot ``docs/images/bench/batch_scaling.png`` (``VOCALMIDI_BATCH_PLOT`` to put it
elsewhere). ``VOCALMIDI_BATCH_FILES`` sets the number of files (default 16).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from conftest import sung_melody

REPO = Path(__file__).resolve().parents[1]
N_FILES = int(os.environ.get("VOCALMIDI_BATCH_FILES", "16"))
CONFIGS = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
RESULTS: dict[str, dict[str, Any]] = {}
OUTPUTS: dict[str, dict[str, bytes]] = {}


@pytest.fixture(scope="module")
def model_cache() -> Path:
    """The default model, pulled and verified (as the tests' cache, which it shares)."""
    from vocalmidi.models import pull

    root = Path(os.environ.get("VOCALMIDI_TEST_CACHE", REPO / "build" / "test-cache"))
    pull(cache=root)
    return root


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sung-like takes of 3-9 s at 16, 44.1 and 48 kHz (seeded: the same every run)."""
    folder = tmp_path_factory.mktemp("batch-takes")
    for i in range(N_FILES):
        sr = (44100, 48000, 16000)[i % 3]
        sf.write(folder / f"take{i:02d}.wav", sung_melody(sr, 3.0 + (i * 5) % 7, seed=100 + i),
                 sr)
    return folder


def _name(runner: str, workers: int) -> str:
    return f"{runner} pool, {workers} process(es)" if runner == "local" else \
        f"ray, {workers} actor(s)"


@pytest.mark.parametrize(("runner", "workers"), CONFIGS,
                         ids=[f"{r}-{w}" for r, w in CONFIGS])
def test_batch_throughput(benchmark: Any, runner: str, workers: int, takes: Path,
                          model_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vocalmidi", "transcribe", str(takes), "-o", str(out),
           "--no-cache", "--json-summary", "-q", "-j", str(workers)]
    if runner == "ray":
        pytest.importorskip("ray", reason="needs vocalmidi[ray]")
        cmd.append("--ray")
    env = {**os.environ, "VOCALMIDI_CACHE": str(model_cache)}

    def run() -> tuple[float, dict[str, Any]]:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        wall = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr[-3000:]
        return wall, json.loads(proc.stdout)

    wall, summary = benchmark.pedantic(run, rounds=1, iterations=1)
    assert summary["ok"] and summary["decoded"] == N_FILES
    files_per_min = 60.0 * N_FILES / wall
    name = _name(runner, workers)
    # Ray's start-up (until its first actor is warm) is paid once per batch; the rate
    # after it is what a long batch approaches.
    startup = summary.get("startup_seconds") or 0.0
    RESULTS[name] = {"runner": runner, "workers": workers, "seconds": round(wall, 2),
                     "files_per_min": round(files_per_min, 2),
                     "startup_seconds": round(startup, 2),
                     "files_per_min_after_startup": round(60.0 * N_FILES / (wall - startup), 2)}
    benchmark.extra_info.update(RESULTS[name])
    OUTPUTS[name] = {p.name: p.read_bytes() for p in sorted(out.glob("*.mid"))}
    first = next(iter(OUTPUTS.values()))
    assert OUTPUTS[name] == first, f"{name} wrote other MIDI files than the first runner"
    if len(RESULTS) == len(CONFIGS):  # the last one: compare them all
        _report(takes)


def _report(takes: Path) -> None:
    """``build/batch-bench.json`` and the plot of the runs above."""
    audio_s = sum(sf.info(str(p)).duration for p in takes.glob("*.wav"))
    doc = {
        "files": N_FILES,
        "audio_seconds": round(audio_s, 1),
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "results": list(RESULTS.values()),
    }
    (REPO / "build").mkdir(exist_ok=True)
    (REPO / "build" / "batch-bench.json").write_text(json.dumps(doc, indent=2) + "\n")
    _plot(doc, Path(os.environ.get("VOCALMIDI_BATCH_PLOT",
                                   REPO / "docs" / "images" / "bench" / "batch_scaling.png")))
    print(json.dumps(doc, indent=2))


def _plot(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    counts = sorted({r["workers"] for r in doc["results"]})
    for k, (runner, color, label) in enumerate((("local", "tab:blue", "local pool"),
                                                 ("ray", "tab:orange", "Ray (local instance)"))):
        rows = {r["workers"]: r["files_per_min"] for r in doc["results"]
                if r["runner"] == runner}
        xs = [i + (k - 0.5) * 0.38 for i, _ in enumerate(counts)]
        bars = ax.bar(xs, [rows.get(w, 0.0) for w in counts], width=0.36, color=color,
                      label=label)
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.set_xticks(range(len(counts)), [str(w) for w in counts])
    ax.set_xlabel("worker processes / Ray actors")
    ax.set_ylabel("files per minute")
    ax.margins(y=0.35)  # room for the legend above the bars
    load = doc.get("load_average_1m")
    ax.set_title(f"{doc['files']} takes ({doc['audio_seconds']:.0f} s of audio), "
                 f"{doc['cpus']} cores" + (f", load average {load:.1f}" if load else ""),
                 fontsize=9)
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
