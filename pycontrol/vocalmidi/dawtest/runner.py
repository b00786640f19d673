"""Runs the chosen scenarios: one worker process per host, restarted after a crash or hang.

The JUCE host's worker runs with ``libvocalmidi_alloccount`` preloaded, so the host counts
heap calls made inside processBlock.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vocalmidi.dawtest.results import CRASH, ERROR, MARK, NA, UNAVAILABLE, Result
from vocalmidi.dawtest.scenarios import Scenario, select

SCENARIO_TIMEOUT_S = 240.0


def alloc_counter() -> Path | None:
    """The heap-call counting library beside the host library, if it was built."""
    from vocalmidi import native

    try:
        path = native.native_dir() / "libvocalmidi_alloccount.so"
    except Exception:  # noqa: BLE001 - no native build: nothing to preload
        return None
    return path if path.exists() and sys.platform.startswith("linux") else None


def unavailable(host: str) -> str | None:
    """Why ``host`` cannot run here, or None when it can."""
    if host == "pedalboard" and importlib.util.find_spec("pedalboard") is None:
        return "pedalboard is not installed (pip install pedalboard)"
    if host == "jalv":
        if importlib.util.find_spec("vocalmidi.hosts.jalv") is None:
            return "unavailable: jalv_host not present"
        missing = [t for t in ("jalv", "jackd") if shutil.which(t) is None]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install jalv jackd2)"
    if host == "ardour":
        from vocalmidi.dawtest.ardour_cases import ardour_missing

        return ardour_missing()
    return None


def _env(host: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ORT_DISABLE_TELEMETRY", "1")
    if not env.get("DISPLAY"):
        # Without DISPLAY, JUCE connects to ":0.0" anyway, i.e. to any X server another
        # program runs there, and exits when that goes away. The harness needs no X.
        env["DISPLAY"] = ":65000"
    counter = alloc_counter() if host == "juce" else None
    if counter is not None:
        env["LD_PRELOAD"] = " ".join(p for p in (str(counter), env.get("LD_PRELOAD", "")) if p)
    return env


def _run_worker(host: str, names: list[str], timeout_s: float,
                on_result: Callable[[Result], None]) -> list[Result]:
    """Run ``names`` in one worker; stop at the first crash/hang and return what ran."""
    # stderr to a file: a chatty plugin must not fill a pipe and stall the worker.
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-m", "vocalmidi.dawtest.worker", host, *names],
                            stdout=subprocess.PIPE, stderr=err, env=_env(host),
                            text=True, bufsize=1)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    results: list[Result] = []
    current, started = None, time.monotonic()
    while True:
        if not sel.select(timeout=1.0):
            if current and time.monotonic() - started > timeout_s:
                proc.kill()
                proc.wait()
                r = Result(current, host, ERROR, time.monotonic() - started,
                           detail=f"no result after {timeout_s:.0f} s: hung (worker killed)")
                results.append(r)
                on_result(r)
                return results
            continue
        line = proc.stdout.readline()
        if not line:
            break
        if not line.startswith(MARK):
            continue
        payload = line[len(MARK):].strip()
        if payload.startswith("start "):
            current, started = payload[6:], time.monotonic()
            continue
        r = Result.from_dict(json.loads(payload))
        results.append(r)
        on_result(r)
        current = None
    rc = proc.wait()
    err.seek(0)
    stderr_tail = err.read().strip().splitlines()[-6:]
    err.close()
    done = {r.scenario for r in results}
    rest = [n for n in names if n not in done]
    if rc < 0 and not rest and len(names) == 1 and results:
        # An isolated scenario whose process died after it reported: the damage is its own.
        last = results[-1]
        last.status = CRASH
        last.detail = (f"the worker died (signal {-rc}) after the checks"
                       + (": " + " | ".join(stderr_tail) if stderr_tail else ""))
        on_result(last)
    if rest:
        first = current or rest[0]
        status = CRASH if rc < 0 or current else ERROR
        why = f"worker exited with {rc}" + (f" (signal {-rc})" if rc < 0 else "")
        r = Result(first, host, status, time.monotonic() - started,
                   detail=why + (": " + " | ".join(stderr_tail) if stderr_tail else ""))
        results.append(r)
        on_result(r)
    return results


def run(quick: bool, names: list[str] | None = None, hosts: tuple[str, ...] | None = None,
        on_result: Callable[[Result], None] = lambda r: None,
        timeout_s: float = SCENARIO_TIMEOUT_S) -> list[Result]:
    """Run the chosen scenarios on the chosen hosts; every (scenario, host) gets a Result."""
    from vocalmidi.dawtest.scenarios import HOSTS

    pairs = select(quick, names, hosts or HOSTS)
    results: list[Result] = []
    to_run: dict[str, list[Scenario]] = {}
    for sc, host in pairs:
        if host not in sc.cases:
            r = Result(sc.name, host, NA, detail=sc.reason_na(host))
        elif (why := unavailable(host)) is not None:
            r = Result(sc.name, host, UNAVAILABLE, detail=why)
        else:
            to_run.setdefault(host, []).append(sc)
            continue
        results.append(r)
        on_result(r)
    for host, scs in to_run.items():
        # A scenario that may corrupt its process runs alone, so the damage it does cannot
        # surface (and be blamed) in the scenarios after it.
        batches = [[sc.name] for sc in scs if sc.isolate]
        batches.append([sc.name for sc in scs if not sc.isolate])
        for rest in batches:
            while rest:
                got = _run_worker(host, rest, timeout_s, on_result)
                results += got
                done = {r.scenario for r in got}
                if not got:  # the worker produced nothing at all: do not loop
                    break
                rest = [n for n in rest if n not in done]
    order = {(sc.name, host): i for i, (sc, host) in enumerate(pairs)}
    return sorted(results, key=lambda r: order.get((r.scenario, r.host), 1 << 30))
