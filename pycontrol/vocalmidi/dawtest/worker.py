"""Runs scenarios for one host in a process of its own (so a crash is a result, not the end
of the run, and the heap-call counter can be preloaded). One JSON line per scenario.

Usage (the runner does this): ``python -m vocalmidi.dawtest.worker HOST NAME [NAME ...]``.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from vocalmidi.dawtest.results import ERROR, FAIL, MARK, PASS, Result
from vocalmidi.dawtest.scenarios import BY_NAME, Context


def make_rig(host: str) -> Any:
    from vocalmidi import native

    if host == "juce":
        from vocalmidi.dawtest.juce_host import JuceRig

        return JuceRig(native.vst3_path())
    if host == "pedalboard":
        from vocalmidi.dawtest.pedalboard_cases import PedalboardRig

        return PedalboardRig(native.vst3_path())
    if host == "jalv":
        from vocalmidi.dawtest.jalv_cases import JalvRig

        return JalvRig()
    if host == "ardour":
        from vocalmidi.dawtest.ardour_cases import ArdourRig

        return ArdourRig()
    raise ValueError(f"unknown host {host!r}")


def load_context() -> Context:
    """The genuine default model's bytes (for the corrupt-model scenario), if cached."""
    try:
        from vocalmidi.dawtest.caches import DEFAULT_MODEL
        from vocalmidi.models import get_model_path

        path = get_model_path(DEFAULT_MODEL[0], download=False)
        return Context(default_model=path.read_bytes())
    except Exception:  # noqa: BLE001 - the scenario that needs it reports its absence
        return Context()


def run_one(host: str, name: str, rig: Any, ctx: Context) -> Result:
    t0 = time.perf_counter()
    try:
        outcome = BY_NAME[name].cases[host](rig, ctx)
    except Exception as exc:  # noqa: BLE001 - an exception is this scenario's result
        tb = traceback.format_exc(limit=4)
        return Result(name, host, ERROR, time.perf_counter() - t0,
                      detail=f"{type(exc).__name__}: {exc}", info={"traceback": tb})
    seconds = time.perf_counter() - t0
    ok = bool(outcome.checks) and all(c.ok for c in outcome.checks)
    failed = [c for c in outcome.checks if not c.ok]
    detail = "; ".join(f"{c.name}: {c.detail}" for c in failed[:3]) if failed else \
        ("no checks ran" if not outcome.checks else "")
    return Result(name, host, PASS if ok else (FAIL if outcome.checks else ERROR), seconds,
                  [c.as_dict() for c in outcome.checks], outcome.info, detail,
                  outcome.roll if not ok else None)


def main(argv: list[str]) -> int:
    host, names = argv[0], argv[1:]
    rig = make_rig(host)
    ctx = load_context()
    for name in names:
        print(MARK + "start " + name, flush=True)
        result = run_one(host, name, rig, ctx)
        print(MARK + json.dumps(result.as_dict(), default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
