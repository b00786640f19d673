"""`--device auto|cpu|cuda`: the choice, its reason, and the CPU fallback a user sees on a
machine without a GPU (these tests run without one; on a GPU machine the fallback cases
are skipped)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import soundfile as sf
from test_transcribe import MELODY, fresh_cache, sing  # noqa: F401  (fresh_cache: fixture)

from vocalmidi.cli.main import main
from vocalmidi.device import ENV_VAR, gpu_names, resolve_device
from vocalmidi.errors import UsageError
from vocalmidi.midi_io import read_notes

no_gpu = pytest.mark.skipif(bool(gpu_names()), reason="this machine has a GPU")


def test_cpu_is_always_the_cpu_and_bad_names_are_usage_errors() -> None:
    assert resolve_device("cpu").device == "cpu"
    assert resolve_device("CPU").requested == "cpu"
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        resolve_device("gpu")


@no_gpu
def test_cuda_without_a_gpu_falls_back_with_the_reason() -> None:
    choice = resolve_device("cuda")
    assert choice.device == "cpu" and choice.fell_back
    assert "no NVIDIA GPU" in choice.reason


@no_gpu
def test_transcribe_cli_device_cuda_runs_on_the_cpu_and_says_why(
        fresh_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    sf.write(tmp_path / "take.wav", sing(16000), 16000)
    out = tmp_path / "out"
    rc = main(["transcribe", str(tmp_path / "take.wav"), "-o", str(out), "-q", "--device",
               "cuda", "--json-summary"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "--device cuda: no NVIDIA GPU found, running on the CPU" in captured.err
    summary = json.loads(captured.out)
    assert summary["device"]["requested"] == "cuda" and summary["device"]["device"] == "cpu"
    assert [n.pitch for n in read_notes(out / "take.mid")] == [p for p, _ in MELODY]
    # The engine is told: it keeps its sessions on the CPU.
    assert os.environ[ENV_VAR] == "cpu"


@no_gpu
def test_python_api_device_cuda_warns_and_falls_back(fresh_cache: Path) -> None:  # noqa: F811
    import vocalmidi
    from vocalmidi import device

    device._warned.discard("cuda")
    with pytest.warns(RuntimeWarning, match="no NVIDIA GPU"):
        notes = vocalmidi.transcribe(sing(16000), 16000, device="cuda", use_cache=False)
    assert [n.pitch for n in notes] == [p for p, _ in MELODY]


def test_doctor_json_reports_the_device_and_why(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "cpu")
    main(["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    device = checks["device"]
    assert device["info"]["device"] == "cpu" and device["info"]["requested"] == "cpu"
    assert device["detail"] == "cpu: the CPU was asked for"
