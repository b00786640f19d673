"""Graphs that keep a streaming note model's contract but do less, to see where a hop's
cost goes (``benchmarks/test_note_model_bench.py``; docs/measurements.md, session 31).

- ``floor``: the contract's tensors in and out, each output a mean of the hop: what an
  ONNX Runtime call costs whatever the model;
- ``front``: the model's own front end (:mod:`vocalmidi.train.features`), its features
  averaged into the outputs: what the front end costs without the network.

Both carry the model's metadata, so :class:`~vocalmidi.train.export.OnnxNoteModel` and the
engine (``vocalmidi profile --model FILE --kind vocalnote``) run them like the model. Their
outputs mean nothing: they are for timing only.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from vocalmidi.train.contract import (
    CONTEXT,
    HOP,
    INPUT_AUDIO,
    INPUT_CONTEXT,
    INPUT_HIDDEN,
    OUTPUT_CONTEXT,
    OUTPUT_HIDDEN,
)

__all__ = ["PARTS", "export_part"]

PARTS = ("floor", "front")


def export_part(model_path: str | Path, part: str, out: str | Path) -> Path:
    """Write the ``part`` graph (:data:`PARTS`) of the streaming model at ``model_path``."""
    import onnx
    import torch

    from vocalmidi.train.export import OPSET, OUTPUTS
    from vocalmidi.train.from_onnx import net_from_onnx

    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    net = net_from_onnx(model_path)
    front = net.config.front_end() if part == "front" else None

    class Part(torch.nn.Module):
        def forward(self, audio: torch.Tensor, ctx_in: torch.Tensor,
                    h_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
            buf = torch.cat([ctx_in, audio], dim=1)
            if front is None:
                x = audio.reshape(1, -1, HOP).mean(-1)
            else:
                x = front(buf).mean(-1)
            return x, x, x + 60.0, x, x + 60.0, buf[:, -CONTEXT:], h_in * 0.5

    frames = {1: "frames"}
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation note
        torch.onnx.export(
            Part().eval(), (torch.zeros(1, 4 * HOP), torch.zeros(1, CONTEXT),
                            net.initial_state(1)), buf,
            input_names=[INPUT_AUDIO, INPUT_CONTEXT, INPUT_HIDDEN],
            output_names=[*OUTPUTS, OUTPUT_CONTEXT, OUTPUT_HIDDEN],
            dynamic_axes={INPUT_AUDIO: {1: "samples"}, **{o: frames for o in OUTPUTS}},
            opset_version=OPSET, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    for prop in onnx.load(str(model_path)).metadata_props:
        entry = proto.metadata_props.add()
        entry.key, entry.value = prop.key, prop.value
    out = Path(out)
    onnx.save(proto, str(out))
    return out
