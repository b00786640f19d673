"""`vocalmidi cache gc [--max-size SIZE]`: keep the transcription result cache in bounds.

Removes temporary files left by killed writers and, with ``--max-size``, evicts the least
recently used results until the result cache fits (``vocalmidi models gc`` does the same
for models).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="clean the transcription result cache")
    csub = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    a = csub.add_parser("gc", help="evict least-recently-used results above a size cap")
    a.add_argument("--max-size", metavar="SIZE",
                   help="keep the result cache under SIZE, e.g. 200M, 1G (default: only "
                   "remove leftover temporary files)")
    a.add_argument("--cache", metavar="DIR",
                   help="cache root (default: $VOCALMIDI_CACHE or the user cache)")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=_gc)


def _gc(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vocalmidi.cli.models import _human, parse_size
    from vocalmidi.result_gc import gc_results, results_dir

    root = Path(args.cache) if args.cache else None
    max_size = parse_size(args.max_size) if args.max_size is not None else None
    report = gc_results(max_size, root)
    if args.json:
        print(json.dumps({"results": str(results_dir(root)), **vars(report)}, indent=2))
    else:
        print(f"evicted {report.evicted} result(s), removed {report.temp_removed} leftover "
              f"temporary file(s); freed {_human(report.freed)}; result cache now "
              f"{_human(report.total_after)} in {report.entries_after} result(s)")
    for line in report.errors:
        print(f"vocalmidi cache gc: cannot remove {line}", file=sys.stderr)
    return 1 if report.errors else 0
