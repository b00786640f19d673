"""The `vocalmidi` command.

Each sub-command lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (args -> exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from vocalmidi import __version__
from vocalmidi.errors import VocalMidiError

# Modules of vocalmidi.cli, in the order --help lists them.
COMMANDS = [
    "demo",
    "plugin",
    "transcribe",
    "live",
    "doctor",
    "models",
    "cache",
    "eval",
    "bench",
    "profile",
    "dawtest",
    "train",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vocalmidi", description="Real-time voice-to-MIDI: engine, plugin and tools."
    )
    parser.add_argument("--version", action="version", version=f"vocalmidi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"vocalmidi.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # output still buffered meets a closed pipe here
    except BrokenPipeError:
        # The reader went away (`vocalmidi ... | head`): stop quietly, as Unix tools do.
        # Python flushes stdout once more at exit; let that go nowhere instead of failing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool ended by the pipe


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VocalMidiError as exc:
        print(f"vocalmidi: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
