"""`vocalmidi train data OUT`: generate voice-like training clips with exact frame labels.

Layout of a data folder::

    index.json          {"format": "vocalmidi-notedata", "version": 1, "split", "seed",
                         "hours", "sample_rate": 16000, "hop": 80, "clips": [...],
                         "sources": {...}}
    clips/<id>.npz      audio (float32, 16 kHz mono), onset, sounding, note, cents (one
                        value per label frame, see vocalmidi.train.labels) and meta (the
                        clip's index entry as a JSON string)

A clip is 4..12 s. Sung clips (about 85 %) are a performance
(:mod:`vocalmidi.train.performances`) sung by one of the training voices
(:func:`vocalmidi.train.voices.training_voices`) at a host rate; negatives (about 15 %)
hold no note (:mod:`vocalmidi.train.negatives`). Both go through
:func:`vocalmidi.train.augment.augment` to 16 kHz.

Everything a clip holds follows from ``(seed, split, i)``: the clips can be made in any
order, by any number of processes (``--jobs``) or Ray workers (``--ray [ADDRESS]``,
:mod:`vocalmidi.train.generate_ray`) with the same files bit for bit, and a run that was
stopped resumes where it was (finished clips are kept, each file is written whole or not
at all). ``--split dev`` draws other seeds and other melodies than ``train``.

Heavy modules (numba, scipy, music21, the voices) are imported when a clip is made, so
``vocalmidi --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.errors import BackendUnavailableError, UsageError, VocalMidiError
from vocalmidi.train import contract

__all__ = ["FORMAT", "VERSION", "ClipPlan", "add_arguments", "composition", "finished_entry",
           "generate", "main", "make_clip", "plan_clips", "store_clip"]

FORMAT = "vocalmidi-notedata"
VERSION = 1
MIN_SECONDS, MAX_SECONDS = 4.0, 12.0
NEGATIVE_SLOTS = (1, 8, 15)  # clip i is a negative when i % 20 is one of these: 15 %
_SPLIT_CODE = {"train": 0, "dev": 1}
_MAX_HOURS = 1000.0

SOURCES = {
    "melodies": "music21's bundled corpus (music21 is BSD-3-Clause; the Essen folk-song "
                "collection and Bach chorale encodings as music21 distributes them, "
                "public-domain works); the evaluation set's and the demo's melodies are "
                "excluded",
    "fluidr3": "FluidR3_GM SoundFont (Debian fluid-soundfont-gm, MIT licence): voice "
               "patches and monophonic instruments, piano, guitar and drums; TimGM6mb and "
               "MuseScore General are validation voices and never used here",
    "espeak-ng": "espeak-ng speech synthesizer (Debian espeak-ng, GPL-3.0-or-later; the "
                 "audio it outputs carries no licence terms): sung syllables, speech and "
                 "babble; the validation voices' languages and variants are left out",
    "flite": "flite speech synthesizer (Debian flite; its code and voices under a "
             "BSD-style licence from Carnegie Mellon University): sung syllables, voice set "
             "2 only; slt is a validation voice and never used here",
    "festival": "Festival speech synthesis system and its festvox voices (Debian festival, "
                "festvox-italp16k, -ca-ona-hts, -czech-krb, -suopuhe-lj, -kdlpc16k; "
                "free licences, see each package's copyright file): sung "
                "syllables, voice set 4 only; festvox-us-slt-hts (the validation voice "
                "slt's speaker) is never used",
    "pyworld": "WORLD vocoder via pyworld (MIT / modified BSD): re-pitches the syllables",
    "generated": "rooms, noises, breaths, coughs, claps, hums and whistles are synthesised "
                 "by vocalmidi (MIT)",
}


@dataclass(frozen=True)
class ClipPlan:
    """One clip to make: its position, length and whether it is a negative."""

    index: int
    seconds: float
    negative: bool
    split: str
    seed: int
    voice_set: int = 1  # which training voices sing (:data:`VOICE_SETS`)

    @property
    def id(self) -> str:
        return f"{self.split}-{self.index:06d}"

    def rng(self, stream: int) -> np.random.Generator:
        """The clip's random stream number ``stream`` (0: planning, 1: content)."""
        return np.random.default_rng([self.seed, _SPLIT_CODE[self.split], self.index, stream])


