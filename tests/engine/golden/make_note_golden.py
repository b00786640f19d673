"""Golden data for the engine's note-model decoder (tests/engine/test_note_decoder.cpp).

The Python reference (``vocalmidi.train.export.OnnxNoteModel`` + ``vocalmidi.train.decode``)
runs on real rendered clips; the C++ tests read what it saw and decided:

- ``<clip>.golden.bin``: the 16 kHz audio the model heard (int16, so both sides read the
  same samples) and, per label frame, the model's outputs and the frame level;
- ``<clip>.pitch.txt``: per label frame, the model's pitch refined for pitch bend
  (``vocalmidi.notemodel.fine_pitch``) from that audio (tests/engine/test_pitch_refiner.cpp);
- ``<clip>.events.txt``: the reference decoder's events, one per line
  (``kind frame decided note velocity bend corrects``), for each early-correction choice,
  and as mode ``retrigger-hold8`` the retrigger events the engine sends in Accurate (a
  40 ms budget: 8 frames, ``cancel_unsent_guesses``; test_note_hold_queue.cpp);
- ``scripted.*``: hand-made frame sequences that take every rule of the decoder
  (onset wait, sounding start, re-attack, both corrections, legato change, note-off);
- ``scripted-gate.*``: the same plus a few notes, decoded with the confidence gates on (an
  unsure first guess waits for the pitch, then goes anyway, unless its sound ends first; an
  unsure legato change waits; a re-attack waits for the pitch).

Run from the repository root (the model defaults to the trained one when it exists)::

    .venv/bin/python tests/engine/golden/make_note_golden.py [--model FILE.onnx]
"""

from __future__ import annotations

import argparse
import json
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np

from vocalmidi.models.hashing import sha256_file
from vocalmidi.notemodel.fine_pitch import refine_pitch
from vocalmidi.train.contract import SAMPLE_RATE
from vocalmidi.train.decode import (
    DecoderConfig,
    NoteEvent,
    cancel_unsent_guesses,
    decode,
    frame_levels_db,
)
from vocalmidi.train.export import OnnxNoteModel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MAGIC = b"VMNG0001"
CORRECTIONS = ("retrigger", "bend")
HOLD_ACCURATE = 8  # frames: MlPipeline::noteModelBudgetMs(Accurate) = 40 ms
# (name, melody index in corpus_specs("folk"), soundfont, patch, voice, seconds)
CLIPS = (
    ("oohs-fluidr3", 0, "fluidr3", "voice_oohs", "female", 2.5),
    ("synth-timgm", 1, "timgm6mb", "synth_voice", "male", 2.5),
)


def default_model() -> Path:
    # The file the manifest ships (tests/engine/CMakeLists.txt picks the same one).
    shipped = ROOT / "models" / "trained" / "vocalnote-s" / "vocalnote-s-int8.onnx"
    return shipped if shipped.exists() else ROOT / "build" / "note-model" / "untrained.onnx"


