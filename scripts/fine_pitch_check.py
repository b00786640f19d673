"""How far the note model's fine pitch, and the refined one pitch bends use
(``vocalmidi.notemodel.fine_pitch``), read from the performed pitch on held notes.

Steady frames only: the labels' note is sounding and named by the model, at least 50 ms
after its onset and 30 ms before its end. The error is the pitch minus the performed
pitch (the written note plus the performance's bend curve: scoops, vibrato, drift), in
cents. Two sources:

- ``--dev DIR``: a training data folder (training voices: the refinement's two settings
  were chosen on dev4, so these numbers are tuned on);
- ``--validation N``: N performances of held-apart seeds sung by the validation voices
  (TimGM6mb and MuseScore patches gliding, the validation espeak voices, flite ``slt``),
  clean and with the training augmentations, labelled from what each voice sounded.

    .venv/bin/python scripts/fine_pitch_check.py --dev build/train-data/dev4 --validation 60
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vocalmidi.notemodel.fine_pitch import refine_pitch
from vocalmidi.train.export import OnnxNoteModel

ROOT = Path(__file__).resolve().parents[1]
STEADY_AFTER, STEADY_BEFORE = 10, 6  # frames after the onset, before the end


def steady_frames(labels: dict[str, np.ndarray], named: np.ndarray) -> np.ndarray:
    """Frames of a held note the model names: past its start, before its end."""
    n = len(named)
    onset, sounding, note = labels["onset"][:n], labels["sounding"][:n], labels["note"][:n]
    since = np.full(n, 1 << 20)
    last = -(1 << 20)
    for f in range(n):
        if onset[f]:
            last = f
        since[f] = f - last
    ok = (note >= 0) & (since >= STEADY_AFTER) & (named == note)
    ends_soon = np.ones(n, bool)
    ends_soon[:n - STEADY_BEFORE] = ~sounding[STEADY_BEFORE:].astype(bool)
    return ok & ~ends_soon


def dev_clips(root: Path, limit: int | None) -> Iterator[tuple[str, np.ndarray, dict]]:
    from vocalmidi.train.dataset import read_clips

    for clip in read_clips(root, limit=limit):
        if clip.meta.get("kind") == "sung":
            yield _group(clip.meta["voice"], clip.meta["condition"]), clip.audio, clip.labels


def validation_clips(count: int, seed: int) -> Iterator[tuple[str, np.ndarray, dict]]:
    from vocalmidi.train import contract
    from vocalmidi.train.augment import augment
    from vocalmidi.train.generate import _label_notes
    from vocalmidi.train.labels import rasterise
    from vocalmidi.train.performances import make_performance
    from vocalmidi.train.voices import VALIDATION_ESPEAK, VALIDATION_SOUNDFONTS
    from vocalmidi.train.voices.gm import GMVoice, usable_patches
    from vocalmidi.train.voices.syllable import SyllableVoice

    voices = [GMVoice(font, patch, legato="glide") for font in VALIDATION_SOUNDFONTS
              for patch in ("voice_oohs", "choir_aahs", "synth_voice")
              if patch in usable_patches(font)]
    voices += [SyllableVoice(name, female) for name, female in VALIDATION_ESPEAK]
    voices += [SyllableVoice("flite:slt", True)]
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        perf = make_performance(rng, 8.0, "dev", True, False)
        voice = voices[i % len(voices)]
        sr = 48000
        try:
            dry, true = voice.render(perf.notes, sr, int(rng.integers(0, 2**31)))
        except ValueError:
            continue  # a range this voice cannot sing
        notes = _label_notes(true, perf.notes)
        audio, params = augment(dry, sr, rng)
        n = int(round(len(dry) / sr * contract.SAMPLE_RATE))
        audio = np.pad(audio, (0, max(0, n - len(audio))))[:n]
        yield _group(voice.name, params["condition"]), audio, rasterise(notes, len(audio))


def _group(voice: str, condition: str) -> tuple[str, str]:
    kind = "gm" if voice.startswith("gm:") else voice.split(":")[0]
    if voice.startswith("syllable:flite"):
        kind = "flite"
    return kind, "clean" if condition.startswith("clean") else "not clean"


def measure(model: OnnxNoteModel, clips: Iterator) -> dict[str, list[np.ndarray]]:
    errors: dict[str, list[np.ndarray]] = collections.defaultdict(list)
    for (kind, condition), audio, labels in clips:
        out = model.run(audio)
        frames = min(len(out.pitch), len(labels["note"]))
        ok = steady_frames(labels, out.note[:frames])
        if not ok.any():
            continue
        truth = labels["note"][:frames] + labels["cents"][:frames] / 100.0
        refined = refine_pitch(audio, out.pitch[:frames])
        for key in ("all", kind, condition):
            errors[key].append(np.stack([(out.pitch[:frames] - truth)[ok],
                                         (refined - truth)[ok]]) * 100.0)
    return errors


def report(title: str, errors: dict[str, list[np.ndarray]]) -> None:
    print(f"\n{title}: |error| in cents on held notes, model -> refined (median, p90)")
    for key in sorted(errors, key=lambda k: (k != "all", k)):
        e = np.abs(np.concatenate(errors[key], axis=1))
        print(f"  {key:10s} {e.shape[1]:7d} frames  median {np.median(e[0]):5.1f} -> "
              f"{np.median(e[1]):4.1f}   p90 {np.percentile(e[0], 90):5.1f} -> "
              f"{np.percentile(e[1], 90):4.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path,
                   default=ROOT / "models/trained/vocalnote-s/vocalnote-s.onnx")
    p.add_argument("--dev", type=Path, help="a training data folder (tuned on)")
    p.add_argument("--dev-limit", type=int, default=None, help="first N clips of --dev")
    p.add_argument("--validation", type=int, default=0,
                   help="performances sung by the validation voices")
    p.add_argument("--seed", type=int, default=2828, help="seed of --validation")
    args = p.parse_args()
    model = OnnxNoteModel(args.model)
    if args.dev:
        report(f"dev {args.dev} (tuned on)", measure(model, dev_clips(args.dev, args.dev_limit)))
    if args.validation:
        report(f"validation voices, {args.validation} performances, seed {args.seed}",
               measure(model, validation_clips(args.validation, args.seed)))


if __name__ == "__main__":
    main()
