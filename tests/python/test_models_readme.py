"""models/README.md's table lists every model of models/manifest.json, with its file."""

from __future__ import annotations

import json
import re
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_readme_table_lists_every_manifest_model_with_its_size_and_license() -> None:
    manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
    rows = {m.group(1): m.group(0) for m in re.finditer(
        r"^\| `([^`]+)`.*\|$", (MODELS / "README.md").read_text(encoding="utf-8"), re.MULTILINE)}
    listed = {name for name in rows if name in {m["id"] for m in manifest["models"]}}
    assert listed == {m["id"] for m in manifest["models"]}
    for model in manifest["models"]:
        onnx = next(f for f in model["files"] if f.get("role") == "onnx")
        row = rows[model["id"]]
        assert f"{onnx['size']:,} B".replace(",", " ") in row  # written as "135 090 B"
        assert f"| {model['license']} |" in row and f"| {model['task']} |" in row
