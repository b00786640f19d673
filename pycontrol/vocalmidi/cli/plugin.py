"""`vocalmidi plugin path`: where the built plugin bundles are."""

from __future__ import annotations

import argparse
import json

from vocalmidi import native


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugin", help="the built plugin bundles")
    psub = p.add_subparsers(dest="plugin_command", metavar="ACTION", required=True)
    path = psub.add_parser("path", help="print the built bundle paths")
    path.add_argument("--json", action="store_true", help="print JSON")
    path.set_defaults(func=_path)


def _path(args: argparse.Namespace) -> int:
    paths = native.plugin_paths().as_dict()
    if args.json:
        print(json.dumps(paths, indent=2))
    else:
        for fmt, p in paths.items():
            if p:
                print(f"{fmt:<16}{p}")
    return 0 if paths["vst3"] else 3
