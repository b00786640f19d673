"""Golden features for the engine's note-model front end (tests/engine/test_note_front_end.cpp).

The numpy front end (``vocalmidi.train.front_end_np``, itself tested against the torch one
inside the exported graphs) with every block on (middle window, lag correlations, their
peak) over the audio of ``oohs-fluidr3.golden.bin`` (make_note_golden.py), streamed from a
silent context as the engine does; every ``STEP``-th frame is kept.

``front-end.features.bin``: ``VMFE0001``, int32 samples used, int64 sum of their int16
values (the C++ test checks it is reading the same audio), int32 frames kept, int32
features, int32 step, then float32 ``[frames, features]``.

Run from the repository root::

    .venv/bin/python tests/engine/golden/make_front_end_golden.py
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vocalmidi.train.contract import CONTEXT, HOP, LAG_WINDOW, MID_WINDOW
from vocalmidi.train.front_end_np import NumpyFrontEnd

HERE = Path(__file__).resolve().parent
MAGIC = b"VMFE0001"
SAMPLES = 24000  # 1.5 s: the clip's first notes, their onsets and a legato change
STEP = 6


def clip_audio(path: Path) -> np.ndarray:
    """The int16 audio of a ``.golden.bin`` (make_note_golden.write_frames)."""
    raw = path.read_bytes()
    count, _ = struct.unpack_from("<ii", raw, 8)
    return np.frombuffer(raw, "<i2", count, 16)


def main() -> int:
    pcm = clip_audio(HERE / "oohs-fluidr3.golden.bin")[:SAMPLES]
    heard = pcm.astype(np.float32) / 32767.0
    hops = len(heard) // HOP
    buf = np.concatenate([np.zeros(CONTEXT, np.float32), heard[:hops * HOP]])
    feats = NumpyFrontEnd(MID_WINDOW, LAG_WINDOW, lag_peak=True)(buf)[::STEP]
    out = HERE / "front-end.features.bin"
    with out.open("wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<iqiii", len(pcm), int(pcm.astype(np.int64).sum()), len(feats),
                            feats.shape[1], STEP))
        f.write(feats.astype("<f4").tobytes())
    print(f"wrote {out}: {len(feats)} frames x {feats.shape[1]} features")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
