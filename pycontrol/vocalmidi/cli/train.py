"""`vocalmidi train`: make training data for the note model, and train it.

``train data`` lives in :mod:`vocalmidi.train.generate`, ``train run`` in
:mod:`vocalmidi.train.trainer`; each module adds its own arguments, so this file only
wires them (the heavy imports, torch among them, happen when a sub-command runs).
"""

from __future__ import annotations

import argparse
import importlib


def _sub(module: str, name: str, help_text: str,
         sub: argparse._SubParsersAction) -> None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return  # a step not in this checkout yet: leave it out of the CLI
    p = sub.add_parser(name, help=help_text)

    def run(args: argparse.Namespace) -> int:
        return int(importlib.import_module(module).main(args) or 0)

    mod.add_arguments(p)
    p.set_defaults(func=run)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="generate training data for the note model and train it")
    tsub = p.add_subparsers(dest="train_command", metavar="STEP", required=True)
    _sub("vocalmidi.train.generate", "data",
         "generate voice-like training clips with exact frame labels", tsub)
    _sub("vocalmidi.train.trainer", "run", "train the note model from a recipe", tsub)
