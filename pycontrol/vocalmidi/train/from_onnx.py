"""Rebuild a :class:`~vocalmidi.train.model.NoteNet` from an exported note model.

A shipped model lives in the repository as ONNX only (``models/trained/<id>/``), and its
graph holds every weight. This reads them back, so a fine-tune on a fresh clone can
start from the shipped model: a recipe's ``init_from`` may name the ``.onnx`` file.

The exported graph (:func:`vocalmidi.train.export.export_onnx`, TorchScript exporter) is
walked in node order after the front end:

- ``Sub`` / ``Div`` by a constant of one value per front-end feature: the feature normalisation;
- each ``MatMul`` + ``Add`` (or ``Gemm``) with constant operands: a ``Linear`` of the
  MLP, then the head (weights stored transposed);
- each ``GRU`` node: one layer, gates stored in ONNX order (z, r, h), torch's is
  (r, z, n);
- a weight stored as float16 (``half_weights``) is read through its ``Cast``.

The result is checked by the caller's own parity test, not trusted: see
``tests/python/test_train_model.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vocalmidi.errors import UsageError

__all__ = ["net_from_onnx"]


def _gru_to_torch(w: np.ndarray) -> np.ndarray:
    """ONNX gate blocks (z, r, h) along axis 0 -> torch's (r, z, n)."""
    z, r, h = np.split(w, 3, axis=0)
    return np.concatenate([r, z, h], axis=0)


def net_from_onnx(path: str | Path):  # -> NoteNet (torch imported lazily)
    """The :class:`NoteNet` whose weights an exported note model holds.

    Raises
    ------
    UsageError
        The file is not a note model of this contract, or its graph has another shape.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    from vocalmidi.train.model import ModelConfig, NoteNet

    path = Path(path)
    try:
        proto = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - onnx raises several types for bad files
        raise UsageError(f"cannot read note model {path}: {exc}") from exc
    props = {p.key: p.value for p in proto.metadata_props}
    if "vocalmidi.model" not in props:
        raise UsageError(f"{path} is not an exported note model (no vocalmidi.model metadata)")
    if "vocalmidi.int8" in props:  # vocalmidi.train.one_frame: no GRU node, rounded weights
        raise UsageError(f"{path} is the engine's one-frame graph (int8: "
                         f"{props['vocalmidi.int8']}); start from the float graph it was made "
                         "from (models/trained/<id>/<id>.onnx)")
    config = ModelConfig.from_dict(json.loads(props["vocalmidi.model"]))
    if not config.causal:  # its graph splits the causal GRU in two: not read back here
        raise UsageError(f"{path} is a whole-take model: fine-tune it from its run's best.pt "
                         "(its init_from is the causal model it started from)")
    features = config.features
    consts = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for node in proto.graph.node:  # Constant nodes hold weights too, after folding
        if node.op_type == "Constant" and node.attribute and node.attribute[0].t.dims:
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Cast" and node.input[0] in consts:  # float16 storage
            consts[node.output[0]] = consts[node.input[0]].astype(np.float32)

    def const_input(node) -> np.ndarray | None:
        for name in node.input:
            if name in consts:
                return consts[name]
        return None

    mean = std = None
    matmuls: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    grus: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for node in proto.graph.node:
        c = const_input(node)
        if node.op_type == "Sub" and c is not None and c.size == features and mean is None:
            mean = c.reshape(features)
        elif node.op_type == "Div" and c is not None and c.size == features and std is None:
            std = c.reshape(features)
        elif mean is None:
            continue  # the front end (DFT constants) comes before the normalisation
        elif node.op_type == "MatMul" and c is not None and c.ndim == 2:
            matmuls.append(c.T)  # stored [in, out]; torch keeps [out, in]
        elif node.op_type == "Gemm" and c is not None:
            w = consts[node.input[1]]
            attrs = {a.name: a.i for a in node.attribute}
            matmuls.append(w if attrs.get("transB", 0) else w.T)
            biases.append(consts[node.input[2]])
        elif node.op_type == "Add" and c is not None and c.ndim == 1 and \
                len(biases) < len(matmuls):
            biases.append(c)
        elif node.op_type == "GRU":
            grus.append((consts[node.input[1]], consts[node.input[2]], consts[node.input[3]]))

    linears = len(config.mlp) + 1
    if mean is None or std is None or len(matmuls) != linears or len(biases) != linears \
            or len(grus) != config.layers:
        raise UsageError(f"{path}: graph does not match its model config {config.as_dict()} "
                         f"(found {len(matmuls)} linear layers, {len(grus)} GRU layers)")
    net = NoteNet(config)
    state = net.state_dict()
    state["feat_mean"] = torch.from_numpy(mean.copy())
    state["feat_std"] = torch.from_numpy(std.copy())
    for i, (w, b) in enumerate(zip(matmuls[:-1], biases[:-1], strict=True)):
        state[f"mlp.{2 * i}.weight"] = torch.from_numpy(np.ascontiguousarray(w))
        state[f"mlp.{2 * i}.bias"] = torch.from_numpy(b.copy())
    state["head.weight"] = torch.from_numpy(np.ascontiguousarray(matmuls[-1]))
    state["head.bias"] = torch.from_numpy(biases[-1].copy())
    h = config.hidden
    for layer, (w, r, b) in enumerate(grus):
        state[f"gru.weight_ih_l{layer}"] = torch.from_numpy(_gru_to_torch(w[0]))
        state[f"gru.weight_hh_l{layer}"] = torch.from_numpy(_gru_to_torch(r[0]))
        state[f"gru.bias_ih_l{layer}"] = torch.from_numpy(_gru_to_torch(b[0, :3 * h]))
        state[f"gru.bias_hh_l{layer}"] = torch.from_numpy(_gru_to_torch(b[0, 3 * h:]))
    net.load_state_dict(state)
    return net
