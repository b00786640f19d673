"""The engine-parameter options that `transcribe` and `live` share."""

from __future__ import annotations

import argparse

from vocalmidi.errors import UsageError


def engine_params(args: argparse.Namespace) -> dict[str, float | int | str]:
    """``--sensitivity``, ``--min-note-ms`` and every ``--set NAME=VALUE`` as engine parameters.

    Numbers become floats; anything else stays a string (an enum name such as
    ``latency_mode=accurate``) for the engine binding to check.
    """
    params: dict[str, float | int | str] = {}
    if args.sensitivity is not None:
        params["sensitivity"] = args.sensitivity
    if args.min_note_ms is not None:
        params["min_note_ms"] = args.min_note_ms
    params.update(set_params(args.set))
    return params


def set_params(items: list[str]) -> dict[str, float | int | str]:
    """``--set NAME=VALUE`` items as engine parameters (numbers as floats, names as text)."""
    params: dict[str, float | int | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set takes NAME=VALUE, got {item!r}")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            params[name.strip()] = value.strip()
    return params
