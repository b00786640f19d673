"""The evaluation set: build it (deterministically) and load it.

Layout of a set folder::

    index.json            what is in the set (format "vocalmidi-evalset", version 1)
    clips/<id>.wav        mono audio (16-bit PCM, 48 kHz)
    clips/<id>.json       ground truth: {"id", "notes": [...], "meta": {...}}

Each take (a corpus melody sung by one voice, one voice range and style) appears in
every condition (``clean``, ``room``, ``noisy``), so conditions compare like with like.
Negative clips (condition ``negative``) hold no notes and count false notes: steady and
clicky noise (:func:`vocalmidi.eval.conditions.negative_clip`), and since version 3 what a
live rig hears between and under the takes (:func:`vocalmidi.train.negatives.make_negative`):
speech by the validation espeak voices, breaths, coughs, claps, and piano and guitar chords
and drums from the validation SoundFonts.

The voices are the note model's validation voices, never trained on
(:func:`vocalmidi.train.voices.validation_voices`): the held-apart sung-syllable voices
(espeak-ng re-pitched with WORLD) and the calibrated voice patches of the TimGM6mb and
MuseScore General Lite SoundFonts (envelopes made voice-like; no slow pads; since version
4 a legato change glides from one pitch to the next as a singer's does, where a keyboard
would sound both notes at once). The melodies (:func:`eval_melody_names`) and the
performance seeds (1000 + take number) are held apart from training too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vocalmidi.errors import AudioInputError, UsageError
from vocalmidi.eval.conditions import CONDITIONS, NEGATIVE_KINDS, apply_condition, negative_clip
from vocalmidi.eval.melodies import MelodySpec, corpus_specs, load_melody
from vocalmidi.eval.perform import STYLES, perform
from vocalmidi.eval.render import DEMO_MELODY
from vocalmidi.eval.synth import available_soundfonts
from vocalmidi.notes import Note

__all__ = ["Clip", "EvalSet", "TakePlan", "eval_melody_names", "load_set", "make_set",
           "plan_takes"]

FORMAT = "vocalmidi-evalset"
VERSION = 4  # 2: validation voices (held-apart syllable voices, calibrated patches)
# 3: the rig's negatives (speech, breaths, coughs, claps, chords, drums); takes as in 2
# 4: the patches sing legato changes as a glide (GMVoice legato="glide"), not as two
#    overlapping keyboard notes; every other clip as in 3
SAMPLE_RATE = 48000
_TAKES = 16
_QUICK_TAKES = 3
_PATCHES = ("voice_oohs", "choir_aahs", "synth_voice")
_STYLES = ("sung", "expressive", "sung", "plain")
# Which kind of voice sings takes 2j and 2j + 1 (female, male): j % 4 picks from here,
# so syllable voices sing half the takes, in both ranges.
_ROTATION = ("syllable", "timgm6mb", "syllable", "musescore")
_QUICK_ROTATION = ("timgm6mb", "syllable", "musescore")
# The rig's negatives (kind, SoundFont for the pitched ones), 10 s each (5 s quick).
_RIG_NEGATIVES = (("speech", ""), ("speech", ""), ("breath", ""), ("cough", ""), ("clap", ""),
                  ("piano", "timgm6mb"), ("piano", "musescore"), ("guitar", "timgm6mb"),
                  ("guitar", "musescore"), ("drums", "timgm6mb"), ("drums", "musescore"))
_QUICK_RIG_NEGATIVES = (("speech", ""), ("piano", "timgm6mb"))
_RIG_PEAK_DBFS = (-20.0, -6.0)  # from bleed under a take to talking into the microphone


@dataclass(frozen=True)
class TakePlan:
    """One take to render: which melody, sung how."""

    melody: MelodySpec
    voice: str  # voice range: "male" or "female"
    soundfont: str  # SoundFont short name, or "espeak" / "flite" for a sung-syllable voice
    patch: str  # GM patch, or the synthesizer's voice (e.g. "en-gb-x-rp+f5", "slt")
    style: str
    seed: int
    seconds: float
    tempo_scale: float
    rendering: int = 0  # 0: the set's own take; k > 0: the k-th extra rendering of its melody

    @property
    def id(self) -> str:
        patch = self.patch.replace("+", "_")
        extra = f"-r{self.rendering + 1}" if self.rendering else ""
        return f"{self.melody.name}-{self.voice}-{self.soundfont}-{patch}-{self.style}{extra}"

    def singer(self) -> Any:
        """The :class:`~vocalmidi.train.voices.Voice` that sings this take."""
        from vocalmidi.train.voices.gm import GMVoice
        from vocalmidi.train.voices.syllable import SyllableVoice

        if self.soundfont == "espeak":
            return SyllableVoice(self.patch, self.voice == "female")
        if self.soundfont == "flite":
            return SyllableVoice(f"flite:{self.patch}", self.voice == "female")
        return GMVoice(self.soundfont, self.patch, legato="glide")


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


def eval_melody_names() -> list[str]:
    """Names (:attr:`MelodySpec.name`) of the melodies the evaluation set and the demo
    take sing: training data must not use them."""
    names = [s.name for s in corpus_specs("all")[:_TAKES]] + [DEMO_MELODY.name]
    return list(dict.fromkeys(names))


def _espeak_voice(range_: str, k: int) -> str:
    from vocalmidi.train.voices import VALIDATION_ESPEAK

    fitting = [v for v, female in VALIDATION_ESPEAK if female == (range_ == "female")]
    return fitting[k % len(fitting)]


def _singer_font_patch(singer: str) -> tuple[str, str]:
    """(soundfont, patch) of a validation voice named as :mod:`vocalmidi.train.voices`
    names it (``syllable:flite:slt``, ``gm:musescore:voice_oohs``; ``flite:slt`` and
    ``fr+f5`` are read as sung-syllable voices)."""
    from vocalmidi.train.voices import validation_voices

    names = {v.name for v in validation_voices()}
    name = singer if singer in names else f"syllable:{singer}"
    if name not in names:
        raise UsageError(f"--singer {singer!r} is not a validation voice; choose one of "
                         f"{', '.join(sorted(names))}")
    kind, rest = name.split(":", 1)
    if kind == "gm":
        font, patch = rest.split(":", 1)
        return font, patch
    if rest.startswith("flite:"):
        return "flite", rest[len("flite:"):]
    return "espeak", rest


def plan_takes(quick: bool = False, renderings: int = 1,
               singer: str | None = None) -> list[TakePlan]:
    """The takes of the set, in order: folk tunes and chorale soprano lines, both voice
    ranges, the validation voices (held-apart syllable voices, calibrated voice patches
    of TimGM6mb and MuseScore General Lite), plain to expressive styles.

    ``renderings`` > 1 sings every melody that many times, each extra time by the next
    voice of the rotation, in the next style, from other seeds (1000 + 100 r + i): more
    independent performances for :mod:`vocalmidi.eval.compare` to tell systems apart.
    The first rendering is the set itself, byte for byte. No extra melody is used:
    training keeps out only the set's melodies (:func:`eval_melody_names`).

    ``singer`` (a validation voice, e.g. ``flite:slt``) sings every take instead of the
    rotation: the same melodies, styles and seeds, to see how one unheard voice fares.
    """
    if renderings < 1:
        raise UsageError(f"renderings must be at least 1, not {renderings}")
    from vocalmidi.train.voices import VALIDATION_SOUNDFONTS
    from vocalmidi.train.voices.gm import usable_patches

    installed = available_soundfonts()
    patches = {f: [p for p in _PATCHES if p in usable_patches(f)]
               for f in VALIDATION_SOUNDFONTS if f in installed}
    patches = {f: p for f, p in patches.items() if p}
    rotation = _QUICK_ROTATION if quick else _ROTATION
    n = _QUICK_TAKES if quick else _TAKES
    fixed = _singer_font_patch(singer) if singer else None  # checked before any rendering
    plans: list[TakePlan] = []
    for r, (i, spec) in itertools.product(range(renderings),
                                          enumerate(corpus_specs("all")[:n])):
        voice = ("female", "male")[i % 2]
        kind = rotation[(i + r) % len(rotation)] if quick \
            else rotation[(i // 2 + r) % len(rotation)]
        if kind != "syllable" and kind not in patches:
            kind = next(iter(patches), "syllable")  # a SoundFont is missing: use another
        if fixed:
            font, patch = fixed
        elif kind == "syllable":
            font, patch = "espeak", _espeak_voice(voice, i // 4 + r)
        else:
            font = kind
            k = ((i // 2) % 2 if quick else i // 4 + i % 2) + r
            patch = patches[font][k % len(patches[font])]
        plans.append(TakePlan(
            melody=spec,
            voice=voice,
            soundfont=font,
            patch=patch,
            # Shifted every 4 takes so that no voice kind always gets the same style.
            style=(_STYLES[(i + i // 4 + r) % len(_STYLES)] if not quick
                   else ("sung", "expressive")[(i + r) % 2]),
            seed=1000 + 100 * r + i,
            seconds=6.0 if quick else 12.0,
            tempo_scale=(0.85, 1.0, 1.15)[(i + r) % 3],
            rendering=r,
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
    renderings: int = 1,
    singer: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render the evaluation set into ``root`` (created; existing clips are replaced).

    Parameters
    ----------
    root : path
        Output folder.
    quick : bool
        A small set (3 takes of ~6 s: TimGM6mb, a syllable voice, MuseScore; 4
        negatives: noise, clicks, speech, piano) for tests and smoke runs.
    renderings : int
        Sing each melody that many times (:func:`plan_takes`); the negatives stay.
    singer : str, optional
        One validation voice sings every take (:func:`plan_takes`); the negatives stay.
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
    for plan in plan_takes(quick, renderings, singer):
        score, bpm = load_melody(plan.melody, voice=plan.voice, max_seconds=plan.seconds,
                                 tempo_scale=plan.tempo_scale)
        sung = perform(score, STYLES[plan.style], plan.seed)
        dry, sounded = plan.singer().render(sung, SAMPLE_RATE, plan.seed)
        truth = [replace(n, bend=()) for n in sounded]
        base_meta = {
            "melody": plan.melody.name, "corpus_path": plan.melody.corpus_path,
            "voice": plan.voice, "soundfont": plan.soundfont, "patch": plan.patch,
            "style": plan.style, "seed": plan.seed, "bpm": round(bpm, 3),
            **({"rendering": plan.rendering} if plan.rendering else {}),
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
    entries += _rig_negatives(root, quick, first=len(kinds), progress=progress)
    index = {
        "format": FORMAT,
        "version": VERSION,
        "quick": quick,
        "renderings": renderings,
        **({"singer": singer} if singer else {}),
        "sample_rate": SAMPLE_RATE,
        "soundfonts": {k: str(v) for k, v in available_soundfonts().items()},
        "clips": entries,
    }
    path = root / "index.json"
    path.write_text(json.dumps(index, indent=1) + "\n")
    return path


def _rig_negatives(root: Path, quick: bool, first: int,
                   progress: Callable[[str], None] | None) -> list[dict[str, Any]]:
    """Write the rig's negatives (:data:`_RIG_NEGATIVES`), numbered from ``first``; their
    seeds ([8, i]) and voices are none that training uses."""
    from vocalmidi.train.negatives import make_negative
    from vocalmidi.train.voices import VALIDATION_ESPEAK

    talkers = tuple(v for v, _ in VALIDATION_ESPEAK)
    entries = []
    seconds = 5.0 if quick else 10.0
    for i, (kind, font) in enumerate(_QUICK_RIG_NEGATIVES if quick else _RIG_NEGATIVES, first):
        rng = np.random.default_rng([8, i])
        audio, _ = make_negative(seconds, SAMPLE_RATE, rng, kind, font=font or "fluidr3",
                                 voices=talkers)
        audio = audio * (10 ** (rng.uniform(*_RIG_PEAK_DBFS) / 20) / 0.5)  # its peak was 0.5
        cid = f"negative-{kind}-{i}"
        meta = {"condition": "negative", "kind": kind, "source": font or "validation voices"}
        entries.append(_write_clip(root, cid, audio.astype(np.float32), [], meta))
        if progress:
            progress(f"{cid}: no notes, {seconds:.1f} s")
    return entries


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