def write_frames(path: Path, audio16: np.ndarray, frames: np.ndarray) -> None:
    """Header, int16 audio, then float32 [frames, 6] (onset, sounding, note, note_conf,
    pitch, level_db), little-endian."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<ii", len(audio16), len(frames)))
        f.write(audio16.astype("<i2").tobytes())
        f.write(frames.astype("<f4").tobytes())


def write_events(path: Path, by_mode: dict[str, list[NoteEvent]], header: str,
                 decoder: DecoderConfig) -> None:
    lines = [f"# {header}", f"decoder {json.dumps(decoder.as_dict())}"]
    for mode, events in by_mode.items():
        lines.append(f"mode {mode} {len(events)}")
        lines += [f"{e.kind} {e.frame} {e.decided} {e.note} {e.velocity} {e.bend:g} "
                  f"{int(e.corrects)}" for e in events]
    path.write_text("\n".join(lines) + "\n")


def decode_all(frames: np.ndarray, base: DecoderConfig) -> dict[str, list[NoteEvent]]:
    # The golden is the float32 data written to disk, exactly what the C++ side reads.
    f = frames.astype(np.float32)
    events = {m: decode(f[:, 0], f[:, 1], f[:, 2], f[:, 3], f[:, 5], replace(base, correction=m))
              for m in CORRECTIONS}
    events["retrigger-hold8"] = cancel_unsent_guesses(events["retrigger"], HOLD_ACCURATE)
    return events


def model_decoder(model: OnnxNoteModel) -> DecoderConfig:
    """The thresholds shipped with the model (as the engine reads them), else the defaults."""
    tuned = json.loads(model.metadata.get("vocalmidi.decoder") or "{}")
    return DecoderConfig.from_dict(tuned)


def render_clip(melody: int, soundfont: str, patch: str, voice: str, seconds: float) -> np.ndarray:
    from vocalmidi.eval.melodies import corpus_specs, load_melody
    from vocalmidi.eval.render import render_take

    score, _ = load_melody(corpus_specs("folk")[melody], voice=voice, max_seconds=seconds - 0.8,
                           lead_in=0.3)
    audio, _ = render_take(score, soundfont=soundfont, patch=patch, style="sung", seed=7,
                           sample_rate=SAMPLE_RATE)
    return audio[: int(seconds * SAMPLE_RATE)]


def scripted() -> np.ndarray:
    """Frames that walk the decoder through each rule (values chosen by hand)."""
    rows: list[tuple[float, float, float, float, float, float]] = []

    def add(n: int, onset: float, sounding: float, note: float, conf: float = 0.9,
            level: float = -20.0) -> None:
        rows.extend([(onset, sounding, note, conf, note + 0.1, level)] * n)

    add(5, 0.0, 0.0, 60)                # silence
    add(1, 0.9, 0.2, 60)                # onset edge before the voice sounds: waits
    add(2, 0.4, 0.6, 57, level=-12.5)   # sounds within onset_wait: note-on at the edge
    add(3, 0.1, 0.9, 59)                # a scoop settles on 59 early: correction
    add(20, 0.1, 0.9, 59)
    add(1, 0.8, 0.9, 59, level=-6.0)    # re-attack (repeated syllable)
    add(15, 0.1, 0.9, 59)
    add(5, 0.1, 0.9, 62)                # legato change after the correction window
    add(1, 0.1, 0.3, 62)                # one quiet frame: no off yet
    add(10, 0.1, 0.9, 62)
    add(4, 0.0, 0.1, 62)                # note-off
    add(10, 0.0, 0.8, 64, level=-35.0)  # soft start without an onset edge
    add(3, 0.0, 0.0, 64)
    add(1, 0.6, 0.9, 65, conf=0.4)      # onset; an unsure different note does not correct
    add(3, 0.2, 0.9, 66, conf=0.4)
    add(6, 0.2, 0.9, 65)
    add(2, 0.0, 0.0, 65)
    return np.asarray(rows, dtype=np.float32)


GATE = {"start_conf": 0.7, "start_wait_frames": 3, "change_conf": 0.6, "reattack_wait_frames": 3}


def scripted_gate() -> np.ndarray:
    """:func:`scripted` plus notes whose first frames are unsure (for ``GATE``)."""
    def rows(n: int, onset: float, sounding: float, note: float, conf: float) -> np.ndarray:
        return np.tile(np.float32([onset, sounding, note, conf, note + 0.1, -20.0]), (n, 1))

    return np.concatenate([
        scripted(), rows(3, 0.0, 0.0, 65, 0.9),  # the last note ends
        rows(1, 0.9, 0.9, 66, 0.3), rows(1, 0.5, 0.9, 67, 0.5),  # unsure, then sure: waits
        rows(8, 0.1, 0.9, 67, 0.9), rows(3, 0.0, 0.0, 67, 0.9),
        rows(1, 0.9, 0.9, 69, 0.3), rows(8, 0.1, 0.9, 69, 0.4),  # never sure: goes anyway
        rows(3, 0.0, 0.0, 69, 0.9),
        rows(1, 0.9, 0.9, 60, 0.9), rows(15, 0.1, 0.9, 60, 0.9),  # a held note...
        rows(6, 0.1, 0.9, 62, 0.5), rows(4, 0.1, 0.9, 62, 0.9),  # unsure change waits
        rows(3, 0.0, 0.0, 62, 0.9),
        rows(1, 0.9, 0.9, 64, 0.9), rows(15, 0.1, 0.9, 64, 0.9),  # a held note...
        rows(1, 0.9, 0.9, 64, 0.9), rows(1, 0.1, 0.9, 64, 0.9),  # an onset on the old pitch,
        rows(10, 0.1, 0.9, 65, 0.9),  # then a new one in the wait: a change at the edge
        rows(1, 0.9, 0.9, 65, 0.9), rows(10, 0.1, 0.9, 65, 0.9),  # same pitch: re-attack late
        rows(3, 0.0, 0.0, 65, 0.9),
        rows(1, 0.9, 0.9, 67, 0.5),  # a faded-out end read as an onset: the sound ends
        rows(10, 0.0, 0.0, 69, 0.3),  # by the frame the wait would give up, so no note
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    model_path = args.model or default_model()
    model = OnnxNoteModel(model_path)
    full = model_path.resolve()
    rel = full.relative_to(ROOT) if full.is_relative_to(ROOT) else model_path
    header = f"model {rel} sha256 {sha256_file(model_path)}"
    base = model_decoder(model)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, melody, soundfont, patch, voice, seconds in CLIPS:
        audio = render_clip(melody, soundfont, patch, voice, seconds)
        audio16 = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
        heard = audio16.astype(np.float32) / 32767.0
        out = model.run(heard, hops_per_call=1)
        levels = frame_levels_db(heard)
        frames = np.stack([out.onset, out.sounding, out.note, out.note_conf, out.pitch, levels],
                          axis=1).astype(np.float32)
        write_frames(args.out / f"{name}.golden.bin", audio16, frames)
        refined = refine_pitch(heard, frames[:, 4])
        (args.out / f"{name}.pitch.txt").write_text("".join(f"{p:.6f}\n" for p in refined))
        events = decode_all(frames, base)
        write_events(args.out / f"{name}.events.txt", events, header, base)
        ons = sum(e.kind == "on" for e in events["retrigger"])
        print(f"{name}: {len(frames)} frames, {ons} note-ons (retrigger)")
    frames = scripted()
    write_frames(args.out / "scripted.golden.bin", np.zeros(0, np.int16), frames)
    write_events(args.out / "scripted.events.txt", decode_all(frames, DecoderConfig()),
                 "hand-made frames", DecoderConfig())
    gate = DecoderConfig.from_dict(GATE)
    frames = scripted_gate()
    write_frames(args.out / "scripted-gate.golden.bin", np.zeros(0, np.int16), frames)
    write_events(args.out / "scripted-gate.events.txt", decode_all(frames, gate),
                 "hand-made frames, confidence gates on", gate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
