"""`vocalmidi models ...` as a user runs it: output, JSON, exit codes."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from test_models_server import Fault, FaultServer

from vocalmidi.cli import models as models_cli
from vocalmidi.errors import VocalMidiError
from vocalmidi.models.manifest import bundled_manifest_path


def run(*argv: str) -> int:
    """Run the models command the way ``vocalmidi.cli.main.main`` does."""
    parser = argparse.ArgumentParser(prog="vocalmidi")
    models_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["models", *argv])
    try:
        return int(args.func(args) or 0)
    except VocalMidiError as exc:
        print(f"vocalmidi: error: {exc}")
        return exc.exit_code


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = run(*argv, "--json")
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.fixture
def cache(tmp_path: Path, model_cache: Path) -> Path:
    """A private cache seeded with the verified default models (the plugin's, for files) and
    SwiftF0."""
    root = tmp_path / "cache"
    for model_id in ("vocalnote-s", "vocalnote-offline-s", "swiftf0"):
        shutil.copytree(model_cache / "models" / model_id, root / "models" / model_id)
    return root


def test_list_shows_default_and_state(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "list", "--cache", str(cache))
    assert code == 0
    states = {m["id"]: (m["status"], m["default"]) for m in data["models"]}
    assert states["vocalnote-s"] == ("cached", True)
    assert states["swiftf0"] == ("cached", False)
    assert states["basic-pitch"] == ("missing", False)
    assert data["presets"]["studio-polyphonic"] == {"f0": None, "notes": "basic-pitch"}
    code = run("list", "--cache", str(cache))
    text = capsys.readouterr().out
    assert code == 0 and "vocalnote-s" in text and "(default)" in text
    # every id stands apart from its task, the longest too (vocalnote-offline-s once read
    # "vocalnote-offline-snotes")
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines()[1:]
            if line.split() and line.split()[0] in states}
    assert set(rows) == set(states) and set(rows.values()) <= {"f0", "notes"}


def test_pull_without_id_pulls_the_default_offline_from_cache(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run_json(capsys, "pull", "--cache", str(cache), "--offline")
    assert code == 0
    # The defaults: the plugin's and the one for files (both in the test cache).
    live, files = data["models"]
    assert live["id"] == "vocalnote-s" and live["fetched"] == []
    assert Path(live["onnx_path"]) == cache / "models" / "vocalnote-s" / "vocalnote-s-int8.onnx"
    assert files["id"] == "vocalnote-offline-s" and files["fetched"] == []


def test_pull_preset_offline_names_what_is_missing(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run("pull", "--preset", "studio-polyphonic", "--cache", str(cache), "--offline")
    out = capsys.readouterr().out
    assert code == 6
    assert "offline: basic-pitch/nmp.onnx is not in the cache" in out


def test_pull_preset_fetches_its_models(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "pull", "--preset", "studio-polyphonic", "--cache", str(cache))
    assert code == 0
    assert [m["id"] for m in data["models"]] == ["basic-pitch"]
    assert (cache / "models" / "basic-pitch" / "nmp.onnx").stat().st_size == 230444


def test_pull_from_a_manifest_url(
    cache: Path, fault_server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(bundled_manifest_path().read_text())  # type: ignore[union-attr]
    data = (cache / "models" / "swiftf0" / "model.onnx").read_bytes()
    doc["models"] = [m for m in doc["models"] if m["id"] == "swiftf0"]
    doc["models"][0]["id"] = doc["default_model"] = "served"
    doc["models"][0]["files"][0]["source"] = {"type": "url", "url": fault_server.url("/m.onnx")}
    doc["presets"] = {}
    doc.pop("default_file_model", None)  # names a model this subset drops
    fault_server.add("/manifest.json", json.dumps(doc).encode())
    fault_server.add("/m.onnx", data, Fault(drop_after=1000))
    url = fault_server.url("/manifest.json")
    code = run("pull", "--manifest", url, "--cache", str(cache))
    assert code == 6 and "refusing plain http" in capsys.readouterr().out
    code, out = run_json(capsys, "pull", "--manifest", url, "--cache", str(cache), "--allow-http")
    assert code == 0 and out["models"][0]["fetched"] == ["model.onnx"]
    assert (cache / "models" / "served" / "model.onnx").read_bytes() == data


def test_verify_reports_damage_with_exit_code_4(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = run_json(capsys, "verify", "--cache", str(cache))
    assert code == 0 and data["ok"] is True
    path = cache / "models" / "swiftf0" / "model.onnx"
    raw = bytearray(path.read_bytes())
    raw[5000] ^= 0x40
    path.write_bytes(bytes(raw))
    code, data = run_json(capsys, "verify", "--cache", str(cache))
    assert code == 4 and data["ok"] is False
    assert data["files"][0]["state"] == "hash"


def test_info_unknown_model_is_a_one_line_error(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("info", "nope", "--cache", str(cache)) == 4
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "unknown model 'nope'" in out
    code, data = run_json(capsys, "info", "--cache", str(cache))
    assert code == 0 and data["id"] == "vocalnote-s" and data["status"] == "cached"
    assert data["cache_files"][0]["state"] == "ok"


def test_rm_and_gc(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("rm", "basic-pitch", "--cache", str(cache)) == 4  # not cached: nothing lost
    assert "not in the cache" in capsys.readouterr().out
    assert run("rm", "../etc", "--cache", str(cache)) == 4
    capsys.readouterr()
    part = cache / "tmp" / "swiftf0" / "model.onnx.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 10)
    code, data = run_json(capsys, "gc", "--cache", str(cache))
    assert code == 0 and data["parts_removed"] == 1 and data["evicted"] == []
    code, data = run_json(capsys, "gc", "--max-size", "1K", "--cache", str(cache))
    assert sorted(data["evicted"]) == ["swiftf0", "vocalnote-offline-s", "vocalnote-s"]
    assert data["total_after"] == 0
    assert run("gc", "--max-size", "lots", "--cache", str(cache)) == 2
    assert "invalid size 'lots'" in capsys.readouterr().out
    code, data = run_json(capsys, "rm", "--all", "--cache", str(cache))
    assert code == 0 and data["removed"] == []


@pytest.mark.parametrize(
    ("text", "size"), [("0", 0), ("512", 512), ("1K", 1024), ("1.5M", 1572864), ("2GiB", 2 << 30)]
)
def test_parse_size(text: str, size: int) -> None:
    assert models_cli.parse_size(text) == size
