"""Where a live note-on waits: per true note of training-data folders (the dev split, never
the validation sets), the frames from its onset to each gate of the live decoder.

    .venv/bin/python scripts/note_on_gates.py models/trained/vocalnote-s/vocalnote-s.onnx \
        build/train-data/dev build/train-data/dev3

A note-on leaves ``1 + LOOKAHEAD_HOPS`` frames after the frame it is decided at, so the
"decided" column plus 2, times 5 ms, is the emission latency the bench reports. The gate
that comes last is the one to work on (see docs/measurements.md, session 20). Notes after
a rest are also split by pitch range, by condition (room, noise...) and by how the singer
enters them: on the written pitch, or scooped from 50 cents or more below (the labels'
performed pitch). A scooped note cannot be named before the singer reaches it, so the
"on pitch" column (first frame the performed pitch is within 50 cents of the written
note) is what the performance allows; the last table gives the fine-pitch head's error
over the first frames of the notes sung on pitch from the start (the sound the model has
heard so far, not the singer, is what limits those) beside the front end's lag
correlation peak (``features.lag_peak``: its distance from the semitone grid, so compared
modulo a semitone). A last line asks what the singing itself allows: a rule that knew the
performed pitch exactly (the labels) and named the nearest semitone once the pitch had
been within ``STEADY_CENTS`` of one, moving less than ``STEADY_STEP_CENTS`` a frame, for
``STEADY_FRAMES`` frames: the frame it decides at, and how often it names the written
note. ``--condition clean`` keeps the clips whose first condition is that.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vocalmidi.eval.census import note_kind
from vocalmidi.train.contract import HOP, LAG_WINDOW, MID_WINDOW, SAMPLE_RATE
from vocalmidi.train.dataset import clip_features, read_clips
from vocalmidi.train.decode import decode, frame_levels_db
from vocalmidi.train.features import PEAK_COUNT, FrontEnd
from vocalmidi.train.mode_decoder import decoder_for
from vocalmidi.train.trainer import model_outputs

WINDOW = 40  # frames after the true onset a gate may open in (200 ms)
ON_PITCH_CENTS = 50.0  # the performed pitch rounds to the written note
EARLY_FRAMES = 7  # frames after the onset the fine-pitch error table covers
STEADY_CENTS = 15.0  # the exact-pitch rule: this near a semitone,
STEADY_STEP_CENTS = 4.0  # moving less than this a frame,
STEADY_FRAMES = 2  # for this many frames running, names the semitone


def first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def pitch_range(pitch: int) -> str:
    # low notes have long periods: the pitch takes longer to be sure of (session 20)
    return "below G3" if pitch < 55 else ("G3 to G4" if pitch < 67 else "G4 and up")


def entry(cents: np.ndarray) -> str:
    # cents: performed minus written pitch over the note's first frames (labels)
    return "sung on pitch" if abs(cents[0]) < ON_PITCH_CENTS else "scooped into"


def peak_fraction(front: FrontEnd, audio: np.ndarray) -> np.ndarray:
    """Per label frame, the lag peak's pitch as a distance from the semitone grid
    (semitones, -0.5..0.5), as the model's front end computes it."""
    peak = clip_features(front, audio)[:, -PEAK_COUNT:]
    return np.angle(peak[:, 0] + 1j * peak[:, 1]) / (2 * np.pi)


def off_grid_error(fraction: np.ndarray, performed: np.ndarray) -> np.ndarray:
    """|estimate - performed| modulo a semitone, in cents."""
    return np.abs((fraction - performed + 0.5) % 1.0 - 0.5) * 100.0


def steady_frame(performed: np.ndarray) -> int | None:
    """First frame at which the exact-pitch rule decides (see the module doc)."""
    nearest = np.round(performed)
    step = np.abs(np.diff(performed, prepend=performed[0]))
    ok = (np.abs(performed - nearest) * 100 < STEADY_CENTS) & (step * 100 < STEADY_STEP_CENTS)
    run = 0
    for k in range(len(ok)):
        run = run + 1 if ok[k] and (run == 0 or nearest[k] == nearest[k - 1]) else int(ok[k])
        if run >= STEADY_FRAMES:
            return k
    return None


