"""What a batch run is made of: jobs (one input file and its outputs), their outcomes,
and the steps every runner shares (cache look-up, transcription, atomic writes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vocalmidi.errors import UsageError, VocalMidiError

if TYPE_CHECKING:
    from vocalmidi.notes import Note
    from vocalmidi.transcribe import Settings

__all__ = ["Job", "Outcome", "finish_job", "from_cache", "order_by_size", "plan_jobs",
           "run_job", "transcribe_job", "write_outputs"]


@dataclass(frozen=True)
class Job:
    """One input file and the files it is transcribed to.

    Attributes
    ----------
    source : Path
        The audio file.
    targets : tuple of Path
        The ``.mid`` file first, then any ``.csv``/``.json`` note lists.
    """

    source: Path
    targets: tuple[Path, ...]


@dataclass(frozen=True)
class Outcome:
    """What became of one job.

    Attributes
    ----------
    source : Path
    notes : int
        Notes written (0 on failure).
    cached : bool
        Served from the result cache (nothing decoded).
    seconds : float
        Wall time spent on the file by whoever ran it.
    error : str or None
        One line saying why the file was not transcribed.
    exit_code : int
        The error's exit code (``vocalmidi.errors``); 0 on success.
    attempts : int
        How many times it was started (more than 1 after a worker died under it).
    worker : str
        Who transcribed it (``local``, or the Ray node and process).
    """

    source: Path
    notes: int
    cached: bool
    seconds: float
    error: str | None = None
    exit_code: int = 0
    attempts: int = 1
    worker: str = "local"


def plan_jobs(inputs: Sequence[str], out: Path, csv: bool, json: bool) -> list[Job]:
    """Pair each audio file with its output paths (folders keep their layout).

    Raises
    ------
    UsageError
        ``out`` names one ``.mid`` file for several inputs, or two inputs would write
        the same output.
    AudioInputError
        An input does not exist, or a folder holds no audio.
    """
    from vocalmidi.audio_io import find_audio_files

    single_target = out.suffix.lower() in (".mid", ".midi")
    pairs: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        files = find_audio_files([path])
        for f in files:
            rel = f.relative_to(path.resolve()) if path.is_dir() else Path(f.name)
            pairs.append((f, rel.with_suffix(".mid")))
    if single_target and len(pairs) != 1:
        raise UsageError(f"-o {out} names one .mid file but there are {len(pairs)} inputs: "
                         "give a folder")
    seen: dict[Path, Path] = {}
    jobs = []
    for src, rel in pairs:
        mid = out if single_target else out / rel
        if mid in seen:
            raise UsageError(f"{src} and {seen[mid]} would both write {mid}: transcribe them "
                             "into separate folders")
        seen[mid] = src
        extra = [mid.with_suffix(s) for s, on in ((".csv", csv), (".json", json)) if on]
        jobs.append(Job(src, (mid, *extra)))
    return jobs


def order_by_size(jobs: Sequence[Job]) -> list[Job]:
    """Largest input first: the long files start early, so no worker is left with one
    big file at the end while the others idle. Unreadable sizes go last."""

    def size(job: Job) -> int:
        try:
            return job.source.stat().st_size
        except OSError:
            return -1

    return sorted(jobs, key=lambda j: (-size(j), str(j.source)))


def write_outputs(targets: Sequence[Path], notes: Sequence[Note]) -> None:
    """Write every target atomically: a hidden temporary file in the same folder, renamed
    over the target. An interrupted write (Ctrl-C, a full disk) leaves the previous file
    or none, never half a file."""
    from vocalmidi.midi_io import write_notes

    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same suffix: write_notes picks the format from it.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part{target.suffix}")
        try:
            write_notes(tmp, notes)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def transcribe_job(job: Job, settings: Settings, use_cache: bool,
                   worker: str = "local") -> tuple[list[Note] | None, Outcome]:
    """Transcribe one job's file without writing its outputs.

    Returns
    -------
    notes : list of Note or None
        None when the file could not be transcribed.
    outcome : Outcome
        With the reason when it failed; errors are reported, never raised, so one bad
        file does not stop a batch.
    """
    from vocalmidi.transcribe import transcribe_file

    t0 = time.perf_counter()
    try:
        notes, cached = transcribe_file(job.source, settings, use_cache=use_cache)
    except VocalMidiError as exc:
        return None, Outcome(job.source, 0, False, time.perf_counter() - t0, str(exc),
                             exc.exit_code, worker=worker)
    return notes, Outcome(job.source, len(notes), cached, time.perf_counter() - t0,
                          worker=worker)


def run_job(job: Job, settings: Settings, use_cache: bool) -> Outcome:
    """Transcribe one file and write its outputs (runs in the local pool's processes)."""
    notes, outcome = transcribe_job(job, settings, use_cache)
    if notes is None:
        return outcome
    return finish_job(job, notes, outcome)


def finish_job(job: Job, notes: Sequence[Note], outcome: Outcome) -> Outcome:
    """Write a transcribed job's outputs; a write failure becomes the job's error."""
    from dataclasses import replace

    try:
        write_outputs(job.targets, notes)
    except OSError as exc:
        return replace(outcome, notes=0, error=f"cannot write output for {job.source}: {exc}",
                       exit_code=1)
    return outcome


def from_cache(job: Job, settings: Settings) -> Outcome | None:
    """Write a job's outputs from the result cache, or None when it has no result (or
    anything goes wrong: the full path then reports it)."""
    from vocalmidi.transcribe import cached_result

    t0 = time.perf_counter()
    try:
        notes = cached_result(job.source, settings)
        if notes is None:
            return None
        write_outputs(job.targets, notes)
    except (VocalMidiError, OSError):
        return None
    return Outcome(job.source, len(notes), True, time.perf_counter() - t0)
