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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from vocalmidi.train.contract import CONTEXT, NOTE_MIN, NUM_NOTES
from vocalmidi.train.features import FEATURES, FrontEnd

__all__ = ["HEAD_CENTS", "HEAD_NOTES", "HEAD_ONSET", "HEAD_SOUNDING", "ModelConfig",
           "NoteNet", "StreamingNoteModel", "build_model"]

# Columns of the raw head output.
HEAD_ONSET = 0
HEAD_SOUNDING = 1
HEAD_NOTES = slice(2, 2 + NUM_NOTES)
HEAD_CENTS = 2 + NUM_NOTES  # performed minus written pitch, in semitones (cents / 100)
HEAD_SIZE = HEAD_CENTS + 1


@dataclass
class ModelConfig:
    """Sizes of the network (the ``[model]`` table of a recipe)."""

    mlp: list[int] = field(default_factory=lambda: [192, 128])
    hidden: int = 128
    layers: int = 2

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown [model] keys: {', '.join(unknown)}")
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class NoteNet(nn.Module):
    """Features ``[B, T, FEATURES]`` + GRU state ``[L, B, H]`` -> head ``[B, T, HEAD_SIZE]``.

    The features are normalised with fixed per-feature mean and std (buffers set from
    training data by :meth:`set_normalisation`), so the graph needs no running stats.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("feat_mean", torch.zeros(FEATURES))
        self.register_buffer("feat_std", torch.ones(FEATURES))
        layers: list[nn.Module] = []
        width = FEATURES
        for size in config.mlp:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.gru = nn.GRU(width, config.hidden, config.layers, batch_first=True)
        self.head = nn.Linear(config.hidden, HEAD_SIZE)

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
        x = self.mlp((feats - self.feat_mean) / self.feat_std)
        y, h_out = self.gru(x, h)
        return self.head(y), h_out


class StreamingNoteModel(nn.Module):
    """The exported graph: ``(audio, ctx_in, h_in)`` -> outputs of the contract."""

    def __init__(self, net: NoteNet) -> None:
        super().__init__()
        self.front = FrontEnd()
        self.net = net

    def forward(self, audio: torch.Tensor, ctx_in: torch.Tensor,
                h_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
        buf = torch.cat([ctx_in, audio], dim=1)
        raw, h_out = self.net(self.front(buf), h_in)
        onset = torch.sigmoid(raw[..., HEAD_ONSET])
        sounding = torch.sigmoid(raw[..., HEAD_SOUNDING])
        probs = torch.softmax(raw[..., HEAD_NOTES], dim=-1)
        note_conf, idx = torch.max(probs, dim=-1)
        note = idx.to(torch.float32) + float(NOTE_MIN)
        pitch = note + raw[..., HEAD_CENTS]
        ctx_out = buf[:, buf.shape[1] - CONTEXT:]
        return onset, sounding, note, note_conf, pitch, ctx_out, h_out


def build_model(config: ModelConfig | None = None, seed: int = 0) -> NoteNet:
    """A freshly initialised :class:`NoteNet` (weights from ``seed``)."""
    torch.manual_seed(seed)
    return NoteNet(config or ModelConfig())
