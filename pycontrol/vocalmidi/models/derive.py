"""Variants computed from another model: int8 (dynamic quantisation) and fp16.

A ``derived`` source names the model it starts from and a transform. The result must be
byte-for-byte reproducible, because its SHA-256 is pinned in the manifest like any other
file; that holds for a given ``onnx``/``onnxruntime`` version pair.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from vocalmidi.errors import ModelError

TRANSFORMS = ("int8-dynamic", "int8-dynamic-matmul", "fp16")


def derive(transform: str, source: Path, dest: Path) -> None:
    """Write the ``transform`` variant of the ONNX model ``source`` to ``dest``.

    Parameters
    ----------
    transform : str
        ``"int8-dynamic"`` (weights to int8, activations quantised at run time),
        ``"int8-dynamic-matmul"`` (the same for MatMul only, convolutions stay float) or
        ``"fp16"`` (weights and compute in float16, inputs and outputs kept float32).
    source, dest : Path
        Input and output ONNX files.

    Raises
    ------
    ModelError
        For an unknown transform or when ``onnx``/``onnxruntime`` is missing.
    """
    if transform not in TRANSFORMS:
        raise ModelError(f"unknown transform {transform!r}: use one of {', '.join(TRANSFORMS)}")
    try:
        import onnx
    except ImportError:
        raise ModelError(
            f"the {transform} transform needs the onnx package: pip install onnx"
        ) from None
    if transform.startswith("int8-dynamic"):
        from onnxruntime.quantization import QuantType, quantize_dynamic

        ops = ["MatMul"] if transform == "int8-dynamic-matmul" else None
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "model.onnx"
            quantize_dynamic(
                str(source), str(out), weight_type=QuantType.QInt8, op_types_to_quantize=ops
            )
            # Re-serialise so that the bytes do not depend on the temporary path.
            model = onnx.load(str(out))
            dest.write_bytes(model.SerializeToString(deterministic=True))
        return
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(source))
    half = convert_float_to_float16(model, keep_io_types=True)
    dest.write_bytes(half.SerializeToString(deterministic=True))
