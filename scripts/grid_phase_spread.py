"""How much the live sweep's recorded F1@50 moves with the phase of the note model's grid.

A live run (plugin in a host) starts the takes wherever the host's blocks put them
relative to the model's 5 ms hops (240 samples at 48 kHz). This renders the sweep's
stream (`vocalmidi bench`'s first 3 clean takes) offline through the engine with 0, 16,
... 224 samples of silence before it and scores each as a DAW records it. The spread is
the noise floor of the sweep's "recorded F1@50" rows.

    .venv/bin/python scripts/grid_phase_spread.py build/eval/full2 [--set latency_mode=accurate]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vocalmidi.engine import Engine, EventType
from vocalmidi.eval.dataset import load_set
from vocalmidi.eval.live_stream import score_stream
from vocalmidi.eval.sweep import RATE, join_takes, takes_from_set
from vocalmidi.models import get_model_path


def midi_bytes(e) -> bytes | None:
    status = {EventType.NOTE_ON: 0x90, EventType.NOTE_OFF: 0x80}.get(e.type)
    if status is None:
        return None
    return bytes([status | (e.channel - 1), e.note,
                  e.velocity if e.type == EventType.NOTE_ON else 0])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("set_dir", type=Path)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="engine parameter (repeatable)")
    p.add_argument("--takes", type=int, default=3)
    args = p.parse_args()
    stream, truth = join_takes(takes_from_set(load_set(args.set_dir), args.takes))
    model = get_model_path("vocalnote-s")
    scores = []
    for pad in range(0, 240, 16):
        x = np.concatenate([np.zeros(pad, np.float32), stream])
        with Engine(model, "vocalnote") as eng:
            for item in args.set:
                name, value = item.split("=", 1)
                eng.set_param(name, value)
            eng.prepare(RATE, 128, realtime=False)
            events = eng.process(x) + eng.flush()
            latency = eng.latency_samples
        midi = [((e.position - pad) / RATE, b) for e in events if (b := midi_bytes(e))]
        scores.append(score_stream(truth, midi, latency / RATE, stream.size / RATE)["f1_50"])
        print(f"shift {pad:3d} samples: recorded F1@50 {scores[-1]:.4f}", flush=True)
    print(f"min {min(scores):.4f}  max {max(scores):.4f}  mean {np.mean(scores):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
