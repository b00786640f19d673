"""`vocalmidi doctor [--json]`: is everything VocalMIDI needs built, present and working?

Exits 0 when every required part works, else with the exit code of the first missing
part (3: engine or plugin not built, 4: no usable default model), after one line per
problem on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the build, models, GPU and JACK")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vocalmidi.doctor import run_checks

    checks = run_checks()
    problems = [c for c in checks if c.required and not c.ok]
    if args.json:
        print(json.dumps({"ok": not problems, "checks": [c.as_dict() for c in checks]},
                         indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("")
        table.add_column("check")
        table.add_column("finding", overflow="fold")
        for c in checks:
            mark = "[green]ok[/green]" if c.ok else ("[red]MISSING[/red]" if c.required
                                                    else "[yellow]no[/yellow]")
            table.add_row(mark, c.name, c.detail)
        Console().print(table)
    for c in problems:
        print(f"vocalmidi doctor: {c.name}: {c.detail}", file=sys.stderr)
    return problems[0].exit_code if problems else 0
