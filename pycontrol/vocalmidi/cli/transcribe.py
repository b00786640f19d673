"""`vocalmidi transcribe INPUT... -o OUT`: audio files or folders to MIDI files.

One ``.mid`` per input (plus ``.csv``/``.json`` note lists on request), with a progress
bar over files, files spread over ``--jobs`` processes, and results cached so a re-run
is instant. A file that fails is reported on one line and the others still run; the exit
code is that of the first failure.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocalmidi.cli.engine_params import engine_params
from vocalmidi.errors import UsageError, VocalMidiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe audio files or folders to .mid",
        description="Transcribe audio files (wav, flac, ogg, mp3; any rate; mono or stereo) "
        "or folders of them to MIDI files.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files or folders")
    p.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="output folder, or a .mid file when there is one input file")
    p.add_argument("--model", help="model id from the model cache, or a path to an .onnx file")
    p.add_argument("--kind", help="adapter of a model given as a path (default swiftf0)")
    p.add_argument("--preset", help="manifest preset, e.g. live-accurate")
    p.add_argument("--csv", action="store_true", help="also write a .csv note list")
    p.add_argument("--json", action="store_true", help="also write a .json note list")
    p.add_argument("--through-plugin", action="store_true",
                   help="render through the built plugin in the headless host")
    p.add_argument("-j", "--jobs", type=int, default=1, help="files transcribed in parallel")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    p.add_argument("--sensitivity", type=float, help="0..1, higher finds quieter notes")
    p.add_argument("--min-note-ms", type=float, help="shortest note kept, ms")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any engine parameter, e.g. --set scale=major (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Job:
    source: Path
    targets: tuple[Path, ...]


@dataclass(frozen=True)
class Outcome:
    source: Path
    notes: int
    cached: bool
    seconds: float
    error: str | None = None
    exit_code: int = 0


def plan_jobs(inputs: list[str], out: Path, csv: bool, json: bool) -> list[Job]:
    """Pair each audio file with its output paths (folders keep their layout)."""
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


def run_job(job: Job, settings: Any, use_cache: bool) -> Outcome:
    """Transcribe one file and write its outputs (also runs in worker processes)."""
    from vocalmidi.midi_io import write_notes
    from vocalmidi.transcribe import transcribe_file

    t0 = time.perf_counter()
    try:
        notes, cached = transcribe_file(job.source, settings, use_cache=use_cache)
        for target in job.targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_notes(target, notes)
    except VocalMidiError as exc:
        return Outcome(job.source, 0, False, time.perf_counter() - t0, str(exc), exc.exit_code)
    except OSError as exc:
        return Outcome(job.source, 0, False, time.perf_counter() - t0,
                       f"cannot write output for {job.source}: {exc}", 1)
    return Outcome(job.source, len(notes), cached, time.perf_counter() - t0)


def _from_cache(job: Job, settings: Any) -> Outcome | None:
    from vocalmidi.midi_io import write_notes
    from vocalmidi.transcribe import cached_result

    t0 = time.perf_counter()
    try:
        notes = cached_result(job.source, settings)
        if notes is None:
            return None
        for target in job.targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_notes(target, notes)
    except (VocalMidiError, OSError):
        return None  # the full path reports it
    return Outcome(job.source, len(notes), True, time.perf_counter() - t0)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from vocalmidi.transcribe import Settings, resolve_model

    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    settings = Settings(args.model, args.preset, engine_params(args), args.through_plugin,
                        args.kind)
    jobs = plan_jobs(args.inputs, Path(args.out), args.csv, args.json)
    # Fail fast, once, on what every file would fail on: a missing model or build.
    resolve_model(settings.model, settings.preset, settings.kind)
    from vocalmidi import native

    native.engine_library()
    if settings.through_plugin:
        native.host_library()
        native.vst3_path()

    console = Console(stderr=True)
    outcomes: list[Outcome] = []
    columns = (TextColumn("[bold]transcribing"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.description}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=args.quiet, transient=False) as bar:
        task = bar.add_task("", total=len(jobs))

        def done(o: Outcome) -> None:
            outcomes.append(o)
            if o.error:
                bar.console.print(f"vocalmidi: error: {o.error}", markup=False, highlight=False,
                                  soft_wrap=True)
            bar.update(task, advance=1, description=o.source.name)

        # Cached results are written here: no worker process is started for them.
        todo = []
        for job in jobs:
            hit = None if args.no_cache else _from_cache(job, settings)
            if hit is not None:
                done(hit)
            else:
                todo.append(job)
        jobs_left = todo
        workers = min(args.jobs, len(jobs_left))
        if workers <= 1:
            for job in jobs_left:
                done(run_job(job, settings, not args.no_cache))
        else:
            import multiprocessing

            # spawn: the engine runs threads, and forking a process with threads is unsafe.
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(run_job, j, settings, not args.no_cache) for j in jobs_left]
                for fut in as_completed(futures):
                    done(fut.result())

    failed = [o for o in outcomes if o.error]
    cached = sum(o.cached for o in outcomes)
    total_notes = sum(o.notes for o in outcomes)
    if not args.quiet:
        console.print(f"{len(outcomes) - len(failed)} of {len(jobs)} file(s) transcribed, "
                      f"{total_notes} notes ({cached} from cache) -> {args.out}",
                      highlight=False, soft_wrap=True)
    return failed[0].exit_code if failed else 0