def print_errors(label: str, errors: list[np.ndarray]) -> None:
    err = np.stack(errors)
    print(f"{label}: |error| in cents by frame after the onset, median / share within 25 cents")
    print("  ".join(f"{k}: {np.median(err[:, k]):4.0f} / {np.mean(err[:, k] < 25):.2f}"
                    for k in range(EARLY_FRAMES)))


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
    p.add_argument("--condition", default=None, help="only clips whose first condition is this")
    args = p.parse_args()

    import onnx

    meta = {m.key: m.value for m in onnx.load(str(args.model)).metadata_props}
    dec = decoder_for(meta, "instant")
    clips = [c for d in args.data for c in read_clips(d, None) if not c.negative
             and args.condition in (None, c.meta.get("condition", "?").split("+")[0])]
    front = FrontEnd(MID_WINDOW, LAG_WINDOW, lag_peak=True)
    rows: dict[str, list[tuple[int | None, ...]]] = {}
    rest: dict[str, list[tuple[int | None, ...]]] = {}
    errors: list[np.ndarray] = []  # |fine pitch - performed| (cents), first frames, on pitch
    peak_errors: list[np.ndarray] = []  # the same for the lag peak, modulo a semitone
    steady: list[tuple[int, bool]] = []  # the exact-pitch rule: (frame, named the note)
    for out, clip in zip(model_outputs(args.model, clips), clips, strict=True):
        events = decode(out.onset, out.sounding, out.note, out.note_conf,
                        frame_levels_db(clip.audio), dec)
        ons = [e for e in events if e.kind == "on"]
        fraction = peak_fraction(front, clip.audio)
        prev = None
        for note in clip.notes():
            # round, not contract.frame_of_time: note times are frame starts (k * HOP /
            # SAMPLE_RATE), which truncation lands a frame early for some k
            k0 = int(round(note.start * SAMPLE_RATE / HOP))
            w = slice(k0, k0 + WINDOW)
            named = out.note[w] == note.pitch
            cents = clip.labels["cents"][w]
            sent = [e.decided - k0 for e in ons
                    if e.note == note.pitch and 0 <= e.decided - k0 < WINDOW]
            gates = (first(np.abs(cents) < ON_PITCH_CENTS), first(out.onset[w] >= dec.onset_on),
                     first(named), first(named & (out.note_conf[w] >= dec.start_conf)),
                     min(sent, default=None))
            kind = note_kind(prev, note)
            rows.setdefault(kind, []).append(gates)
            if kind == "after a rest":  # the plainest case, split by what makes it slower
                performed = note.pitch + cents / 100.0
                k = steady_frame(performed)
                if k is not None:
                    steady.append((k, bool(round(performed[k]) == note.pitch)))
                for group in (pitch_range(note.pitch), entry(cents),
                              f"condition {clip.meta.get('condition', '?').split('+')[0]}"):
                    rest.setdefault(group, []).append(gates)
                early = slice(k0, k0 + EARLY_FRAMES)
                if entry(cents) == "sung on pitch" and len(out.pitch[early]) == EARLY_FRAMES:
                    performed = note.pitch + clip.labels["cents"][early] / 100.0
                    errors.append(np.abs(out.pitch[early] - performed) * 100.0)
                    peak_errors.append(off_grid_error(fraction[early], performed))
            prev = note
    names = ["on pitch (singer)", "onset edge", "pitch named",
             f"named, conf >= {dec.start_conf}", "decided"]
    print(f"frames of {HOP * 1000 // SAMPLE_RATE} ms after the true onset: median "
          "(share of notes where the gate opens within 200 ms)")
    print(f"{'note':16s} {'notes':>6s}  " + "  ".join(f"{g:>22s}" for g in names))
    for kind, got in sorted(rows.items()):
        print_row(kind, got)
    print("notes after a rest, by range and by the clip's first condition:")
    for group, got in sorted(rest.items()):
        print_row(group, got)
    if errors:
        print(f"notes after a rest sung on pitch ({len(errors)}):")
        print_errors("fine pitch head", errors)
        print_errors("lag peak, modulo a semitone", peak_errors)
    if steady:
        frames = [k for k, _ in steady]
        print(f"knowing the performed pitch exactly (within {STEADY_CENTS:.0f} cents of a "
              f"semitone, moving < {STEADY_STEP_CENTS:.0f} cents a frame, {STEADY_FRAMES} "
              f"frames): decided at frame {np.median(frames):.0f} (p75 "
              f"{np.percentile(frames, 75):.0f}), the written note in "
              f"{np.mean([ok for _, ok in steady]):.3f} of {len(steady)} notes after a rest")
    print(json.dumps({"decoder": dec.as_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
