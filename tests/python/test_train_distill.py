"""Distillation (train/distill.py): a smaller student learns the shipped model's outputs.

The teacher is the shipped vocalnote-s read back from its ONNX file; the audio is the
engine's golden sung clips (FluidR3 Voice Oohs, TimGM6mb Synth Voice)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from vocalmidi.errors import UsageError  # noqa: E402
from vocalmidi.train import contract  # noqa: E402
from vocalmidi.train.distill import distill_losses, load_teacher  # noqa: E402
from vocalmidi.train.model import HEAD_NOTES, HEAD_SOUNDING, ModelConfig, NoteNet  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
GOLDEN = REPO / "tests" / "engine" / "golden"


def clip_features(name: str, config: ModelConfig) -> torch.Tensor:
    """``[1, n, F]`` front-end features of a golden sung clip (16 kHz)."""
    from vocalmidi.train.front_end_np import NumpyFrontEnd

    raw = (GOLDEN / f"{name}.golden.bin").read_bytes()
    count, _ = struct.unpack_from("<ii", raw, 8)
    audio = np.frombuffer(raw, "<i2", count, 16).astype(np.float32) / 32767.0
    hops = len(audio) // contract.HOP
    buf = np.concatenate([np.zeros(contract.CONTEXT, np.float32), audio[:hops * contract.HOP]])
    front = NumpyFrontEnd(config.mid_window, config.lag_window, config.lag_peak)
    return torch.from_numpy(front(buf))[None]


def note_agreement(student: NoteNet, teacher_raw: torch.Tensor, feats: torch.Tensor,
                   frames: slice) -> float:
    """Share of ``frames`` the teacher hears a note on where both name the same note."""
    with torch.no_grad():
        s, _ = student(feats, student.initial_state(len(feats)))
    on = (torch.sigmoid(teacher_raw[..., HEAD_SOUNDING]) > 0.5)[:, frames]
    same = s[..., HEAD_NOTES].argmax(-1) == teacher_raw[..., HEAD_NOTES].argmax(-1)
    return float(same[:, frames][on].float().mean())


def test_a_student_distilled_from_the_shipped_model_names_its_notes() -> None:
    """A 32-unit student that starts from the teacher's MLP (teacher_init) and learns only
    the teacher's outputs on the first 1.5 s of two clips (two voices, 12 notes) names the
    teacher's note on the sounding frames after them, which it never trained on."""
    torch.set_num_threads(1)  # a GRU step on 2 threads beside other work is 4-6x slower
    torch.manual_seed(0)
    teacher = load_teacher(str(SHIPPED))
    config = ModelConfig(**{**teacher.config.as_dict(), "hidden": 32})
    student = NoteNet(config)
    student.load_mlp(teacher)
    feats = torch.cat([clip_features("oohs-fluidr3", config),
                       clip_features("synth-timgm", config)])
    assert torch.equal(student.encode(feats), teacher.encode(feats))  # the same MLP
    with torch.no_grad():
        t_raw, _ = teacher(feats, teacher.initial_state(2))
    seen, unseen = slice(0, 300), slice(300, None)
    before = note_agreement(student, t_raw, feats, unseen)

    opt = torch.optim.Adam(student.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        raw, _ = student(feats[:, seen], student.initial_state(2))
        loss = sum(distill_losses(raw, t_raw[:, seen]).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0]
    after = note_agreement(student, t_raw, feats, unseen)
    assert before < 0.2 and after > 0.9, (before, after)


def test_a_pruned_student_starts_from_the_teachers_most_useful_units() -> None:
    """``teacher_init``: kept whole, the pruned network is the teacher; with half its GRU
    units it already names the teacher's note on most sounding frames, untrained."""
    from vocalmidi.train.distill import prune_into

    torch.set_num_threads(1)
    teacher = load_teacher(str(SHIPPED))
    feats = torch.cat([clip_features("oohs-fluidr3", teacher.config),
                       clip_features("synth-timgm", teacher.config)])
    with torch.no_grad():
        t_raw, _ = teacher(feats, teacher.initial_state(2))
    whole = NoteNet(teacher.config)
    prune_into(whole, teacher, feats[:, :300])
    with torch.no_grad():
        torch.testing.assert_close(whole(feats, whole.initial_state(2))[0], t_raw)
    half = NoteNet(ModelConfig(**{**teacher.config.as_dict(), "hidden": 96}))
    prune_into(half, teacher, feats[:, :300])
    assert note_agreement(half, t_raw, feats, slice(None)) > 0.85
    with pytest.raises(ValueError, match="at most 192 units"):
        prune_into(NoteNet(ModelConfig(**{**teacher.config.as_dict(), "hidden": 256})),
                   teacher, feats)


def test_a_student_needs_the_teachers_front_end_and_mlp() -> None:
    teacher = load_teacher(str(SHIPPED))
    other = NoteNet(ModelConfig(**{**teacher.config.as_dict(), "mlp": [128, 64], "hidden": 32}))
    with pytest.raises(ValueError, match="front end and MLP"):
        other.load_mlp(teacher)


def test_a_whole_take_teacher_is_refused(tmp_path) -> None:
    from vocalmidi.train.export import export_onnx
    from vocalmidi.train.model import build_model

    whole = build_model(ModelConfig(mlp=[16], hidden=8, layers=1, backward=8), seed=1)
    export_onnx(whole, tmp_path / "whole.onnx")
    with pytest.raises(UsageError, match="whole-take model"):
        load_teacher(str(tmp_path / "whole.onnx"))
