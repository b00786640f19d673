"""How much the live sweep's recorded F1@50 moves with the phase of the note model's grid
(:mod:`vocalmidi.eval.phase_spread`), for engine parameters of your choice.

    .venv/bin/python scripts/grid_phase_spread.py build/eval/full3 [--set latency_mode=accurate]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vocalmidi.cli.engine_params import set_params
from vocalmidi.eval.dataset import load_set
from vocalmidi.eval.phase_spread import grid_phase_spread
from vocalmidi.eval.sweep import RATE, join_takes, takes_from_set
from vocalmidi.models import get_model_path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("set_dir", type=Path)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="engine parameter (repeatable)")
    p.add_argument("--takes", type=int, default=3)
    args = p.parse_args()
    stream, truth = join_takes(takes_from_set(load_set(args.set_dir), args.takes))
    params = set_params(args.set)
    spread = grid_phase_spread(stream, truth, RATE, get_model_path("vocalnote-s"), params)
    for shift, f1 in zip(spread["shifts"], spread["f1_50"], strict=True):
        print(f"shift {shift:3d} samples: recorded F1@50 {f1:.4f}")
    print(f"min {spread['min']:.4f}  max {spread['max']:.4f}  mean {spread['mean']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
