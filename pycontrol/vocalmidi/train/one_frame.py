"""The engine's form of a streaming note model: one frame per call, its GRU written out
as matrix products, the large ones int8.

Why (docs/measurements.md, session 34): the engine calls the model once a hop, 5 ms
apart, and by then the weights (2.2 MB as float32) have left the caches; reading them
back was most of a call. ONNX Runtime's dynamic quantisation turns a ``MatMul`` with a
constant weight into an int8 product, a quarter of the bytes, but it does not reach
inside a ``GRU`` node, and a ``Scan`` over frames cost more per call than it saved. So
this graph takes exactly one frame (``features`` ``[1, 1, F]``, ``head`` ``[1, 1, 54]``:
the ``note-features/1`` contract with its frames axis fixed at 1) and writes each GRU
layer as two products and its gates. A backlog is run one call per hop, by the engine
(NoteModel::stepHopByHop) and by :class:`vocalmidi.train.export.OnnxNoteModel`.

Session 35 found most of a paced call is ONNX Runtime's own work with cold caches (~95 µs
for a one-node graph, ~2 µs more a node) and the bytes it reads, so the graph is kept
small: 2-D rows, the normalisation folded into the first product, and that product (the
features' 613 x 192 weights, the largest left in float32) int8 too (48 -> 39 nodes after
ONNX Runtime's fusions, 1.06 -> 0.70 MB, ~50 µs a paced call less).

``python -m vocalmidi.train.one_frame FLOAT.onnx OUT.onnx`` writes it from a shipped
float graph (any contract of a causal model); the float file stays the weights' record
that fine-tunes start from (:func:`vocalmidi.train.from_onnx.net_from_onnx` refuses this
one).
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from vocalmidi.train.contract import INPUT_FEATURES, INPUT_HIDDEN, OUTPUT_HEAD, OUTPUT_HIDDEN

if TYPE_CHECKING:
    from vocalmidi.train.model import NoteNet

__all__ = ["INT8_KEY", "export_one_frame", "main", "one_frame_from_file"]

#: Metadata key of a one-frame graph: which products are int8 ("input+gru": the first
#: product, features into the MLP, and the GRU layers' input and recurrent products;
#: "gru": the GRU's only (session 34's file); "none": float32 throughout).
INT8_KEY = "vocalmidi.int8"
INT8_CHOICES = ("input+gru", "gru", "none")
OPSET = 17


def _one_frame_module(net: NoteNet):
    """``(features [1, 1, F], h_in [L, 1, H]) -> (head [1, 1, 54], h_out [L, 1, H])``,
    the GRU step written out in torch's gate order (r, z, n) with its
    ``linear_before_reset`` form: ``n = tanh(W_n x + b_in + r * (U_n h + b_hn))``.

    Every call pays ONNX Runtime's cost per node with cold caches (~2 µs each, paced 5 ms
    apart; docs/measurements.md, session 35), so the graph is kept small: one frame as a
    2-D row throughout, and the features' normalisation folded into the first product's
    weights, ``W (x - m) / s + b = (W / s) x + (b - (W / s) m)``."""
    import torch

    if not net.config.mlp:
        raise ValueError("a one-frame graph folds the normalisation into the MLP's first "
                         "layer; this model has no MLP")
    first = net.mlp[0]
    weight = first.weight / net.feat_std[None, :]
    bias = first.bias - weight @ net.feat_mean

    class OneFrame(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.weight, self.bias = torch.nn.Parameter(weight), torch.nn.Parameter(bias)

        def forward(self, feats: torch.Tensor, h_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
            gru, size = self.net.gru, self.net.config.hidden
            # An explicit MatMul (not Gemm), so dynamic quantisation can reach it.
            x = feats.reshape(1, -1) @ self.weight.t() + self.bias
            x = self.net.mlp[2:](torch.relu(x))  # [1, in]
            states = []
            for layer in range(self.net.config.layers):
                h = h_in[layer]
                gx = x @ getattr(gru, f"weight_ih_l{layer}").t() + getattr(gru, f"bias_ih_l{layer}")
                gh = h @ getattr(gru, f"weight_hh_l{layer}").t() + getattr(gru, f"bias_hh_l{layer}")
                (xr, xz, xn), (hr, hz, hn) = gx.split(size, dim=1), gh.split(size, dim=1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                x = n + z * (h - n)  # (1 - z) n + z h
                states.append(x)
            return self.net.head(x).reshape(1, 1, -1), torch.stack(states)

    return OneFrame().eval()


def export_one_frame(net: NoteNet, path: str | Path, metadata: dict[str, str] | None = None,
                     int8: str = "input+gru") -> Path:
    """Write ``net`` (causal) as a one-frame ``note-features/1`` graph.

    Parameters
    ----------
    net : NoteNet
        A causal network; with ``config.half_weights`` its float16-rounded weights are the
        ones quantised (what the float file holds).
    path : path
        Output ``.onnx`` (written atomically).
    metadata : dict, optional
        Metadata props (the float file's: decoder thresholds, dev metrics...); the contract,
        hop, rate, lookahead and model config are set here.
    int8 : {"input+gru", "gru", "none"}
        ``input+gru``: the first product (the features' into the MLP) and the GRU layers'
        products int8, unsigned with a scale per output (ONNX Runtime's signed int8
        product on AVX2 without VNNI can saturate; one scale per matrix read two low
        steady tones of 96 wrong from a stream's first sample that the float graph reads
        right). The activations are quantised per call, one scale for the row; the
        features' row quantised that way moved the probabilities up to 0.14 on real clips
        (the GRU's alone 0.04) and the notes not at all (evaluation set x7 and flite
        ``slt``, session 35). The MLP's second layer and the head stay float32 (``Gemm``
        nodes: small, and quantising every product per matrix moved the outputs furthest,
        session 34). ``gru``: the GRU's products only.
    """
    import onnx
    import torch

    from vocalmidi.train.export import (
        FEATURES_CONTRACT_ID,
        half_rounded,
        metadata_props,
        save_model,
    )

    if int8 not in INT8_CHOICES:
        raise ValueError(f"int8 must be one of {INT8_CHOICES}, got {int8!r}")
    if not net.config.causal:
        raise ValueError("a whole-take model has no one-frame graph")
    net = net.to("cpu").eval()
    if net.config.half_weights:
        net = half_rounded(net)
    args = (torch.zeros(1, 1, net.config.features), net.initial_state(1))
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript exporter's deprecation note
        torch.onnx.export(_one_frame_module(net), args, buf,
                          input_names=[INPUT_FEATURES, INPUT_HIDDEN],
                          output_names=[OUTPUT_HEAD, OUTPUT_HIDDEN],
                          opset_version=OPSET, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    if int8 != "none":
        proto = _quantize(proto, net.config.layers, int8)
    return save_model(proto, path, {**(metadata or {}),
                                    **metadata_props(net.config, FEATURES_CONTRACT_ID),
                                    INT8_KEY: int8})


def _quantize(proto, layers: int, which: str):
    """ONNX Runtime's dynamic int8 quantisation of the graph's ``MatMul`` products with a
    constant weight, in order the first product (the features' into the MLP) and each
    GRU layer's input and recurrent products (the MLP's other layers and the head are
    ``Gemm`` nodes and stay float)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    inits = {t.name for t in proto.graph.initializer}
    products = [n for n in proto.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    if len(products) != 1 + 2 * layers:
        raise ValueError(f"expected the first product and {2 * layers} GRU products, "
                         f"found {len(products)}")
    for i, node in enumerate(products):
        node.name = node.name or f"product_{i}"
    chosen = [n.name for n in (products if which == "input+gru" else products[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "int8.onnx"
        quiet = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process (shapes)
        try:
            quantize_dynamic(proto, str(dst), weight_type=QuantType.QUInt8,
                             per_channel=True, nodes_to_quantize=chosen)
        finally:
            logging.getLogger().setLevel(quiet)
        return onnx.load(str(dst))


def one_frame_from_file(src: str | Path, out: str | Path, int8: str = "input+gru") -> Path:
    """:func:`export_one_frame` of a float streaming graph's weights, with its metadata
    (decoder thresholds, dev metrics...; the contract is set anew)."""
    import onnx

    from vocalmidi.train.from_onnx import net_from_onnx

    meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    return export_one_frame(net_from_onnx(src), out, meta, int8)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vocalmidi.train.one_frame",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("src", help="a float streaming note model (.onnx, e.g. a shipped one)")
    p.add_argument("out", help="the one-frame graph to write")
    p.add_argument("--int8", choices=INT8_CHOICES, default="input+gru")
    args = p.parse_args(argv)
    out = one_frame_from_file(args.src, args.out, args.int8)
    print(f"wrote {out} ({out.stat().st_size} bytes, int8: {args.int8})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
