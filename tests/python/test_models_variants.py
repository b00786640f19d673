"""Derived variants (int8/fp16 of SwiftF0): reproducible bytes, pulled like any model.

The pinned hashes hold for the onnx/onnxruntime versions pinned by the project
(onnx 1.23.2, onnxruntime 1.30.0); a different pair may serialise differently, which is
exactly what the pin is there to notice.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from vocalmidi.errors import DownloadError
from vocalmidi.models import ModelCache, PullOptions, parse_manifest, pull
from vocalmidi.models.manifest import bundled_manifest_path
from vocalmidi.models.variants import VariantReport, compare, wins

INT8_MATMUL = ("709320b435905b42a06ec807dc490fc1024f3a69c1716c171243e6866b2a199c", 145583)


def derived_manifest(sha256: str, size: int) -> dict:
    path = bundled_manifest_path()
    assert path is not None
    doc = json.loads(path.read_text())
    base = next(m for m in doc["models"] if m["id"] == "swiftf0")
    variant = copy.deepcopy(base)
    variant["id"] = "swiftf0-int8"
    variant["files"][0].update(
        name="model-int8.onnx",
        sha256=sha256,
        size=size,
        source={"type": "derived", "from": "swiftf0", "transform": "int8-dynamic-matmul"},
    )
    doc["models"] = [base, variant]
    doc["presets"] = {}
    doc.pop("default_file_model", None)  # names a model this subset drops
    doc["default_model"] = "swiftf0"  # as does default_model (vocalnote-s)
    return doc


def test_derived_variant_is_pulled_after_its_base_and_verified(
    model_cache: Path, tmp_path: Path
) -> None:
    store = ModelCache(tmp_path / "cache")
    # Seed the base from the session cache via a local path (no network needed).
    doc = derived_manifest(*INT8_MATMUL)
    src = model_cache / "models" / "swiftf0" / "model.onnx"
    doc["models"][0]["files"][0]["source"] = {"type": "path", "path": str(src)}
    [result] = pull(
        ["swiftf0-int8"],
        manifest=parse_manifest(doc),
        cache=store,
        options=PullOptions(offline=True),
    )
    assert result.fetched == ["model-int8.onnx"]
    assert store.verify(parse_manifest(doc).model("swiftf0-int8"))[0].ok
    assert store.file_path("swiftf0", "model.onnx").read_bytes() == src.read_bytes()


def test_derived_variant_with_a_wrong_pin_is_not_cached(model_cache: Path, tmp_path: Path) -> None:
    doc = derived_manifest("0" * 64, INT8_MATMUL[1])
    src = model_cache / "models" / "swiftf0" / "model.onnx"
    doc["models"][0]["files"][0]["source"] = {"type": "path", "path": str(src)}
    with pytest.raises(DownloadError, match="does not match the pinned"):
        pull(
            ["swiftf0-int8"],
            manifest=parse_manifest(doc),
            cache=tmp_path,
            options=PullOptions(offline=True),
        )
    assert not (tmp_path / "models" / "swiftf0-int8" / "model-int8.onnx").exists()


def test_variant_comparison_measures_agreement_on_sung_signal(model_cache: Path) -> None:
    reports = compare(model_cache / "models" / "swiftf0" / "model.onnx", ("int8-dynamic-matmul",))
    original, variant = reports
    assert original.transform == "fp32" and original.pitch_agreement == 1.0
    assert variant.sha256 == INT8_MATMUL[0] and variant.size == INT8_MATMUL[1]
    # Weight-only int8 of the MatMuls leaves SwiftF0's pitch decisions intact.
    assert variant.pitch_agreement > 0.99 and variant.voicing_agreement > 0.99
    assert original.ms_per_live_window > 0 and variant.ms_per_live_window > 0


def test_a_slower_variant_never_wins_even_when_smaller() -> None:
    fp32 = VariantReport("fp32", 100, "a", 30.0, 10.0, 1.0, 1.0)
    smaller_slower = VariantReport("int8-dynamic", 70, "b", 80.0, 30.0, 1.0, 1.0)
    faster = VariantReport("int8-dynamic-matmul", 110, "c", 25.0, 8.0, 1.0, 1.0)
    inaccurate = VariantReport("fp16", 50, "d", 20.0, 5.0, 0.9, 1.0)
    assert not wins(smaller_slower, fp32)
    assert wins(faster, fp32)
    assert not wins(inaccurate, fp32)
