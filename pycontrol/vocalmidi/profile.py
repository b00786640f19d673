"""Profile the engine on a take: per-stage timings, thread shares, queues and latency.

The report itself is built by the engine (``Engine.profile_report``, the same JSON the
plugin editor saves); this module feeds a take through the engine, at real-time pace or
as fast as it can, and formats the report as text.

Examples
--------
>>> from vocalmidi.profile import profile_take, format_report
>>> report = profile_take("take.wav", realtime=True)  # doctest: +SKIP
>>> print(format_report(report))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.audio_io import check_audio, read_audio, to_mono
from vocalmidi.engine import Engine
from vocalmidi.errors import UsageError

__all__ = ["format_report", "profile_take"]

ParamValue = float | int | str


def profile_take(
    take: str | Path,
    *,
    model_path: str | Path,
    kind: str,
    model_id: str = "",
    realtime: bool = False,
    block: int = 128,
    sample_rate: float | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> dict[str, Any]:
    """Run a take through the engine and return its profile report.

    Parameters
    ----------
    take : path
        Audio file (any rate; stereo is mixed to mono).
    model_path, kind : path, str
        The ONNX model and its adapter.
    model_id : str
        Shown in the report.
    realtime : bool
        Feed blocks at real-time pace to the engine's realtime mode (its ML thread, as in
        a host); otherwise offline, as fast as it goes (the ML work runs inline).
    block : int
        Host block size in samples.
    sample_rate : float, optional
        Resample the take to this host rate first (default: the file's rate).
    params : mapping, optional
        Engine parameters.

    Returns
    -------
    dict
        The engine's report plus ``take`` (path, seconds, wall seconds, notes sent).
    """
    if block < 1:
        raise UsageError(f"block size must be at least 1, got {block}")
    audio, rate = read_audio(take)
    mono = check_audio(to_mono(audio), rate, str(take))
    if sample_rate is not None and sample_rate != rate:
        import soxr

        mono = soxr.resample(mono, rate, sample_rate).astype(np.float32)
        rate = int(sample_rate)
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    with Engine(model_path, kind) as engine:
        for name, value in (params or {}).items():
            engine.set_param(name, value)
        engine.prepare(rate, block, realtime=realtime)
        notes = 0
        start = time.perf_counter()
        block_s = block / rate
        for i, pos in enumerate(range(0, len(mono), block)):
            notes += sum(e.type == 0 for e in engine.process(mono[pos:pos + block]))
            if realtime:
                # Paced like a sound card: block i+1 is due (i+1) block times after the start.
                delay = start + (i + 1) * block_s - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
        if realtime:
            # Let the ML thread finish the last frames, as a host's next blocks would.
            tail = np.zeros(block, np.float32)
            for _ in range(int(0.2 / block_s)):
                notes += sum(e.type == 0 for e in engine.process(tail))
                time.sleep(block_s)
        else:
            notes += sum(e.type == 0 for e in engine.flush())
        wall = time.perf_counter() - start
        report = engine.profile_report()
        engine.release()
    report["take"] = {"path": str(take), "seconds": len(mono) / rate, "wall_seconds": wall,
                      "note_ons": notes}
    report["model"]["id"] = model_id or Path(model_path).name
    return report


def _value(v: float, unit: str) -> str:
    if unit == "share":
        return f"{100 * v:.2f} %"
    if unit == "":
        return f"{v:.0f}"
    if unit in ("us", "ms"):
        return f"{v:.1f} {unit}"
    return f"{v:.0f} {unit}"


def _target(f: Mapping[str, Any]) -> str:
    op, limit, unit = f["target"].split()[0], float(f["limit"]), f["unit"]
    return f"{op} {_value(limit, unit)}"


def format_report(report: Mapping[str, Any]) -> str:
    """The report as a text table: each figure, its target, and a warning where it misses."""
    take = report.get("take", {})
    model = report.get("model", {})
    mode = "real time" if report.get("realtime") else "offline (as fast as it goes)"
    lines = [
        f"take {take.get('path', '?')}: {take.get('seconds', 0):.1f} s in "
        f"{take.get('wall_seconds', 0):.1f} s, {take.get('note_ons', 0)} note-ons",
        f"model {model.get('id', '?')} ({model.get('kind', '?')}), {mode}, "
        f"{report.get('sample_rate', 0):.0f} Hz, {report.get('max_block', 0)}-sample blocks, "
        f"latency mode {report.get('latency_mode', '?')}, reported latency "
        f"{report.get('reported_latency_ms', 0):.1f} ms",
        "",
        f"{'figure':<50} {'value':>12}  {'target':>12}",
    ]
    for f in report.get("figures", []):
        flag = "" if f["ok"] else "  WARNING: misses its target"
        value = _value(f["value"], f["unit"])
        lines.append(f"{f['label']:<50} {value:>12}  {_target(f):>12}{flag}")
    th = report.get("threads", {})
    ml, au = th.get("ml", {}), th.get("audio", {})
    lines += [
        "",
        f"threads: audio ({au.get('does', '')}) {au.get('mean_us', 0):.1f} us mean / "
        f"{au.get('p99_us', 0):.1f} us p99 per block of {au.get('block_budget_us', 0):.0f} us; "
        f"ML ({ml.get('does', '')}, priority {ml.get('priority', '?')}) "
        f"{100 * ml.get('cpu_share', 0):.1f} % of a core, "
        f"{ml.get('catch_up_calls', 0):.0f} catch-up "
        f"calls (longest {ml.get('max_catch_up_hops', 0):.0f} hops); contention: "
        f"{th.get('contention', {}).get('audio_priority_inversions', 0):.0f} audio-thread waits",
    ]
    warnings = report.get("warnings", [])
    lines.append(f"{len(warnings)} figure(s) miss their target" if warnings
                 else "every figure meets its target")
    return "\n".join(lines)