def plan_clips(hours: float, seed: int, split: str, voice_set: int = 1) -> list[ClipPlan]:
    """The clips of a run, in order, until their total length reaches ``hours``."""
    plans: list[ClipPlan] = []
    total, i = 0.0, 0
    while total < hours * 3600.0:
        probe = ClipPlan(i, 0.0, False, split, seed)
        seconds = round(float(probe.rng(0).uniform(MIN_SECONDS, MAX_SECONDS)), 3)
        plans.append(ClipPlan(i, seconds, i % 20 in NEGATIVE_SLOTS, split, seed, voice_set))
        total += seconds
        i += 1
    return plans


# --- voices -------------------------------------------------------------------------


_VOICES: dict[int, list[Any]] = {}


def _voices(voice_set: int = 1) -> list[Any]:
    """The training voices of a set, in their fixed order (one list per process)."""
    if voice_set not in _VOICES:
        from vocalmidi.train.voices import training_voices

        voices = list(training_voices(voice_set))
        if not voices:
            raise UsageError("no training voice is available (see vocalmidi.train.voices)")
        held_out = [v.name for v in voices
                    if any(f in _describe(v) for f in _VALIDATION_FONT_NAMES)]
        if held_out:  # the validation voices must stay unheard
            raise RuntimeError(f"training voices {held_out} use a validation SoundFont")
        _VOICES[voice_set] = voices
    return _VOICES[voice_set]


_VALIDATION_FONT_NAMES = ("timgm", "musescore")
# Share of sung clips per voice kind (the part of a voice's name before ":"): the
# sung-syllable voices are closest to real singing, so they get the largest share. (Until
# stage 10's data: 0.45/0.4/0.15, three hum kinds; the plain tone took the hum share to 0.2.)
# Voice set 2 adds flite's voices, made from recordings of real speakers, as a kind of
# their own: a fifth of the sung clips, taken from the other kinds in proportion.
# Voice set 3 takes flite's fifth from the espeak syllables and the hums only: stage 17
# (set 2) lost on Voice Oohs and the demo take's vibrato when the GM share fell to 0.3.
# Voice set 4 adds Festival's voices (real speakers again, but women and a boy where
# flite's are men) as a kind of their own, their share taken from espeak's and flite's:
# the validation voice slt is a woman, and every real-speaker voice in training was a man.
# Voice set 5 is set 4's voices and shares with singers who vibrate from a note's first
# moment (performances.ONSET_VIBRATO_SHARE): a singer's set, not a voice's.
# Voice set 6 is set 5 with singers who join more of their notes (performances.LEGATO_FLOOR).
# Voice set 7 is set 5 (its singers and shares) with the GM patches gliding into a legato
# change (GMVoice legato="glide"), as the evaluation set's patches do from its version 4:
# no singer sounds two notes at once, as a keyboard legato does.
# Voice set 8 is set 7 with a steady pure sine among the hums (voices.hum "sine").
VOICE_SETS = (1, 2, 3, 4, 5, 6, 7, 8)
VOICE_KIND_SHARE = {
    1: {"syllable": 0.42, "gm": 0.38, "hum": 0.2},
    2: {"syllable": 0.34, "flite": 0.2, "gm": 0.3, "hum": 0.16},
    3: {"syllable": 0.26, "flite": 0.2, "gm": 0.38, "hum": 0.16},
    4: {"syllable": 0.20, "flite": 0.12, "festival": 0.14, "gm": 0.38, "hum": 0.16},
}
VOICE_KIND_SHARE[5] = VOICE_KIND_SHARE[6] = VOICE_KIND_SHARE[7] = VOICE_KIND_SHARE[4]
VOICE_KIND_SHARE[8] = VOICE_KIND_SHARE[7]


def singers(voice_set: int) -> tuple[bool, bool]:
    """``make_performance``'s (onset_vibrato, more_legato) for a voice set: sets 5-7
    have singers who vibrate from a note's first moment, set 6 singers who join more of
    their notes (set 7 changes set 5's patches, not its singers)."""
    return voice_set >= 5, voice_set == 6


