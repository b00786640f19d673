"""Pick the whole-take decoder's thresholds on the dev split (never the eval set).

    python -m vocalmidi.notemodel.tune_offline MODEL.onnx DEV_DIR [DEV_DIR ...]

Runs the model once per dev clip, then a small grid over :class:`OfflineConfig`, and
prints the best setting by note F1@50 (ties: fewer false notes per minute) as JSON, to
be written into :class:`~vocalmidi.notemodel.offline.OfflineConfig`'s defaults.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from vocalmidi.eval.metrics import score_clip, summarize
from vocalmidi.notemodel.offline import OfflineConfig, decode_offline
from vocalmidi.notemodel.run import FrameOutputs, NoteModelRunner
from vocalmidi.train import contract as C
from vocalmidi.train.dataset import read_clips

GRID: dict[str, list[Any]] = {
    "onset_threshold": [0.3, 0.45, 0.6, 0.75],
    "sounding_on": [0.5, 0.6, 0.7, 0.8],
    "min_change_ms": [45.0, 70.0, 100.0],
    "min_note_ms": [50.0, 80.0, 120.0],
}


def score(outputs: list[FrameOutputs], clips: list[Any], cfg: OfflineConfig) -> dict[str, Any]:
    scores = [score_clip(c.notes(), decode_offline(o, cfg), c.duration, negative=c.negative)
              for o, c in zip(outputs, clips, strict=True)]
    return summarize(scores).as_dict()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("dev", type=Path, nargs="+")
    args = p.parse_args(argv)
    runner = NoteModelRunner(args.model)
    clips = [c for d in args.dev for c in read_clips(d, features=False)]
    outputs = [runner.analyse(c.audio, C.SAMPLE_RATE) for c in clips]
    best: tuple[tuple[float, float], OfflineConfig, dict[str, Any]] | None = None
    for values in itertools.product(*GRID.values()):
        d = dict(zip(GRID, values, strict=True))
        d["sounding_off"] = min(OfflineConfig.sounding_off, d["sounding_on"])
        cfg = replace(OfflineConfig(), **d)
        m = score(outputs, clips, cfg)
        key = (m["f1_50"] or 0.0, -(m["false_per_min"] or 0.0))
        if best is None or key > best[0]:
            best = (key, cfg, m)
    assert best is not None
    default = score(outputs, clips, OfflineConfig())
    print(json.dumps({"clips": len(clips), "default": default, "best": best[2],
                      "config": best[1].as_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
