"""Distillation: train a smaller student note model on a trained teacher's outputs.

Why: the shipped vocalnote-s (GRU 192 x 2) costs ~13 % of a core on the engine's ML thread
at 128-sample blocks, over the 10 % target, and most of what is left is the network's
weights read back from a cold cache on each paced call (docs/measurements.md, session 32).
A 96-unit network costs less, but trained from the labels alone it would need the
teacher's many stages again; the teacher's per-frame outputs are a denser target (its
onset and sounding probabilities, its note distribution and cents on every frame), so a
student learns from them much faster.

A recipe turns it on with ``[train] teacher = "FILE"`` (an exported ``.onnx`` note model
or a training checkpoint) and ``distill_weight``; ``teacher_init = true`` starts the
student's normalisation and per-frame MLP from the teacher's (same front end and MLP
sizes), and its GRU and head from the teacher's most useful units (:func:`prune_into`),
so training starts from a network that already names notes, if less well.
"""

from __future__ import annotations

from typing import Any

from vocalmidi.errors import UsageError

__all__ = ["distill_losses", "load_teacher", "prune_into"]


def load_teacher(path: str) -> Any:  # -> NoteNet, in eval mode, without gradients
    """The teacher network of a recipe's ``teacher`` entry."""
    if path.endswith(".onnx"):
        from vocalmidi.train.from_onnx import net_from_onnx
        net = net_from_onnx(path)
    else:
        from vocalmidi.train.trainer import load_checkpoint
        net, _ = load_checkpoint(path)
    if not net.config.causal:
        raise UsageError(f"teacher {path} is a whole-take model; a live student needs a "
                         "causal teacher")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def distill_losses(raw: Any, teacher_raw: Any) -> dict[str, Any]:
    """Per-head losses of the student's raw head against the teacher's, per frame:
    binary cross-entropy to the teacher's onset and sounding probabilities; KL divergence
    from the teacher's note distribution and a Huber loss to its cents, both weighted by
    the teacher's sounding probability (where it hears no note its pitch means little)."""
    import torch
    import torch.nn.functional as F

    from vocalmidi.train.contract import HEAD_CENTS, HEAD_NOTES, HEAD_ONSET, HEAD_SOUNDING

    t = teacher_raw.detach()
    d_onset = F.binary_cross_entropy_with_logits(raw[..., HEAD_ONSET],
                                                 torch.sigmoid(t[..., HEAD_ONSET]))
    t_sound = torch.sigmoid(t[..., HEAD_SOUNDING])
    d_sound = F.binary_cross_entropy_with_logits(raw[..., HEAD_SOUNDING], t_sound)
    w = t_sound / t_sound.sum().clamp(min=1.0)
    kl = F.kl_div(F.log_softmax(raw[..., HEAD_NOTES], dim=-1),
                  F.log_softmax(t[..., HEAD_NOTES], dim=-1), log_target=True,
                  reduction="none").sum(-1)
    cents = F.huber_loss(raw[..., HEAD_CENTS], t[..., HEAD_CENTS], delta=0.5, reduction="none")
    return {"d_onset": d_onset, "d_sounding": d_sound, "d_note": (kl * w).sum(),
            "d_cents": (cents * w).sum()}


def prune_into(student: Any, teacher: Any, feats: Any) -> None:
    """Start ``student`` (the teacher's front end and MLP, a GRU of as many layers with
    fewer units) from ``teacher``: its normalisation and MLP, and in each GRU layer the
    units that matter most to what reads them, with their weights among themselves.

    A unit's score is how much it moves (the std of its output over ``feats``, real
    training features ``[B, T, F]``) times the size of the weights that read it (the next
    layer's input weights, or the head's, and its own layer's recurrent weights).
    Why: a GRU from scratch learned slowly on a CPU (vocalnote-xs at 300 steps, dev live
    F1@50 0.42 against the teacher's 0.72); the kept units already work together.
    """
    import torch

    tc, sc = teacher.config, student.config
    if tc.layers != sc.layers or sc.hidden > tc.hidden:
        raise ValueError(f"a student with {tc.layers} GRU layers of at most {tc.hidden} "
                         f"units is needed, got {sc.as_dict()}")
    student.load_mlp(teacher)
    big, small = tc.hidden, sc.hidden
    with torch.no_grad():
        x = teacher.encode(feats)
        outputs = []
        for layer in range(tc.layers):
            sub = torch.nn.GRU(x.shape[-1], big, 1, batch_first=True)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(sub, f"{name}_l0").copy_(getattr(teacher.gru, f"{name}_l{layer}"))
            x, _ = sub(x)
            outputs.append(x)
        keep = []
        t = teacher.state_dict()
        for layer in range(tc.layers):
            reader = (t[f"gru.weight_ih_l{layer + 1}"] if layer + 1 < tc.layers
                      else t["head.weight"])
            reads = reader.norm(dim=0) + t[f"gru.weight_hh_l{layer}"].norm(dim=0)
            score = outputs[layer].reshape(-1, big).std(0) * reads
            keep.append(torch.sort(torch.topk(score, small).indices).values)
        state = student.state_dict()
        for layer in range(tc.layers):
            rows = torch.cat([g * big + keep[layer] for g in range(3)])
            cols_in = keep[layer - 1] if layer else None
            w_ih = t[f"gru.weight_ih_l{layer}"][rows]
            state[f"gru.weight_ih_l{layer}"] = w_ih if cols_in is None else w_ih[:, cols_in]
            state[f"gru.weight_hh_l{layer}"] = t[f"gru.weight_hh_l{layer}"][rows][:, keep[layer]]
            state[f"gru.bias_ih_l{layer}"] = t[f"gru.bias_ih_l{layer}"][rows]
            state[f"gru.bias_hh_l{layer}"] = t[f"gru.bias_hh_l{layer}"][rows]
        state["head.weight"] = t["head.weight"][:, keep[-1]]
        state["head.bias"] = t["head.bias"]
    student.load_state_dict(state)
