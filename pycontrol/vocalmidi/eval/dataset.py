"""The evaluation set: build it (deterministically) and load it.

Layout of a set folder::

    index.json            what is in the set (format "vocalmidi-evalset", version 1)
    clips/<id>.wav        mono audio (16-bit PCM, 48 kHz)
    clips/<id>.json       ground truth: {"id", "notes": [...], "meta": {...}}

Each take (a corpus melody sung by one voice patch, one voice range and style) appears
in every condition (``clean``, ``room``, ``noisy``), so conditions compare like with
like. Negative clips (condition ``negative``) hold no notes and count false notes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vocalmidi.errors import AudioInputError, UsageError
from vocalmidi.eval.conditions import CONDITIONS, NEGATIVE_KINDS, apply_condition, negative_clip
from vocalmidi.eval.melodies import MelodySpec, corpus_specs, load_melody
from vocalmidi.eval.render import render_take
from vocalmidi.eval.synth import available_soundfonts
from vocalmidi.notes import Note

__all__ = ["Clip", "EvalSet", "TakePlan", "load_set", "make_set", "plan_takes"]

FORMAT = "vocalmidi-evalset"
VERSION = 1
SAMPLE_RATE = 48000
_PATCHES = ("voice_oohs", "choir_aahs", "synth_voice")
_STYLES = ("sung", "expressive", "sung", "plain")


@dataclass(frozen=True)
class TakePlan:
    """One take to render: which melody, sung how."""

    melody: MelodySpec
    voice: str
    soundfont: str
    patch: str
    style: str
    seed: int
    seconds: float
    tempo_scale: float

    @property
    def id(self) -> str:
        return f"{self.melody.name}-{self.voice}-{self.soundfont}-{self.patch}-{self.style}"


@dataclass
class Clip:
    """One clip of a loaded set."""

    id: str
    audio_path: Path
    condition: str
    notes: list[Note]
    duration: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def negative(self) -> bool:
        return self.condition == "negative"

    def load_audio(self) -> tuple[np.ndarray, int]:
        """(float32 mono audio, sample rate)."""
        try:
            audio, sr = sf.read(str(self.audio_path), dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as exc:
            raise AudioInputError(f"cannot read clip {self.audio_path}: {exc}") from None
        return np.ascontiguousarray(audio.mean(axis=1)), int(sr)


@dataclass
class EvalSet:
    """A loaded evaluation set."""

    root: Path
    clips: list[Clip]
    quick: bool

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def conditions(self) -> list[str]:
        seen: list[str] = []
        for c in self.clips:
            if c.condition not in seen:
                seen.append(c.condition)
        return seen


def plan_takes(quick: bool = False) -> list[TakePlan]:
    """The takes of the set, in order: folk tunes and chorale soprano lines, both voice
    ranges, every installed SoundFont and voice patch, plain to expressive styles."""
    fonts = sorted(available_soundfonts(), key=["fluidr3", "timgm6mb", "musescore"].index)
    if not fonts:
        raise UsageError("no General MIDI SoundFont installed: install fluid-soundfont-gm")
    specs = corpus_specs("all")
    n = 3 if quick else 16
    plans: list[TakePlan] = []
    for i, spec in enumerate(specs[:n]):
        plans.append(TakePlan(
            melody=spec,
            voice=("female", "male")[i % 2],
            soundfont=fonts[i % len(fonts)],
            patch=_PATCHES[(i // 2) % len(_PATCHES)] if not quick else _PATCHES[i % 2],
            style=_STYLES[i % len(_STYLES)] if not quick else ("sung", "expressive")[i % 2],
            seed=1000 + i,
            seconds=6.0 if quick else 12.0,
            tempo_scale=(0.85, 1.0, 1.15)[i % 3],
        ))
    return plans


def _write_clip(root: Path, cid: str, audio: np.ndarray, notes: list[Note],
                meta: dict[str, Any]) -> dict[str, Any]:
    clips = root / "clips"
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.9:  # keep noisy mixes from clipping in 16-bit
        audio = audio * (0.9 / peak)
    sf.write(str(clips / f"{cid}.wav"), audio, SAMPLE_RATE, subtype="PCM_16")
    truth = {"id": cid, "notes": [n.to_dict() for n in notes], "meta": meta}
    (clips / f"{cid}.json").write_text(json.dumps(truth, indent=1) + "\n")
    return {
        "id": cid,
        "audio": f"clips/{cid}.wav",
        "truth": f"clips/{cid}.json",
        "condition": meta["condition"],
        "duration": round(audio.shape[0] / SAMPLE_RATE, 6),
        "notes": len(notes),
        "meta": meta,
    }


def make_set(
    root: str | Path,
    *,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render the evaluation set into ``root`` (created; existing clips are replaced).

    Parameters
    ----------
    root : path
        Output folder.
    quick : bool
        A small set (3 takes of ~6 s, 2 negatives) for tests and smoke runs.
    progress : callable, optional
        Called with a line per clip written.

    Returns
    -------
    pathlib.Path
        The written ``index.json``.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    (root / "clips").mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for plan in plan_takes(quick):
        score, bpm = load_melody(plan.melody, voice=plan.voice, max_seconds=plan.seconds,
                                 tempo_scale=plan.tempo_scale)
        dry, truth = render_take(score, soundfont=plan.soundfont, patch=plan.patch,
                                 style=plan.style, seed=plan.seed, sample_rate=SAMPLE_RATE)
        base_meta = {
            "melody": plan.melody.name, "corpus_path": plan.melody.corpus_path,
            "voice": plan.voice, "soundfont": plan.soundfont, "patch": plan.patch,
            "style": plan.style, "seed": plan.seed, "bpm": round(bpm, 3),
        }
        for k, cond in enumerate(CONDITIONS):
            rng = np.random.default_rng([plan.seed, k])
            audio, params = apply_condition(dry, SAMPLE_RATE, cond, rng)
            cid = f"{plan.id}-{cond}"
            meta = {**base_meta, "condition": cond, "take": plan.id, **params}
            entries.append(_write_clip(root, cid, audio, truth, meta))
            if progress:
                progress(f"{cid}: {len(truth)} notes, {audio.shape[0] / SAMPLE_RATE:.1f} s")
    kinds = NEGATIVE_KINDS[::2] if quick else NEGATIVE_KINDS * 2
    for i, kind in enumerate(kinds):
        rng = np.random.default_rng([7, i])
        seconds = 5.0 if quick else 10.0
        audio = negative_clip(kind, seconds, SAMPLE_RATE, rng)
        cid = f"negative-{kind}-{i}"
        entries.append(_write_clip(root, cid, audio, [], {"condition": "negative",
                                                          "kind": kind}))
        if progress:
            progress(f"{cid}: no notes, {seconds:.1f} s")
    index = {
        "format": FORMAT,
        "version": VERSION,
        "quick": quick,
        "sample_rate": SAMPLE_RATE,
        "soundfonts": {k: str(v) for k, v in available_soundfonts().items()},
        "clips": entries,
    }
    path = root / "index.json"
    path.write_text(json.dumps(index, indent=1) + "\n")
    return path


def load_set(root: str | Path, conditions: list[str] | None = None) -> EvalSet:
    """Load a set made by :func:`make_set` (optionally only some conditions).

    Raises
    ------
    UsageError
        When ``root`` holds no valid ``index.json``.
    """
    root = Path(root)
    index_path = root / "index.json"
    if not index_path.is_file():
        raise UsageError(f"{root} is not an evaluation set (no index.json): "
                         "make one with `vocalmidi eval make DIR`")
    try:
        index = json.loads(index_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{index_path} is not valid JSON: {exc}") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise UsageError(f"{index_path} is not a vocalmidi evaluation-set index")
    if index.get("version") != VERSION:
        raise UsageError(f"{index_path} has version {index.get('version')}, expected "
                         f"{VERSION}: re-make the set")
    clips: list[Clip] = []
    for e in index.get("clips", []):
        if conditions and e["condition"] not in conditions:
            continue
        truth_path = root / e["truth"]
        try:
            truth = json.loads(truth_path.read_text())
            notes = [Note.from_dict(d) for d in truth["notes"]]
        except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
            raise UsageError(f"bad ground truth {truth_path}: {exc}") from None
        audio_path = root / e["audio"]
        if not audio_path.is_file():
            raise UsageError(f"clip audio missing: {audio_path}: re-make the set")
        clips.append(Clip(e["id"], audio_path, e["condition"], notes, float(e["duration"]),
                          e.get("meta", {})))
    if not clips:
        wanted = f" for conditions {', '.join(conditions)}" if conditions else ""
        raise UsageError(f"{root} holds no clips{wanted}")
    return EvalSet(root, clips, bool(index.get("quick", False)))