def voice_kind(name: str) -> str:
    """``syllable``, ``flite``, ``festival``, ``gm``, ``hum`` (or the whole name for
    another kind)."""
    for backend in ("flite", "festival"):
        if name.startswith(f"syllable:{backend}:"):
            return backend
    return name.split(":", 1)[0]


def _pick_voice(rng: np.random.Generator, voice_set: int = 1) -> Any:
    """A voice kind by :data:`VOICE_KIND_SHARE`, then one of its voices, uniformly."""
    voices = _voices(voice_set)
    kinds: dict[str, list[Any]] = {}
    for v in voices:
        kinds.setdefault(voice_kind(v.name), []).append(v)
    names = sorted(kinds)
    share = VOICE_KIND_SHARE[voice_set]
    weights = np.array([share.get(k, 0.1) for k in names])
    kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    return kinds[kind][int(rng.integers(0, len(kinds[kind])))]


def _describe(voice: Any) -> str:
    """Lower-case name and fields of a voice, to look for a validation SoundFont in."""
    fields = getattr(voice, "__dict__", {}) or {}
    return f"{voice.name} {fields}".lower()


# --- one clip -----------------------------------------------------------------------


def _label_notes(true: Sequence[Any], performed: Sequence[Any]) -> list[Any]:
    """The true notes, each with its performed bend curve when the voice did not return one."""
    from dataclasses import replace

    out = []
    for n in true:
        if not n.bend:
            near = [p for p in performed if p.pitch == n.pitch and abs(p.start - n.start) < 0.03]
            if near:
                best = min(near, key=lambda p: abs(p.start - n.start))
                shift = n.start - best.start
                n = replace(n, bend=tuple((t + shift, s) for t, s in best.bend))
        out.append(n)
    return out


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)[:n]
    return np.pad(audio, (0, n - audio.shape[0]))


_ATTEMPTS = 3


def _sing(plan: ClipPlan, rng: np.random.Generator,
          sr: int) -> tuple[np.ndarray, list[Any], dict[str, Any]]:
    """Perform and sing the clip: (dry audio at ``sr``, label notes, index fields).

    A performance a voice cannot sing (a rare corner of a melody or voice) is redrawn
    from the clip's next random stream, so one odd clip does not stop a long run and the
    output still depends on ``(seed, split, i)`` only.
    """
    from vocalmidi.train.performances import make_performance, repeated_fraction

    error = ""
    for attempt in range(_ATTEMPTS):
        if attempt:
            rng = plan.rng(1 + attempt)
        perf = make_performance(rng, plan.seconds, plan.split, *singers(plan.voice_set))
        voice = _pick_voice(rng, plan.voice_set)
        try:
            dry, true = voice.render(perf.notes, sr, int(rng.integers(0, 2**31)))
        except BackendUnavailableError:
            raise  # a missing program or SoundFont: no other draw helps
        except (ValueError, VocalMidiError) as exc:
            error = f"{voice.name}: {exc}"
            continue
        notes = [n for n in _label_notes(true, perf.notes) if n.start < plan.seconds]
        bad = [n.pitch for n in notes if not contract.NOTE_MIN <= n.pitch <= contract.NOTE_MAX]
        if bad:
            error = f"{voice.name}: notes {bad} outside the model's note range"
            continue
        return dry, notes, {
            "voice": voice.name, "kind": "sung", "melody": perf.melody,
            "register": perf.register, "bpm": perf.bpm, "style": perf.style,
            "notes": len(notes), "repeated": int(round(repeated_fraction(notes) * len(notes))),
            "attempt": attempt}
    raise RuntimeError(f"clip {plan.id}: no voice could sing it in {_ATTEMPTS} tries "
                       f"({error})")


