"""Where a live note-on waits: per true note of training-data folders (the dev split, never
the validation sets), the frames from its onset to each gate of the live decoder.

    .venv/bin/python scripts/note_on_gates.py models/trained/vocalnote-s/vocalnote-s.onnx \
        build/train-data/dev build/train-data/dev3

A note-on leaves ``1 + LOOKAHEAD_HOPS`` frames after the frame it is decided at, so the
"decided" column plus 2, times 5 ms, is the emission latency the bench reports. The gate
that comes last is the one to work on (see docs/measurements.md, session 20). Notes after
a rest are also split by pitch range and by condition (room, noise...).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vocalmidi.train.contract import HOP, SAMPLE_RATE
from vocalmidi.train.dataset import read_clips
from vocalmidi.train.decode import decode, frame_levels_db
from vocalmidi.train.mode_decoder import decoder_for
from vocalmidi.train.trainer import model_outputs

WINDOW = 40  # frames after the true onset a gate may open in (200 ms)
REST_S = 0.05  # a note this long after the previous one ends starts "after a rest"


def note_kind(prev, note) -> str:
    if prev is None or note.start - prev.end >= REST_S:
        return "after a rest"
    return "repeated pitch" if note.pitch == prev.pitch else "legato change"


def first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def pitch_range(pitch: int) -> str:
    # low notes have long periods: the pitch takes longer to be sure of (session 20)
    return "below G3" if pitch < 55 else ("G3 to G4" if pitch < 67 else "G4 and up")


def print_row(label: str, got: list[tuple[int | None, ...]]) -> None:
    cells = []
    for i in range(len(got[0])):
        v = [r[i] for r in got if r[i] is not None]
        cells.append(f"{np.median(v):5.0f} ({len(v) / len(got):.2f})" if v else "-")
    print(f"{label:16s} {len(got):6d}  " + "  ".join(f"{c:>22s}" for c in cells))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path, help="an exported note model (.onnx)")
    p.add_argument("data", type=Path, nargs="+", help="training-data folders")
    args = p.parse_args()

    import onnx

    meta = {m.key: m.value for m in onnx.load(str(args.model)).metadata_props}
    dec = decoder_for(meta, "instant")
    clips = [c for d in args.data for c in read_clips(d, None) if not c.negative]
    rows: dict[str, list[tuple[int | None, ...]]] = {}
    rest: dict[str, list[tuple[int | None, ...]]] = {}
    for out, clip in zip(model_outputs(args.model, clips), clips, strict=True):
        events = decode(out.onset, out.sounding, out.note, out.note_conf,
                        frame_levels_db(clip.audio), dec)
        ons = [e for e in events if e.kind == "on"]
        prev = None
        for note in clip.notes():
            # round, not contract.frame_of_time: note times are frame starts (k * HOP /
            # SAMPLE_RATE), which truncation lands a frame early for some k
            k0 = int(round(note.start * SAMPLE_RATE / HOP))
            w = slice(k0, k0 + WINDOW)
            named = out.note[w] == note.pitch
            sent = [e.decided - k0 for e in ons
                    if e.note == note.pitch and 0 <= e.decided - k0 < WINDOW]
            gates = (first(out.onset[w] >= dec.onset_on), first(named),
                     first(named & (out.note_conf[w] >= dec.start_conf)), min(sent, default=None))
            kind = note_kind(prev, note)
            rows.setdefault(kind, []).append(gates)
            if kind == "after a rest":  # the plainest case, split by what makes it slower
                for group in (pitch_range(note.pitch),
                              f"condition {clip.meta.get('condition', '?').split('+')[0]}"):
                    rest.setdefault(group, []).append(gates)
            prev = note
    names = ["onset edge", "pitch named", f"named, conf >= {dec.start_conf}", "decided"]
    print(f"frames of {HOP * 1000 // SAMPLE_RATE} ms after the true onset: median "
          "(share of notes where the gate opens within 200 ms)")
    print(f"{'note':16s} {'notes':>6s}  " + "  ".join(f"{g:>22s}" for g in names))
    for kind, got in sorted(rows.items()):
        print_row(kind, got)
    print("notes after a rest, by range and by the clip's first condition:")
    for group, got in sorted(rest.items()):
        print_row(group, got)
    print(json.dumps({"decoder": dec.as_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
