"""Average the weights of note models fine-tuned from one another (a "model soup").

``python -m vocalmidi.train.soup A.onnx B.onnx -o OUT.onnx [--weight 0.5] [--dev DIR ...]``

Two fine-tunes of one lineage (B trained on from A) sit in one basin of the loss, so their
average is a model too, and often keeps what each learned: vocalnote-s stage 25 gained on
the validation voices, stage 26 (trained on from it) on notes with vibrato from their
first moment, and their average kept most of both (docs/measurements.md, session 23).

The output keeps A's metadata (decoder thresholds for each latency mode) except its dev
metrics, which no longer hold; with ``--dev`` the average is judged on those folders with
its Instant decoder, as a training run judges an epoch, and the figures are written in.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vocalmidi.errors import UsageError

__all__ = ["main", "soup"]


def _meta(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def soup(a: Path, b: Path, out: Path, weight: float = 0.5,
         dev: Sequence[Path] = ()) -> dict[str, Any]:
    """Write ``(1 - weight) * A + weight * B`` to ``out`` with A's decoder settings.

    Raises
    ------
    UsageError
        The weight is outside 0..1, or the two files are not the same network.

    Returns
    -------
    dict
        The dev metrics written into ``out`` (empty without ``dev``).
    """
    import onnx
    import torch

    from vocalmidi.train.export import export_onnx
    from vocalmidi.train.from_onnx import net_from_onnx

    if not 0.0 <= weight <= 1.0:
        raise UsageError(f"--weight must be within 0..1, got {weight}")
    meta_a, meta_b = _meta(a), _meta(b)
    if meta_a.get("vocalmidi.model") != meta_b.get("vocalmidi.model"):
        raise UsageError(f"{a} and {b} are different networks "
                         f"({meta_a.get('vocalmidi.model')} vs {meta_b.get('vocalmidi.model')})")
    net, other = net_from_onnx(a), net_from_onnx(b)
    sa, sb = net.state_dict(), other.state_dict()
    net.load_state_dict({k: (1.0 - weight) * v + weight * sb[k]
                         if torch.is_floating_point(v) else v for k, v in sa.items()})
    meta = {k: v for k, v in meta_a.items() if k != "vocalmidi.dev_metrics"}
    export_onnx(net, out, meta)
    if not dev:
        return {}
    from vocalmidi.train.dataset import read_clips
    from vocalmidi.train.mode_decoder import decoder_for
    from vocalmidi.train.trainer import evaluate, model_outputs

    clips = [c for d in dev for c in read_clips(d, None)]
    metrics: dict[str, Any] = evaluate(model_outputs(out, clips), clips,
                                       decoder_for(meta, "instant"))
    model = onnx.load(str(out))
    onnx.helper.set_model_props(model, {**meta, "vocalmidi.dev_metrics": json.dumps(metrics)})
    onnx.save(model, str(out))
    return metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vocalmidi.train.soup",
                                description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="the earlier model (its decoder settings are kept)")
    p.add_argument("b", type=Path, help="a model trained on from it")
    p.add_argument("-o", "--out", type=Path, required=True, help="the averaged .onnx")
    p.add_argument("--weight", type=float, default=0.5, help="B's share (default 0.5)")
    p.add_argument("--dev", type=Path, nargs="*", default=[],
                   help="data folders to judge the average on (written into the file)")
    args = p.parse_args(argv)
    try:
        metrics = soup(args.a, args.b, args.out, args.weight, args.dev)
    except UsageError as exc:
        p.error(str(exc))
    print(json.dumps({"out": str(args.out), "dev": metrics}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