def make_clip(plan: ClipPlan) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Make one clip: (arrays to write, its index entry)."""
    from vocalmidi.train.augment import HOST_RATES, augment
    from vocalmidi.train.labels import rasterise

    rng = plan.rng(1)
    sr = int(rng.choice(HOST_RATES))
    n_host = int(round(plan.seconds * sr))
    entry: dict[str, Any] = {"id": plan.id, "file": f"clips/{plan.id}.npz",
                             "seconds": plan.seconds, "seed": plan.seed, "split": plan.split}
    notes: list[Any] = []
    if plan.negative:
        from vocalmidi.train.negatives import make_negative

        dry, what = make_negative(plan.seconds, sr, rng)
        entry.update({"voice": what, "kind": "negative", "melody": None})
    else:
        dry, notes, sung = _sing(plan, rng, sr)
        entry.update(sung)
    audio, params = augment(_fit(dry, n_host), sr, rng)
    audio = _fit(audio, int(round(plan.seconds * contract.SAMPLE_RATE)))
    entry["condition"] = params.pop("condition")
    entry["augment"] = params
    arrays = {"audio": audio, **rasterise(notes, audio.shape[0])}
    return arrays, entry


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz whole or not at all, byte-identical for identical arrays.

    numpy's savez stamps each member with the current time; fixed stamps keep reruns
    and ``--jobs`` byte for byte the same.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_entry(path: Path) -> dict[str, Any] | None:
    """The index entry stored in a finished clip, or None when it is missing or broken."""
    try:
        with np.load(path) as z:
            entry = json.loads(str(z["meta"]))
            frames = contract.num_frames(z["audio"].shape[0])
            if any(z[k].shape != (frames,) for k in contract.LABEL_KEYS):
                return None
        return entry if isinstance(entry, dict) else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None


def finished_entry(plan: ClipPlan, out: str | Path) -> dict[str, Any] | None:
    """The entry of the clip ``plan`` when ``out`` already holds it whole, else None."""
    path = Path(out) / "clips" / f"{plan.id}.npz"
    if path.is_file():
        entry = _read_entry(path)
        same = (plan.seconds, plan.seed, plan.split)
        if entry is not None and (entry.get("seconds"), entry.get("seed"),
                                  entry.get("split")) == same:
            return entry
    return None


def store_clip(plan: ClipPlan, out: str | Path, arrays: dict[str, np.ndarray],
               entry: dict[str, Any]) -> None:
    """Write a clip made by :func:`make_clip` into ``out`` (whole or not at all)."""
    arrays = {**arrays, "meta": np.array(json.dumps(entry, sort_keys=True))}
    _write_npz(Path(out) / "clips" / f"{plan.id}.npz", arrays)


def _work(job: tuple[ClipPlan, str]) -> tuple[dict[str, Any], bool]:
    """Make (or find) one clip in ``out``; returns its entry and whether it was made now."""
    plan, out = job
    entry = finished_entry(plan, out)
    if entry is not None:
        return entry, False
    arrays, entry = make_clip(plan)
    store_clip(plan, out, arrays, entry)
    return entry, True


# --- the run ------------------------------------------------------------------------


def _check_out(out: Path, seed: int, split: str, voice_set: int = 1) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    try:
        (out / "clips").mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write training data to {out}: {exc.strerror or exc}") from None
    index = out / "index.json"
    if index.is_file():
        try:
            old = json.loads(index.read_text())
        except (OSError, json.JSONDecodeError):
            old = None
        if not isinstance(old, dict) or old.get("format") != FORMAT:
            raise UsageError(f"{out} holds an index.json that is not vocalmidi training "
                             "data: choose another folder")
        if (old.get("seed"), old.get("split")) != (seed, split):
            raise UsageError(f"{out} holds {old.get('split')} data made with seed "
                             f"{old.get('seed')}, not {split} with seed {seed}: choose "
                             "another folder or the same --seed/--split to resume")
        if old.get("voice_set", 1) != voice_set:
            raise UsageError(f"{out} holds data sung by voice set {old.get('voice_set', 1)}, "
                             f"not {voice_set}: choose another folder or the same "
                             "--voice-set to resume")


def _run(jobs: list[tuple[ClipPlan, str]], n_jobs: int | None,
         ray: bool | str = False) -> Iterator[tuple[dict[str, Any], bool]]:
    if ray:
        from vocalmidi.train.generate_ray import run_ray

        yield from run_ray(jobs, None if ray is True else ray, n_jobs)
        return
    n_jobs = n_jobs or 1
    if n_jobs <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _work(job)
        return
    import multiprocessing

    # One thread per process: the pool is the parallelism.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n_jobs) as pool:
        yield from pool.imap_unordered(_work, jobs, chunksize=1)


def generate(out: str | Path, *, hours: float, seed: int = 0, split: str = "train",
             jobs: int | None = 1, progress: bool = True,
             ray: bool | str = False, voice_set: int = 1) -> dict[str, Any]:
    """Generate (or complete) a training-data folder.

    Parameters
    ----------
    out : path
        Output folder (created). A folder from an interrupted run with the same seed and
        split is completed: finished clips are kept.
    hours : float
        Total audio to make, in hours (> 0).
    seed : int
        Master seed; clip ``i`` derives its own from ``(seed, split, i)``.
    split : {"train", "dev"}
        ``dev`` uses other seeds and other melodies (early stopping).
    jobs : int or None
        Worker processes; with ``ray``, clips made at once (None: one per CPU of the
        Ray cluster).
    progress : bool
        Show a progress bar.
    ray : bool or str
        Make the clips on Ray (``vocalmidi[ray]``): True starts a local Ray instance, a
        string is the address (``host:port``) of a cluster. The files are the same as
        without Ray, bit for bit; this process writes them, so the workers need no access
        to ``out``.
    voice_set : int
        Which training voices sing (:func:`vocalmidi.train.voices.training_voices`): 1
        (default, what every model until stage 16 heard), 2 (adds flite's voices), 3 (set
        2's voices, set 1's GM share) or 4 (adds Festival's voices to set 3).

    Returns
    -------
    dict
        The written index, plus ``stats`` (clips made now, audio seconds, wall seconds).
    """
    if not (isinstance(hours, (int, float)) and math.isfinite(hours) and
            0 < hours <= _MAX_HOURS):
        raise UsageError(f"--hours must be a number of hours in (0, {_MAX_HOURS:g}], "
                         f"got {hours}")
    if split not in _SPLIT_CODE:
        raise UsageError(f"unknown split {split!r}: use train or dev")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {seed}")
    if voice_set not in VOICE_SETS:
        raise UsageError(f"--voice-set must be one of {VOICE_SETS}, got {voice_set}")
    out = Path(out)
    _check_out(out, seed, split, voice_set)
    plans = plan_clips(hours, seed, split, voice_set)
    total_s = sum(p.seconds for p in plans)
    entries: dict[int, dict[str, Any]] = {}
    made_s, made_n = 0.0, 0
    t0 = time.perf_counter()
    with _progress(progress, len(plans), total_s) as bar:
        for entry, made in _run([(p, str(out)) for p in plans], jobs, ray):
            i = int(entry["id"].rsplit("-", 1)[1])
            entries[i] = entry
            if made:
                made_s += float(entry["seconds"])
                made_n += 1
            bar(entry, made, made_s, time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    index = {
        "format": FORMAT, "version": VERSION, "split": split, "seed": seed, "hours": hours,
        **({"voice_set": voice_set} if voice_set != 1 else {}),
        "sample_rate": contract.SAMPLE_RATE, "hop": contract.HOP,
        "clips": [entries[i] for i in sorted(entries)],
        "sources": {k: v for k, v in SOURCES.items()
                    if (voice_set >= 2 or k != "flite") and (voice_set >= 4 or k != "festival")},
    }
    tmp = out / f".index.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(index, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, out / "index.json")
    return {**index, "stats": {"made": made_n, "made_seconds": made_s,
                               "wall_seconds": wall, "total_seconds": total_s}}


class _progress:
    """A rich progress bar (clips, audio hours, speed against real time, ETA), or nothing."""

    def __init__(self, show: bool, clips: int, seconds: float) -> None:
        self.show, self.clips, self.seconds = show, clips, seconds
        self.done_s = 0.0

    def __enter__(self) -> Any:
        if not self.show:
            return lambda *a: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("[bold]training data"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("{task.fields[audio]}"),
                            TextColumn("{task.fields[speed]}"), TimeElapsedColumn(),
                            TimeRemainingColumn(), transient=False)
        self.bar.__enter__()
        self.task = self.bar.add_task("", total=self.clips, audio="", speed="")
        return self._update

    def _update(self, entry: dict[str, Any], made: bool, made_s: float, wall: float) -> None:
        self.done_s += float(entry["seconds"])
        speed = f"{made_s / wall:.1f}x real time" if made and wall > 0 else ""
        self.bar.update(self.task, advance=1, speed=speed,
                        audio=f"{self.done_s / 3600:.3f}/{self.seconds / 3600:.3f} h")

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self.bar.__exit__(*exc)


def composition(clips: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Percent of the audio per voice kind and for negatives, and percent of sung notes
    that repeat the previous pitch (re-articulated syllables)."""
    total = sum(float(c["seconds"]) for c in clips) or 1.0
    out: dict[str, float] = {}
    for c in clips:
        key = "negative" if c["kind"] == "negative" else voice_kind(c["voice"])
        out[key] = out.get(key, 0.0) + 100.0 * float(c["seconds"]) / total
    notes = sum(int(c.get("notes", 0)) for c in clips)
    out["repeated_notes"] = 100.0 * sum(int(c.get("repeated", 0)) for c in clips) / max(notes, 1)
    return {k: round(v, 1) for k, v in sorted(out.items())}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``vocalmidi train data``."""
    parser.add_argument("out", metavar="OUT", type=Path, help="output folder")
    parser.add_argument("--hours", type=float, default=1.0,
                        help="hours of audio to generate (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (default 1), or with --ray clips made at once "
                        "(default one per CPU of the cluster); the output does not depend on it")
    parser.add_argument("--ray", nargs="?", const=True, default=False, metavar="ADDRESS",
                        help="make the clips on Ray (pip install 'vocalmidi[ray]'): a local "
                        "instance, or the cluster at ADDRESS (host:port); write --ray=ADDRESS "
                        "before OUT")
    parser.add_argument("--split", choices=tuple(_SPLIT_CODE), default="train",
                        help="train, or dev for early stopping (other seeds and melodies)")
    parser.add_argument("--voice-set", type=int, choices=VOICE_SETS, default=1,
                        help="which training voices sing: 1 (default; espeak-ng syllables, "
                        "FluidR3 patches, hums), 2 (adds flite's voices, made from real "
                        "speakers, a fifth of the sung clips), 3 (as 2, with the GM "
                        "patches' share of set 1), 4 (as 3, with Festival's voices: "
                        "women and a boy from real speakers), 5 (as 4, with singers who "
                        "vibrate from a note's first moment), 6 (as 5, with singers who "
                        "join more of their notes) or 7 (as 5, with the GM patches gliding "
                        "into a legato change)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run ``vocalmidi train data``."""
    jobs = 1 if args.jobs is None and not args.ray else args.jobs  # Ray: None = its CPUs
    result = generate(args.out, hours=args.hours, seed=args.seed, split=args.split,
                      jobs=jobs, progress=not args.quiet, ray=args.ray,
                      voice_set=args.voice_set)
    stats = result["stats"]
    clips = result["clips"]
    neg = sum(1 for c in clips if c["kind"] == "negative")
    print(f"{len(clips)} clips ({neg} negative), {stats['total_seconds'] / 3600:.3f} h "
          f"in {args.out}")
    print("percent of audio: " + ", ".join(f"{k} {v:g}" for k, v in composition(clips).items()
                                           if k != "repeated_notes")
          + f"; repeated notes {composition(clips)['repeated_notes']:g} % of sung notes")
    if stats["made_seconds"] > 0:
        rate = stats["made_seconds"] / max(stats["wall_seconds"], 1e-9)
        print(f"made {stats['made_seconds']:.0f} s of audio in {stats['wall_seconds']:.1f} s "
              f"with {_workers(args)}: {rate:.2f} audio-seconds per second")
    else:
        print("nothing to do: every clip was already there")
    return 0


def _workers(args: argparse.Namespace) -> str:
    """What made the clips, for the summary line."""
    if not args.ray:
        return f"{args.jobs if args.jobs is not None else 1} job(s)"
    where = "a local Ray instance" if args.ray is True else f"Ray at {args.ray}"
    return f"{args.jobs} at once on {where}" if args.jobs else where
