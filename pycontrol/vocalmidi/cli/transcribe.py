"""`vocalmidi transcribe INPUT... -o OUT`: audio files or folders to MIDI files.

One ``.mid`` per input (plus ``.csv``/``.json`` note lists on request), with a progress
bar over files (files/s, ETA), files spread over ``--jobs`` local processes or, with
``--ray [ADDRESS]``, over Ray actors, and results cached so a re-run (or a resumed run)
does only what is missing. Outputs are written atomically, so Ctrl-C leaves no partial
file. A file that fails is reported on one line and the others still run; the exit code
is that of the first failure (130 after Ctrl-C), 0 only when every file was transcribed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vocalmidi.cli.engine_params import engine_params
from vocalmidi.device import DEVICES
from vocalmidi.errors import UsageError

#: What a bare ``--ray`` stands for: start a local Ray instance.
_LOCAL_RAY = "local"


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
    p.add_argument("--model", help="model id from the model cache, or a path to an .onnx file "
                   "(default: the manifest's model for files, the whole-take note model; "
                   "with --live or --through-plugin, the plugin's default)")
    p.add_argument("--kind", help="adapter of a model given as a path (default swiftf0)")
    p.add_argument("--preset", help="manifest preset, e.g. live-accurate")
    p.add_argument("--csv", action="store_true", help="also write a .csv note list")
    p.add_argument("--json", action="store_true", help="also write a .json note list")
    p.add_argument("--through-plugin", action="store_true",
                   help="render through the built plugin in the headless host")
    p.add_argument("--live", action="store_true",
                   help="with a note model: what the plugin would have sent live (frame by "
                        "frame) instead of the best whole-take decoding")
    p.add_argument("--bends", action="store_true",
                   help="write the performed pitch as pitch bends (whole-take decoding)")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="files transcribed in parallel: worker processes (default 1), or "
                   "Ray actors with --ray (default one per CPU of the cluster)")
    p.add_argument("--ray", nargs="?", const=_LOCAL_RAY, default=None, metavar="ADDRESS",
                   help="run on Ray (pip install 'vocalmidi[ray]'): a local instance, or the "
                   "cluster at ADDRESS (host:port); write --ray=ADDRESS before the inputs")
    p.add_argument("--gpus-per-actor", type=float, default=0.25, metavar="F",
                   help="with --ray on a cluster with GPUs: the GPU fraction each actor asks "
                   "for (default 0.25)")
    p.add_argument("--device", default="auto", choices=DEVICES,
                   help="where the model runs: auto (a GPU when the CUDA build of ONNX "
                   "Runtime and a GPU are there), cpu, or cuda (falls back to the CPU "
                   "with a message)")
    p.add_argument("--json-summary", action="store_true",
                   help="print a JSON summary on stdout (files done, from cache, failed with "
                   "reasons, files/min); --json is the note-list output")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    p.add_argument("--sensitivity", type=float, help="0..1, higher finds quieter notes")
    p.add_argument("--min-note-ms", type=float, help="shortest note kept, ms")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any engine parameter, e.g. --set scale=major (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vocalmidi.batch.jobs import from_cache, plan_jobs
    from vocalmidi.batch.progress import BatchProgress, summary
    from vocalmidi.device import use_device
    from vocalmidi.transcribe import Settings, resolve_model

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    settings = Settings(args.model, args.preset, engine_params(args), args.through_plugin,
                        args.kind, live=args.live, bends=args.bends, device=args.device)
    jobs = plan_jobs(args.inputs, Path(args.out), args.csv, args.json)
    # Fail fast, once, on what every file would fail on: a missing model or build.
    resolve_model(settings.model, settings.preset, settings.kind, files=settings.for_files())
    from vocalmidi import native

    native.engine_library()
    if settings.through_plugin:
        native.host_library()
        native.vst3_path()
    # Set before any worker starts: they inherit the engine's device through the
    # environment (Ray actors resolve it again on their own node).
    device = use_device(args.device, warn=False)
    if device.fell_back:
        print(f"vocalmidi: --device cuda: {device.reason}", file=sys.stderr)

    use_cache = not args.no_cache
    interrupted = False
    runner = "ray" if args.ray else "local"
    extra: dict[str, Any] = {"workers": args.jobs or 1, "device": device.as_dict()}
    with BatchProgress(len(jobs), quiet=args.quiet) as progress:
        try:
            # Cached results are written here: no worker is started for them.
            todo = []
            for job in jobs:
                hit = from_cache(job, settings) if use_cache else None
                if hit is not None:
                    progress.done(hit)
                else:
                    todo.append(job)
            if todo and args.ray:
                from vocalmidi.batch.ray_runner import RayOptions, run_ray

                address = None if args.ray == _LOCAL_RAY else args.ray
                options = RayOptions(address, args.jobs, args.gpus_per_actor)
                extra = run_ray(todo, settings, use_cache, args.device, options,
                                progress.done, progress.say)
            elif todo:
                from vocalmidi.batch.local import run_local

                run_local(todo, settings, use_cache, args.jobs or 1, progress.done,
                          progress.say)
        except KeyboardInterrupt:
            interrupted = True
    outcomes = progress.outcomes
    report = summary(jobs, outcomes, progress.elapsed, runner=runner, out=Path(args.out),
                     interrupted=interrupted, **extra)
    if args.json_summary:
        print(json.dumps(report, indent=2))
    if not args.quiet:
        progress.console.print(
            f"{report['transcribed']} of {len(jobs)} file(s) transcribed, {report['notes']} "
            f"notes ({report['from_cache']} from cache) -> {args.out}"
            + (" (interrupted: run the same command again to finish)" if interrupted else ""),
            highlight=False, soft_wrap=True)
    if interrupted:
        return 130
    failed = [o for o in outcomes if o.error]
    return failed[0].exit_code if failed else 0
