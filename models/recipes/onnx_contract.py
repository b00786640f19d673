"""Export a frame-in/pitch-out torch module to the engine's ONNX contract and check it.

Contract (see docs of the C++ engine adapters): one input ``audio_frames`` float32
``[N, W]`` (16 kHz windows, N dynamic, W static) and two outputs ``f0_hz`` and
``confidence``, both float32 ``[N]``; opset 17.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INPUT_NAME = "audio_frames"
OUTPUT_NAMES = ("f0_hz", "confidence")
OPSET = 17


def export_bytes(module: object, window: int) -> bytes:
    """Serialise ``module`` to ONNX bytes with the TorchScript-based exporter.

    The TorchScript exporter needs only ``onnx`` (the dynamo one needs onnxscript) and
    writes the same bytes for the same module and torch version.
    """
    import torch

    example = torch.zeros(2, window, dtype=torch.float32)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # constant-folding notes, and the notice that this exporter is the legacy one
        # (the dynamo exporter would add onnxscript; this one is in torch 2.13)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module, (example,), buffer, dynamo=False, opset_version=OPSET,
            input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
            dynamic_axes={INPUT_NAME: {0: "N"}, OUTPUT_NAMES[0]: {0: "N"},
                          OUTPUT_NAMES[1]: {0: "N"}},
            do_constant_folding=True)
    return buffer.getvalue()


def export_deterministic(module: object, window: int, path: Path) -> dict[str, object]:
    """Export twice, write the model, and report whether both exports were identical.

    Returns
    -------
    dict
        ``{"sha256": ..., "size": ..., "byte_identical": bool}``.
    """
    first = export_bytes(module, window)
    second = export_bytes(module, window)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(first)
    tmp.replace(path)
    return {"sha256": hashlib.sha256(first).hexdigest(), "size": len(first),
            "byte_identical": first == second}


def run_onnx(path: Path, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the exported model with onnxruntime on CPU; returns ``(f0_hz, confidence)``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    f0, conf = session.run(list(OUTPUT_NAMES), {INPUT_NAME: frames.astype(np.float32)})
    return np.asarray(f0), np.asarray(conf)


def describe_io(path: Path) -> dict[str, object]:
    """Names, element types and shapes of the model's inputs and outputs (dims as str/int)."""
    import onnx

    model = onnx.load(str(path))

    def dims(value: onnx.ValueInfoProto) -> list[object]:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    return {
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "inputs": {v.name: dims(v) for v in model.graph.input},
        "outputs": {v.name: dims(v) for v in model.graph.output},
        "input_types": [v.type.tensor_type.elem_type for v in model.graph.input],
    }


@dataclass
class Parity:
    """Largest differences between two ``(f0, confidence)`` results.

    Attributes
    ----------
    label : str
        What was compared, e.g. ``"onnx vs torch"``.
    max_cents : float
        Largest f0 difference (cents) over frames whose pitch is unambiguous.
    max_confidence : float
        Largest absolute confidence difference over all frames.
    frames : int
        Frames compared for confidence; ``f0_frames`` of them for f0.
    f0_frames : int
    """

    label: str
    max_cents: float
    max_confidence: float
    frames: int
    f0_frames: int

    def ok(self, cents_tol: float, conf_tol: float) -> bool:
        """True when both differences are within tolerance."""
        return self.max_cents <= cents_tol and self.max_confidence <= conf_tol

    def line(self) -> str:
        """One human-readable line."""
        return (f"{self.label}: max |df0| = {self.max_cents:.4f} cents over {self.f0_frames} "
                f"frames, max |dconf| = {self.max_confidence:.2e} over {self.frames} frames")


def compare(label: str, f0_a: np.ndarray, conf_a: np.ndarray, f0_b: np.ndarray,
            conf_b: np.ndarray, f0_mask: np.ndarray | None = None) -> Parity:
    """Compare two results; ``f0_mask`` selects frames whose argmax is unambiguous.

    A frame whose two best bins differ by less than float noise may pick either bin in
    two correct implementations, so f0 is compared only where ``f0_mask`` is True.
    """
    f0_a, f0_b = np.asarray(f0_a, np.float64), np.asarray(f0_b, np.float64)
    mask = np.ones(len(f0_a), dtype=bool) if f0_mask is None else f0_mask
    if not (np.all(np.isfinite(f0_a)) and np.all(np.isfinite(f0_b))):
        return Parity(label, float("inf"), float("inf"), len(f0_a), int(mask.sum()))
    cents = np.abs(1200.0 * np.log2(f0_a[mask] / f0_b[mask])) if mask.any() else np.zeros(1)
    dconf = np.abs(np.asarray(conf_a, np.float64) - np.asarray(conf_b, np.float64))
    return Parity(label, float(cents.max()), float(dconf.max()), len(f0_a), int(mask.sum()))


def write_entry(path: Path, entry: dict[str, object]) -> None:
    """Write a manifest entry as pretty JSON (atomic rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def tool_versions() -> dict[str, str]:
    """Versions of the tools that shaped the exported bytes."""
    import onnx
    import onnxruntime
    import torch

    return {"torch": torch.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "python": platform.python_version()}
