"""Accuracy and speed of every system that runs here, on the quick evaluation set.

Run with ``pytest benchmarks/test_accuracy_bench.py --benchmark-json=build/accuracy.json``:
each system is one benchmark (time = transcribing the whole quick set once), and its
accuracy per condition goes into the benchmark's ``extra_info`` in the JSON output.
Systems that cannot run here (no native build, no converted CREPE model) are listed
by ``vocalmidi eval systems`` and are not collected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from vocalmidi.eval.dataset import EvalSet, load_set, make_set  # noqa: E402
from vocalmidi.eval.runner import evaluate  # noqa: E402
from vocalmidi.eval.systems import available_systems, get_system  # noqa: E402

RUNNABLE = [name for name, state in available_systems().items() if state == "ok"]


@pytest.fixture(scope="session")
def quick_set(tmp_path_factory: pytest.TempPathFactory) -> EvalSet:
    root: Path = tmp_path_factory.mktemp("quick-evalset")
    make_set(root, quick=True)
    return load_set(root)


@pytest.mark.parametrize("name", RUNNABLE)
def test_accuracy(benchmark, quick_set: EvalSet, name: str) -> None:  # noqa: ANN001
    system = get_system(name)
    results = benchmark.pedantic(evaluate, args=([system], quick_set), rounds=1,
                                 iterations=1, warmup_rounds=0)
    res = results[0]
    benchmark.extra_info["rtf"] = round(res.rtf, 4)
    for cond, summary in res.by_condition.items():
        benchmark.extra_info[cond] = summary.as_dict()
    total = res.by_condition["all"]
    # Every system must transcribe something on sung takes and stay within range.
    assert total.n_est > 0
    assert 0.0 <= (total.f1_100 or 0.0) <= 1.0
