"""`vocalmidi profile TAKE [--realtime] [--json]`: where the engine spends its time on a take.

Prints each figure of the engine's profiler (per-stage timings with mean and p99, ML-thread
share, audio-thread share, queue fill, dropped and late frames, deadline misses, emission
latency) beside its target, with a warning where it misses. ``--json`` prints the report
the plugin editor saves ("Save report").
"""

from __future__ import annotations

import argparse
import json

from vocalmidi.cli.engine_params import engine_params


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="profile the engine on a take (timings, threads, latency, against targets)",
        description="Run a take through the engine and report per-stage timings, thread "
        "shares, queues, dropped/late frames and emission latency, each beside its target.",
    )
    p.add_argument("take", metavar="TAKE", help="audio file")
    p.add_argument("--realtime", action="store_true",
                   help="feed the take at real-time pace to the engine's realtime mode (its ML "
                   "thread, as in a host); default: offline, as fast as it goes")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--model", help="model id from the model cache, or a path to an .onnx file")
    p.add_argument("--kind", help="adapter of a model given as a path (default swiftf0)")
    p.add_argument("--preset", help="manifest preset (default live-fast)")
    p.add_argument("--block", type=int, default=128, help="host block size (default 128)")
    p.add_argument("--rate", type=float, default=None,
                   help="host sample rate (default: the file's rate)")
    p.add_argument("--sensitivity", type=float, help="0..1, higher finds quieter notes")
    p.add_argument("--min-note-ms", type=float, help="shortest note kept, ms")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any engine parameter, e.g. --set latency_mode=fast (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vocalmidi.profile import format_report, profile_take
    from vocalmidi.transcribe import resolve_model

    preset = args.preset if args.preset or args.model else "live-fast"
    model, settings = resolve_model(args.model, preset, args.kind)
    params = {**settings, **engine_params(args)}
    report = profile_take(args.take, model_path=model.path, kind=model.adapter, model_id=model.id,
                          realtime=args.realtime, block=args.block, sample_rate=args.rate,
                          params=params)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
