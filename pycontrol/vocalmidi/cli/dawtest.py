"""`vocalmidi dawtest [--quick] [--json] [--html PATH]`: the DAW-behaviour test harness.

Runs the built plugin through named DAW scenarios (sample rates, block sizes, prepare/reset
cycles, automation, state, bypass, threads, hostile input, broken models) on our JUCE host,
pedalboard and jalv, and checks the output. Exits 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dawtest", help="test the plugin the way DAWs use it (scenario matrix)")
    p.add_argument("--quick", action="store_true", help="the CI subset (about a minute)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--html", type=Path, default=Path("dawtest-report.html"),
                   help="write the HTML report here (default: %(default)s)")
    p.add_argument("--no-html", action="store_true", help="write no HTML report")
    p.add_argument("--scenario", "-s", action="append", metavar="NAME",
                   help="run only this scenario (repeatable; see --list)")
    p.add_argument("--host", action="append", choices=("juce", "pedalboard", "jalv", "ardour"),
                   help="run only on this host (repeatable)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vocalmidi.dawtest import report, runner
    from vocalmidi.dawtest.scenarios import BY_NAME, HOSTS, SCENARIOS
    from vocalmidi.errors import UsageError

    if args.list:
        for sc in SCENARIOS:
            where = ", ".join(h for h in HOSTS if h in sc.cases)
            quick = ", ".join(sorted(sc.quick)) or "-"
            print(f"{sc.name:26} [{where}; quick: {quick}] {sc.what}")
        return 0
    unknown = [n for n in args.scenario or [] if n not in BY_NAME]
    if unknown:
        raise UsageError(f"unknown scenario(s) {', '.join(unknown)}: see vocalmidi dawtest --list")
    _ensure_model()

    t0 = time.perf_counter()

    def progress(r) -> None:  # noqa: ANN001 - a Result
        if not args.json:
            print(f"  {r.status:11} {r.scenario} ({r.host}) {r.seconds:.1f}s", file=sys.stderr)

    results = runner.run(args.quick, args.scenario, tuple(args.host) if args.host else None,
                         on_result=progress)
    seconds = time.perf_counter() - t0
    if args.json:
        print(json.dumps(report.as_json(results, args.quick, seconds), indent=2, default=str))
    else:
        report.print_table(results, seconds)
    if not args.no_html:
        path = report.write_html(results, args.html, args.quick, seconds)
        print(f"HTML report: {path}", file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0


def _ensure_model() -> None:
    """The scenarios need the default model in the cache: pull it unless it is there."""
    from vocalmidi.models import get_model_path

    get_model_path("swiftf0")
