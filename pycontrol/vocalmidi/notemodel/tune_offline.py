"""Pick the whole-take decoder's thresholds on the dev split (never the eval set).

    python -m vocalmidi.notemodel.tune_offline MODEL.onnx DEV_DIR [DEV_DIR ...]

Runs the model once per dev clip, then a small grid over :class:`OfflineConfig` and a
coordinate pass (:func:`vocalmidi.train.trainer.tune_offline_decoder`), and prints the
best setting by note F1@50 (ties: fewer false notes per minute) as JSON. A whole-take
model carries its thresholds in its metadata (the trainer tunes them); for a streaming
model they are :class:`~vocalmidi.notemodel.offline.OfflineConfig`'s defaults.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vocalmidi.notemodel.run import NoteModelRunner
from vocalmidi.train import contract as C
from vocalmidi.train.dataset import read_clips


def main(argv: list[str] | None = None) -> int:
    from vocalmidi.train.trainer import evaluate_offline, tune_offline_decoder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("dev", type=Path, nargs="+")
    args = p.parse_args(argv)
    runner = NoteModelRunner(args.model)
    clips = [c for d in args.dev for c in read_clips(d)]
    outputs = [runner.analyse(c.audio, C.SAMPLE_RATE) for c in clips]
    current = runner.offline_config()
    best, metrics = tune_offline_decoder(outputs, clips, current)
    print(json.dumps({"clips": len(clips), "current": evaluate_offline(outputs, clips, current),
                      "best": metrics, "config": best.as_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
