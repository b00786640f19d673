"""The note model: a small causal network, per 5 ms frame onset / sounding / note / cents.

Two modules share the weights:

- :class:`NoteNet` maps cached front-end features ``[B, T, FEATURES]`` to raw head
  outputs; the trainer uses it on batches of crops.
- :class:`StreamingNoteModel` is the exported graph (see :mod:`vocalmidi.train.contract`):
  audio hops + state in, probabilities, note, pitch and new state out. It runs the same
  :class:`~vocalmidi.train.features.FrontEnd` the trainer cached features with.

Why this shape: an MLP per frame turns the two spectra into a compact code; a GRU
carries what came before (is a note already sounding, what was its pitch) at one hop of
cost per frame, so streaming needs no recomputed window beyond the front end's FFTs.
Note classes plus one cents offset are chosen over a salience map (see
docs/note-model.md).

A whole-take model (``backward > 0`` in the recipe's ``[model]``) adds a GRU that runs
backwards in time over the causal GRU's outputs, so each frame also hears what follows
it: the onset lands on the attack and the note is named from its settled part. It is the
same network otherwise, so it can start from a trained causal model
(:meth:`NoteNet.load_causal`). It is not a streaming model: its graph carries the
``note-model-offline/1`` contract, which the engine refuses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import nn

from vocalmidi.train.contract import (
    CONTEXT,
    HEAD_CENTS,
    HEAD_NOTES,
    HEAD_ONSET,
    HEAD_SIZE,
    HEAD_SOUNDING,
    HOP,
    NOTE_MIN,
)
from vocalmidi.train.features import FrontEnd, feature_count

__all__ = ["HEAD_CENTS", "HEAD_NOTES", "HEAD_ONSET", "HEAD_SOUNDING", "ModelConfig",
           "FeaturesNoteModel", "NoteNet", "StreamingNoteModel", "WholeTakeNoteModel",
           "build_model"]


@dataclass
class ModelConfig:
    """Sizes of the network (the ``[model]`` table of a recipe)."""

    mlp: list[int] = field(default_factory=lambda: [192, 128])
    hidden: int = 128
    layers: int = 2
    backward: int = 0  # hidden size of a backward GRU (whole-take model); 0 = causal
    mid_window: int = 0  # 512: the front end adds a 32 ms window (features.py); 0 = none
    lag_window: int = 0  # 160: the front end adds lag correlations (features.py); 0 = none
    lag_peak: bool = False  # the front end adds the lag correlations' peak (features.py)
    # Store the learned weights as float16 in the ONNX file (export.half_rounded): the graph
    # still computes in float32 (ONNX Runtime folds the casts at load, so a call costs the
    # same), and the 2 MB limit on the file holds about twice the weights.
    half_weights: bool = False

    def __post_init__(self) -> None:
        self.front_end()  # raises on a size the front end does not have

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown [model] keys: {', '.join(unknown)}")
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("backward", "mid_window", "lag_window", "lag_peak", "half_weights"):  # older
            # models' metadata stays as it was
            if not d[key]:
                d.pop(key)
        return d

    def same_network(self, other: ModelConfig) -> bool:
        """The same network, however its file stores the weights."""
        return replace(self, half_weights=False) == replace(other, half_weights=False)

    @property
    def features(self) -> int:
        """Front-end features per frame."""
        return feature_count(self.mid_window, self.lag_window, self.lag_peak)

    def front_end(self) -> FrontEnd:
        """The front end these features come from (features.py)."""
        return FrontEnd(self.mid_window, self.lag_window, self.lag_peak)

    @property
    def causal(self) -> bool:
        """Whether each output depends only on audio up to its frame (plus lookahead)."""
        return self.backward == 0


def _front_blocks(config: ModelConfig) -> list[str]:
    """The optional front-end blocks of a model, in feature order (features.py)."""
    return [name for name, size in (("mid", config.mid_window), ("lag", config.lag_window),
                                    ("peak", config.lag_peak)) if size]


class NoteNet(nn.Module):
    """Features ``[B, T, config.features]`` + GRU state ``[L, B, H]`` -> head ``[B, T, HEAD_SIZE]``.

    The features are normalised with fixed per-feature mean and std (buffers set from
    training data by :meth:`set_normalisation`), so the graph needs no running stats.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("feat_mean", torch.zeros(config.features))
        self.register_buffer("feat_std", torch.ones(config.features))
        layers: list[nn.Module] = []
        width = config.features
        for size in config.mlp:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.gru = nn.GRU(width, config.hidden, config.layers, batch_first=True)
        self.back = (nn.GRU(config.hidden, config.backward, 1, batch_first=True)
                     if config.backward else None)
        self.head = nn.Linear(config.hidden + config.backward, HEAD_SIZE)

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Fix the per-feature normalisation (std floored so flat features stay finite)."""
        self.feat_mean.copy_(mean.to(self.feat_mean))
        self.feat_std.copy_(torch.clamp(std.to(self.feat_std), min=1e-3))

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        """Zero GRU state (silence before the stream)."""
        return torch.zeros(self.config.layers, batch, self.config.hidden,
                           device=self.feat_mean.device)

    def forward(self, feats: torch.Tensor,
                h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h_out = self.gru(self.encode(feats), h)
        return self.heads(y), h_out

    def encode(self, feats: torch.Tensor) -> torch.Tensor:
        """Normalised features through the per-frame MLP: the causal GRU's input."""
        return self.mlp((feats - self.feat_mean) / self.feat_std)

    def heads(self, y: torch.Tensor) -> torch.Tensor:
        """Causal GRU outputs ``[B, T, hidden]`` -> raw head outputs."""
        if self.back is not None:  # from the end of the input back to its start
            yb, _ = self.back(torch.flip(y, [1]))
            y = torch.cat([y, torch.flip(yb, [1])], dim=-1)
        return self.head(y)

    def load_causal(self, causal: NoteNet) -> None:
        """Start from a trained causal model of the same sizes: its weights, and a head
        that ignores the backward GRU at first, so training starts from its outputs."""
        c = causal.config
        if not c.causal or c.hidden != self.config.hidden \
                or _front_blocks(c) != _front_blocks(self.config):
            raise ValueError(f"a causal model with hidden {self.config.hidden}, mid_window "
                             f"{self.config.mid_window} and lag_window {self.config.lag_window}"
                             f" is needed, got {c.as_dict()}")
        state = {k: v for k, v in causal.state_dict().items() if not k.startswith("head.")}
        self.load_state_dict(state, strict=False)
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.weight[:, :self.config.hidden] = causal.head.weight
            self.head.bias.copy_(causal.head.bias)

    def load_narrower(self, warm: NoteNet, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Start from a trained model whose front end lacks blocks this one adds at the
        end (the middle window, the lag correlations, their peak): its weights, and first-layer
        weights of zero for the added features, so training starts from its outputs;
        ``mean``/``std`` normalise the added features (from training data)."""
        same = ModelConfig(**{**warm.config.as_dict(), "mid_window": self.config.mid_window,
                              "lag_window": self.config.lag_window,
                              "lag_peak": self.config.lag_peak})
        mine, theirs = _front_blocks(self.config), _front_blocks(warm.config)
        if not same.same_network(self.config) or len(theirs) >= len(mine) \
                or mine[:len(theirs)] != theirs:
            raise ValueError(f"a model like {self.config.as_dict()} whose front end lacks "
                             f"some of its last blocks is needed, got {warm.config.as_dict()}")
        old = warm.config.features
        state = warm.state_dict()
        with torch.no_grad():
            w = torch.zeros_like(self.mlp[0].weight)
            w[:, :old] = state["mlp.0.weight"]
            state["mlp.0.weight"] = w
            state["feat_mean"] = torch.cat([state["feat_mean"], mean[old:].to(w)])
            state["feat_std"] = torch.cat([state["feat_std"],
                                           torch.clamp(std[old:].to(w), min=1e-3)])
        self.load_state_dict(state)

    def load_mlp(self, warm: NoteNet) -> None:
        """Start from another model's feature normalisation and per-frame MLP (same front
        end and MLP sizes, any GRU): distillation's student keeps its teacher's MLP."""
        if _front_blocks(warm.config) != _front_blocks(self.config) \
                or warm.config.mlp != self.config.mlp:
            raise ValueError(f"a model with the front end and MLP of {self.config.as_dict()} "
                             f"is needed, got {warm.config.as_dict()}")
        state = {k: v for k, v in warm.state_dict().items()
                 if k.startswith("mlp.") or k.startswith("feat_")}
        self.load_state_dict(state, strict=False)

    def load_wider(self, warm: NoteNet) -> None:
        """Start from a trained causal model with fewer GRU units (else the same sizes):
        its weights in the first units of each layer and gate; the added units read their
        inputs with fresh random weights, but everything reads *them* with zeros, so the
        outputs are the trained model's until training gives the added units a say.
        (All-zero added units would never learn: no gradient reaches either side.)"""
        same = ModelConfig(**{**warm.config.as_dict(), "hidden": self.config.hidden})
        h, wide = warm.config.hidden, self.config.hidden
        if not warm.config.causal or not same.same_network(self.config) or h >= wide:
            raise ValueError(f"a causal model like {self.config.as_dict()} with fewer than "
                             f"{wide} hidden units is needed, got {warm.config.as_dict()}")
        old = warm.state_dict()
        new = self.state_dict()

        def put(w: torch.Tensor, rows: slice, src: torch.Tensor) -> None:
            """``src`` into the first columns of ``w[rows]``; the columns it lacks (added
            units this row would read) get zeros."""
            if w.dim() == 1:
                w[rows] = src
            else:
                w[rows, :src.shape[1]] = src
                w[rows, src.shape[1]:] = 0.0

        with torch.no_grad():
            for name, w in new.items():
                src = old[name]
                if not name.startswith("gru."):
                    put(w, slice(None), src)
                    continue
                # PyTorch GRU tensors stack the gates (r, z, n) in blocks of `hidden` rows;
                # the rows of the added units keep their random start.
                for g in range(3):
                    put(w, slice(g * wide, g * wide + h), src[g * h:(g + 1) * h])
        self.load_state_dict(new)


class StreamingNoteModel(nn.Module):
    """The exported graph: ``(audio, ctx_in, h_in)`` -> outputs of the contract."""

    def __init__(self, net: NoteNet) -> None:
        super().__init__()
        self.front = net.config.front_end()
        self.net = net

    def forward(self, audio: torch.Tensor, ctx_in: torch.Tensor,
                h_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
        buf = torch.cat([ctx_in, audio], dim=1)
        raw, h_out = self.net(self.front(buf), h_in)
        # A fixed start from the end: no shape arithmetic in the graph.
        return (*_outputs(raw), buf[:, -CONTEXT:], h_out)


class FeaturesNoteModel(nn.Module):
    """The exported graph of the ``note-features/1`` contract: ``(features, h_in)`` ->
    the outputs and ``h_out``. The caller runs the front end (the engine in C++, Python in
    numpy) and keeps the audio context; why: inside the graph the front end cost ~60 %
    of a hop's ONNX Runtime time (docs/measurements.md, session 31)."""

    def __init__(self, net: NoteNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, feats: torch.Tensor, h_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # The raw head: its five outputs are a few lines of C++/numpy, but a dozen small
        # graph nodes, each a few µs of a paced call (session 32).
        return self.net(feats, h_in)


class WholeTakeNoteModel(nn.Module):
    """The exported graph of a whole-take model: ``(audio, ctx_in, h_in, keep)`` -> the
    outputs of every hop of ``audio``, and the state (context and causal GRU) after its
    first ``keep`` hops (``1 <= keep < hops``).

    Why ``keep``: the backward GRU must hear audio past the part of a take a call is
    for, while the next call must start from the causal state at the end of that part.
    So a long take goes in calls that overlap by a margin (:class:`OnnxNoteModel`), and
    the causal half is still exactly the streaming model's.
    """

    def __init__(self, net: NoteNet) -> None:
        super().__init__()
        self.front = net.config.front_end()
        self.net = net

    def forward(self, audio: torch.Tensor, ctx_in: torch.Tensor, h_in: torch.Tensor,
                keep: torch.Tensor) -> tuple[torch.Tensor, ...]:
        buf = torch.cat([ctx_in, audio], dim=1)
        x = self.net.encode(self.front(buf))
        k = keep.reshape(())
        # index_select with ranges (not slices) so the split point stays an input.
        y1, h_keep = self.net.gru(x.index_select(1, torch.arange(k)), h_in)
        y2, _ = self.net.gru(x.index_select(1, torch.arange(k, x.shape[1])), h_keep)
        raw = self.net.heads(torch.cat([y1, y2], dim=1))
        ctx_out = buf.index_select(1, torch.arange(CONTEXT) + k * HOP)
        return (*_outputs(raw), ctx_out, h_keep)


def _outputs(raw: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Raw head outputs -> onset, sounding, note, note_conf, pitch (the contract's)."""
    onset = torch.sigmoid(raw[..., HEAD_ONSET])
    sounding = torch.sigmoid(raw[..., HEAD_SOUNDING])
    probs = torch.softmax(raw[..., HEAD_NOTES], dim=-1)
    note_conf, idx = torch.max(probs, dim=-1)
    note = idx.to(torch.float32) + float(NOTE_MIN)
    pitch = note + raw[..., HEAD_CENTS]
    return onset, sounding, note, note_conf, pitch


def build_model(config: ModelConfig | None = None, seed: int = 0) -> NoteNet:
    """A freshly initialised :class:`NoteNet` (weights from ``seed``)."""
    torch.manual_seed(seed)
    return NoteNet(config or ModelConfig())
