"""`vocalmidi bench`: accuracy and speed of every system, as a table and PNG plots.

    vocalmidi bench [--set DIR] [--quick] [--system NAME ...] [--out DIR]

Without ``--set`` it renders a set into ``OUT/evalset`` first (or reuses one there).
Without ``--system`` it runs every system that can run here and says which cannot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vocalmidi.cli.eval import add_system_args, build_systems, parse_params
from vocalmidi.errors import BackendUnavailableError, NotBuiltError, UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="accuracy/latency table and plots for all systems")
    p.add_argument("--set", type=Path, dest="set_dir",
                   help="evaluation set folder (default: OUT/evalset, made if missing)")
    p.add_argument("--quick", action="store_true", help="make the small set if one is made")
    add_system_args(p)
    p.add_argument("--out", type=Path, default=Path("vocalmidi-bench"),
                   help="folder for results.json and plots (default: ./vocalmidi-bench)")
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vocalmidi.eval.dataset import load_set, make_set
    from vocalmidi.eval.report import print_table, results_table, write_plots
    from vocalmidi.eval.runner import evaluate, results_to_json
    from vocalmidi.eval.systems import SYSTEMS

    console = Console(stderr=True)
    out: Path = args.out
    set_dir: Path = args.set_dir or out / "evalset"
    if not (set_dir / "index.json").is_file():
        if args.set_dir:
            raise UsageError(f"{set_dir} is not an evaluation set: make one with "
                             "`vocalmidi eval make`")
        console.print(f"rendering the evaluation set into {set_dir} ...")
        make_set(set_dir, quick=args.quick)
    eval_set = load_set(set_dir)

    params = parse_params(args.param)
    if args.system:
        systems = build_systems(args.system, params)
    else:
        systems = []
        for name in SYSTEMS:
            try:
                systems.extend(build_systems([name], params))
            except (BackendUnavailableError, NotBuiltError) as exc:
                console.print(f"[yellow]skipping {name}: {exc}[/yellow]")
        if not systems:
            raise BackendUnavailableError("no system can run here")

    results = evaluate(systems, eval_set, progress=lambda line: print(line, file=sys.stderr))
    out.mkdir(parents=True, exist_ok=True)
    doc = results_to_json(results)
    doc["set"] = {"dir": str(set_dir), "clips": len(eval_set), "quick": eval_set.quick}
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    plots = write_plots(results, out)
    print_table(results_table(results, title=f"Note transcription ({len(eval_set)} clips)"))
    for p in [out / "results.json", *plots]:
        print(p, file=sys.stderr)
    return 0
