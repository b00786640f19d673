"""`--device auto|cpu|cuda`: the choice, its reason, and the CPU fallback a user sees on a
machine without a GPU (these tests run without one; on a GPU machine the fallback cases
are skipped)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_transcribe import MELODY, sing

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
    # setenv, not delenv: the run sets the variable, and only a recorded value is restored.
    monkeypatch.setenv(ENV_VAR, "auto")
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
def test_python_api_device_cuda_warns_and_falls_back(
        fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import vocalmidi
    from vocalmidi import device

    monkeypatch.setenv(ENV_VAR, "auto")  # restored after: the fallback sets it to cpu

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


@pytest.fixture(scope="module")
def gpu_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """onnxruntime-gpu's libraries, of the engine's ONNX Runtime release, from its wheel
    (kept in build/ so later runs need no download)."""
    import subprocess
    import sys
    import zipfile

    from vocalmidi.device import engine_ort_version

    version = engine_ort_version()
    assert version, "cannot read the engine's ONNX Runtime version"
    root = Path(__file__).resolve().parents[2] / "build" / f"ort-gpu-{version}"
    capi = root / "onnxruntime" / "capi"
    names = [f"libonnxruntime.so.{version}", "libonnxruntime_providers_shared.so",
             "libonnxruntime_providers_cuda.so"]
    if not all((capi / n).is_file() for n in names):
        download = tmp_path_factory.mktemp("ort-gpu")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        f"onnxruntime-gpu=={version}", "-d", str(download)], check=True)
        with zipfile.ZipFile(next(download.glob("onnxruntime_gpu-*.whl"))) as wheel:
            for name in names:
                wheel.extract(f"onnxruntime/capi/{name}", root)
    return capi


@pytest.mark.slow
def test_the_engine_binds_to_onnxruntime_gpu_and_gives_the_same_notes(
        gpu_build: Path, fresh_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    """With onnxruntime-gpu's library the engine offers the CUDA provider; without a GPU it
    still runs (on the CPU provider of that library) and gives the notes of the CPU build."""
    import subprocess
    import sys

    wav = tmp_path / "take.wav"
    sf.write(wav, sing(22050), 22050)
    probe = ("import json, vocalmidi\n"
             "from vocalmidi.device import load_gpu_runtime\n"
             "from vocalmidi.engine import onnxruntime_info\n"
             "why = load_gpu_runtime()\n"
             f"notes = vocalmidi.transcribe({str(wav)!r}, use_cache=False)\n"
             "print(json.dumps({'why': why, 'ort': onnxruntime_info(),\n"
             "                  'notes': [n.to_dict() for n in notes]}))\n")
    env = {**os.environ, "VOCALMIDI_ORT_GPU_DIR": str(gpu_build)}
    runs = {}
    for name, run_env in (("gpu build", env), ("cpu build", dict(os.environ))):
        out = subprocess.run([sys.executable, "-c", probe], env=run_env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    assert runs["gpu build"]["why"] == ""
    assert "CUDAExecutionProvider" in runs["gpu build"]["ort"]["providers"]
    assert "CUDAExecutionProvider" not in runs["cpu build"]["ort"]["providers"]
    assert runs["gpu build"]["notes"] == runs["cpu build"]["notes"]
    assert [n["pitch"] for n in runs["gpu build"]["notes"]] == [p for p, _ in MELODY]


def _cuda_in_python_onnxruntime() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


@pytest.fixture
def note_model(fresh_cache: Path) -> Path:  # noqa: F811
    """vocalnote-s pulled (SHA-256 checked) into a result-free cache; its ONNX file."""
    from vocalmidi.models import pull
    from vocalmidi.transcribe import resolve_model

    pull(["vocalnote-s"], cache=fresh_cache)
    return Path(resolve_model("vocalnote-s")[0].path)


@pytest.mark.skipif(_cuda_in_python_onnxruntime(), reason="onnxruntime-gpu is installed")
def test_note_model_session_on_cuda_without_the_provider_runs_on_the_cpu(
        note_model: Path) -> None:
    from vocalmidi.train.export import OnnxNoteModel

    audio = sing(16000)
    cpu = OnnxNoteModel(note_model, device="cpu")
    with pytest.warns(RuntimeWarning, match="no CUDA provider.*runs on the CPU"):
        cuda = OnnxNoteModel(note_model, device="cuda")
    assert cpu.device == cuda.device == "cpu"
    assert cuda.session.get_providers() == ["CPUExecutionProvider"]
    a, b = cpu.run(audio), cuda.run(audio)
    for name in ("onset", "sounding", "note", "note_conf", "pitch"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@no_gpu
def test_whole_take_route_device_cuda_falls_back_with_the_same_notes(
        note_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "auto")  # restored after the runs set it
    sf.write(tmp_path / "take.wav", sing(48000), 48000)
    mids = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        rc = main(["transcribe", str(tmp_path / "take.wav"), "-o", str(out), "-q",
                   "--no-cache", "--model", "vocalnote-s", "--device", device,
                   "--json-summary"])
        captured = capsys.readouterr()
        assert rc == 0, captured.err
        assert json.loads(captured.out)["device"]["device"] == "cpu"
        mids[device] = (out / "take.mid").read_bytes()
        if device == "cuda":
            assert "--device cuda: no NVIDIA GPU found, running on the CPU" in captured.err
    assert mids["cuda"] == mids["cpu"]
    # The shipped model may split a held note in two: every sung pitch, nothing else.
    assert {n.pitch for n in read_notes(tmp_path / "cuda" / "take.mid")} == {
        p for p, _ in MELODY}
