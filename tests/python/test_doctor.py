"""`vocalmidi doctor`: reports what is there and fails, with reasons, on what is not."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vocalmidi.cli.main import main


def _findings(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict, str]:
    rc = main(["doctor", "--json", *argv])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    return rc, {c["name"]: c for c in doc["checks"]}, captured.err


def test_doctor_reports_engine_models_and_jack(model_cache: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rc, checks, err = _findings(capsys, [])
    assert checks["engine"]["ok"], checks["engine"]["detail"]
    ort = checks["onnxruntime"]
    assert ort["ok"] and "CPUExecutionProvider" in ort["info"]["providers"]
    assert ort["info"]["version"].count(".") == 2
    assert checks["model:vocalnote-s (default)"]["ok"]
    assert checks["jackd"]["ok"] == bool(shutil.which("jackd"))
    gpu_present = bool(shutil.which("nvidia-smi")) or any(
        n.startswith("nvidia") for n in os.listdir("/dev"))
    assert checks["gpu"]["ok"] == gpu_present
    required_ok = all(c["ok"] for c in checks.values() if c["required"])
    assert (rc == 0) == required_ok
    assert (err == "") == required_ok


def test_doctor_fails_with_one_line_per_problem(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCALMIDI_NATIVE_DIR", str(tmp_path))  # an empty build
    monkeypatch.setenv("VOCALMIDI_CACHE", str(tmp_path / "cache"))  # no models
    rc, checks, err = _findings(capsys, [])
    assert rc == 3
    assert not checks["engine"]["ok"] and not checks["plugin"]["ok"]
    assert not checks["model:vocalnote-s (default)"]["ok"]
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert any("engine" in line and "make build" in line for line in lines)
    assert any("vocalnote-s" in line and "vocalmidi models pull vocalnote-s" in line
               for line in lines)


def test_doctor_detects_a_damaged_model(model_cache: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cache"
    shutil.copytree(model_cache, root, ignore=shutil.ignore_patterns("results", "locks", "tmp"))
    # The file the manifest names (a cache may also hold one an earlier manifest named).
    repo = Path(__file__).resolve().parents[2]
    manifest = json.loads((repo / "models" / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["id"] == "vocalnote-s")
    onnx = root / "models" / "vocalnote-s" / entry["files"][0]["name"]
    data = bytearray(onnx.read_bytes())
    data[100] ^= 0xFF
    onnx.write_bytes(bytes(data))
    monkeypatch.setenv("VOCALMIDI_CACHE", str(root))
    rc, checks, err = _findings(capsys, [])
    model = checks["model:vocalnote-s (default)"]
    assert not model["ok"] and "damaged" in model["detail"]
    assert rc != 0 and "damaged" in err
