"""`vocalmidi eval`: build an evaluation set, score systems on it, list systems.

    vocalmidi eval make DIR [--quick] [--renderings K] [--singer VOICE]
    vocalmidi eval run DIR --system NAME [--system NAME ...] [--condition C] [--json]
                       [--by patch|style|voice|soundfont]
    vocalmidi eval compare BASE.json[:SYSTEM] NEW.json[:SYSTEM] [--json]
    vocalmidi eval systems
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vocalmidi.errors import UsageError

_GROUP_KEYS = ("patch", "style", "voice", "soundfont")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate note transcription on rendered sung melodies")
    esub = p.add_subparsers(dest="eval_command", metavar="ACTION", required=True)

    make = esub.add_parser("make", help="render an evaluation set into a folder")
    make.add_argument("dir", type=Path, help="output folder (created)")
    make.add_argument("--quick", action="store_true", help="a small set (~1 minute of audio)")
    make.add_argument("--renderings", type=int, default=1, metavar="K",
                      help="sing each melody K times by other validation voices and seeds "
                           "(more performances for `eval compare`; K=1 is the set itself)")
    make.add_argument("--singer", metavar="VOICE",
                      help="one validation voice sings every take, e.g. flite:slt (a voice "
                           "made from a real speaker that training never hears)")
    make.set_defaults(func=_make)

    run = esub.add_parser("run", help="score systems on an evaluation set")
    run.add_argument("dir", type=Path, help="folder made by `vocalmidi eval make`")
    add_system_args(run)
    run.add_argument("--condition", action="append", default=None,
                     help="only clips of this condition (repeatable): clean, room, noisy, "
                          "negative")
    run.add_argument("--by", choices=_GROUP_KEYS, default=None,
                     help="also show accuracy per voice patch (or style, voice range, "
                          "SoundFont) for each condition")
    run.add_argument("--json", action="store_true", help="print results as JSON")
    run.add_argument("--out", type=Path, help="also write the JSON results here")
    run.set_defaults(func=_run)

    cmp = esub.add_parser("compare", help="is NEW really better than BASE? paired bootstrap "
                          "over the takes of one evaluation set")
    cmp.add_argument("base", metavar="BASE", help="results JSON (`eval run --out`, a bench's "
                     "results.json), FILE:SYSTEM when it holds several systems")
    cmp.add_argument("new", metavar="NEW", help="the same for the candidate")
    cmp.add_argument("--only", action="append", default=[], metavar="GLOB",
                     help="only the clips whose id matches (repeatable; e.g. '*voice_oohs*', "
                          "or '*-r4-*' '*-r5-*' 'negative-*' for renderings 4-5 and the "
                          "negatives)")
    cmp.add_argument("--resamples", type=int, default=None, help="bootstrap draws (4000)")
    cmp.add_argument("--json", action="store_true", help="print JSON")
    cmp.set_defaults(func=_compare)

    systems = esub.add_parser("systems", help="list the systems and whether they run here")
    systems.add_argument("--json", action="store_true", help="print JSON")
    systems.set_defaults(func=_systems)


def add_system_args(p: argparse.ArgumentParser) -> None:
    """``--system`` (repeatable) and ``--param SYSTEM.KEY=VALUE`` options."""
    p.add_argument("--system", action="append", default=None, metavar="NAME",
                   help="system to run (repeatable); see `vocalmidi eval systems`; "
                        "vocalmidi@MODEL+key=value runs our engine with another model "
                        "and/or settings")
    p.add_argument("--param", action="append", default=[], metavar="SYSTEM.KEY=VALUE",
                   help="a setting for one system, e.g. swift-f0.pitch_hold_ms=60")


def parse_params(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["sys.key=value", ...]`` -> ``{"sys": {"key": value}}`` (numbers parsed)."""
    from vocalmidi.eval.systems import parse_value

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, eq, raw = item.partition("=")
        name, dot, key = head.partition(".")
        if not (eq and dot and name and key):
            raise UsageError(f"bad --param {item!r}: write SYSTEM.KEY=VALUE")
        out.setdefault(name, {})[key] = parse_value(raw)
    return out


def build_systems(names: list[str], params: dict[str, dict[str, Any]]) -> list[Any]:
    """Construct the named systems (errors say which one failed and why)."""
    from vocalmidi.eval.systems import SYSTEMS, get_system, parse_variant

    unknown = {n for n in params if n not in SYSTEMS and parse_variant(n) is None}
    if unknown:
        raise UsageError(f"--param names unknown system(s): {', '.join(sorted(unknown))}")
    out = []
    for name in names:
        try:
            out.append(get_system(name, **params.get(name, {})))
        except TypeError as exc:
            raise UsageError(f"bad --param for {name}: {exc}") from None
    return out


def _make(args: argparse.Namespace) -> int:
    from vocalmidi.eval.dataset import make_set

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    index = make_set(args.dir, quick=args.quick, renderings=args.renderings,
                     singer=args.singer, progress=say)
    print(index)
    return 0


def _run(args: argparse.Namespace) -> int:
    from vocalmidi.eval.dataset import load_set
    from vocalmidi.eval.runner import evaluate, results_to_json

    if not args.system:
        raise UsageError("name at least one --system (see `vocalmidi eval systems`)")
    eval_set = load_set(args.dir, args.condition)
    systems = build_systems(args.system, parse_params(args.param))

    def say(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr)

    results = evaluate(systems, eval_set, progress=say)
    doc = results_to_json(results, by=sorted({"patch", "kind", args.by or "patch"}))
    doc["set"] = {"dir": str(args.dir), "clips": len(eval_set), "quick": eval_set.quick}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        from vocalmidi.eval.report import (
            census_table,
            group_table,
            negatives_table,
            print_table,
            results_table,
        )

        print_table(results_table(results, title=f"Note transcription on {args.dir}"))
        print_table(census_table(results))
        negatives = negatives_table(doc)
        if negatives is not None:
            print_table(negatives)
        if args.by:
            print_table(group_table(results, args.by, conditions=None))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from rich.table import Table

    from vocalmidi.eval.compare import CELLS, RESAMPLES, compare, load_clips, select
    from vocalmidi.eval.report import print_table

    base_name, base = load_clips(args.base)
    new_name, new = load_clips(args.new)
    base, new = select(base, args.only), select(new, args.only)
    diffs = compare(base, new, resamples=args.resamples or RESAMPLES)
    if args.json:
        print(json.dumps({"base": base_name, "new": new_name,
                          "differences": [d.as_dict() for d in diffs]}, indent=1))
        return 0
    t = Table(title=f"{args.new} against {args.base}: paired bootstrap, 95 % interval")
    for col in CELLS:
        t.add_column(col, justify="left" if col in ("figure", "condition", "verdict")
                     else "right")
    for d in diffs:
        t.add_row(*d.cells())
    print_table(t)
    return 0


def _systems(args: argparse.Namespace) -> int:
    from vocalmidi.eval.systems import available_systems

    status = available_systems()
    if args.json:
        print(json.dumps(status, indent=1))
    else:
        for name, state in status.items():
            print(f"{name:<12} {state}")
    return 0
