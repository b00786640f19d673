"""The issue targets each of our systems is judged against, beside what the bench measured.

Targets (docs/note-model.md, docs/measurements.md): the streaming note model with its live
decoder (``vocalnote``) and the engine must emit within 25 ms median / 60 ms p95 at
recall >= 0.90 with note F1@50 >= 0.90 clean and >= 0.80 room/noisy; the whole-take path
(``vocalnote-offline``) must reach F1@50 >= 0.95 clean and >= 0.85 room/noisy; every
system makes <= 2 false notes per minute on the negative clips.

The live matrix (issue 14, "Done when"): through the built plugin in a real host at real-time
pace, per (host, sample rate, block size), the same live targets hold for the note-ons as
they leave the plugin and for the MIDI stream a DAW records (:data:`LIVE_MATRIX_TARGETS`;
rows of :func:`vocalmidi.eval.sweep.HostBlockResult.as_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Table

__all__ = ["LIVE_MATRIX_TARGETS", "TARGETS", "Target", "live_matrix_markdown",
           "live_matrix_rows", "live_matrix_table", "target_rows", "targets_markdown",
           "targets_table"]


@dataclass(frozen=True)
class Target:
    """One goal: ``path`` into a system's results, a bound and its direction."""

    label: str
    path: tuple[str, ...]
    bound: float
    at_least: bool  # True: measured >= bound passes; False: measured <= bound passes

    def text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.bound:g}"


_LIVE = (
    Target("F1@50 clean", ("conditions", "clean", "f1_50"), 0.90, True),
    Target("F1@50 room", ("conditions", "room", "f1_50"), 0.80, True),
    Target("F1@50 noisy", ("conditions", "noisy", "f1_50"), 0.80, True),
    Target("emission median ms", ("emission", "all", "median_ms"), 25.0, False),
    Target("emission p95 ms", ("emission", "all", "p95_ms"), 60.0, False),
    Target("emission recall", ("emission", "all", "recall"), 0.90, True),
    Target("false notes/min", ("conditions", "negative", "false_per_min"), 2.0, False),
)
_OFFLINE = (
    Target("F1@50 clean", ("conditions", "clean", "f1_50"), 0.95, True),
    Target("F1@50 room", ("conditions", "room", "f1_50"), 0.85, True),
    Target("F1@50 noisy", ("conditions", "noisy", "f1_50"), 0.85, True),
    Target("false notes/min", ("conditions", "negative", "false_per_min"), 2.0, False),
)
TARGETS: dict[str, tuple[Target, ...]] = {"vocalnote": _LIVE, "vocalnote-live": _LIVE,
                                          "vocalnote-offline": _OFFLINE}


def _get(doc: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    cur: Any = doc
    for key in path:
        if not isinstance(cur, Mapping) or key not in cur:
            return None
        cur = cur[key]
    return None if cur is None else float(cur)


def target_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (system with targets, target): measured value and whether it passes."""
    rows = []
    for name, targets in TARGETS.items():
        system = doc.get("systems", {}).get(name)
        if system is None:
            continue
        for t in targets:
            v = _get(system, t.path)
            ok = None if v is None else (v >= t.bound if t.at_least else v <= t.bound)
            rows.append({"system": name, "target": t.label, "bound": t.text(),
                         "measured": v, "ok": ok})
    return rows


def _cell(v: float | None) -> str:
    return "-" if v is None else (f"{v:.3f}" if abs(v) < 1.5 else f"{v:.1f}")


def targets_table(doc: Mapping[str, Any]) -> Table:
    """Rich table of :func:`target_rows` (misses in red)."""
    t = Table(title="Targets")
    for col in ("system", "target", "goal", "measured", ""):
        t.add_column(col)
    for r in target_rows(doc):
        mark = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "-"}[r["ok"]]
        t.add_row(r["system"], r["target"], r["bound"], _cell(r["measured"]), mark)
    return t


def targets_markdown(doc: Mapping[str, Any]) -> list[str]:
    """Markdown lines of :func:`target_rows` (empty when no system has targets)."""
    rows = target_rows(doc)
    if not rows:
        return []
    lines = ["", "| system | target | goal | measured | |", "|---|---|---|---|---|"]
    for r in rows:
        mark = {True: "met", False: "**missed**", None: "-"}[r["ok"]]
        lines.append(f"| {r['system']} | {r['target']} | {r['bound']} "
                     f"| {_cell(r['measured'])} | {mark} |")
    return lines


# Paths into one row of the live sweep (HostBlockResult.as_dict()); the takes are clean.
LIVE_MATRIX_TARGETS = (
    Target("emission median ms", ("emission", "median_ms"), 25.0, False),
    Target("emission p95 ms", ("emission", "p95_ms"), 60.0, False),
    Target("recall", ("emission", "recall"), 0.90, True),
    Target("stream F1@50 clean", ("stream", "f1_50"), 0.90, True),
    Target("false notes/min (negatives)", ("stream", "negative_false_per_min"), 2.0, False),
)


def live_matrix_rows(matrix: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (host, rate, block) row of the live sweep: each target's measured value and
    whether it passes (None: not measured), beside the stream's false notes and the
    host's late blocks / xruns. A row with ``error`` keeps it."""
    rows = []
    for r in matrix:
        row: dict[str, Any] = {"host": r.get("host"), "sample_rate": r.get("sample_rate"),
                               "block_size": r.get("block_size")}
        if "error" in r:
            rows.append({**row, "error": r["error"]})
            continue
        checks = []
        for t in LIVE_MATRIX_TARGETS:
            v = _get(r, t.path)
            ok = None if v is None else (v >= t.bound if t.at_least else v <= t.bound)
            checks.append({"target": t.label, "bound": t.text(), "measured": v, "ok": ok})
        row.update(targets=checks, reported_latency_ms=r.get("reported_latency_ms"),
                   false_notes=(r.get("stream") or {}).get("false_notes"),
                   late=r["xruns"] if r.get("xruns") is not None else r.get("late_blocks"),
                   late_kind="xruns" if r.get("xruns") is not None else "late blocks",
                   blocks=r.get("blocks"))
        rows.append(row)
    return rows


def _matrix_header() -> list[str]:
    return ["host", "rate", "block", "reported ms",
            *[f"{t.label} ({t.text()})" for t in LIVE_MATRIX_TARGETS],
            "false notes", "late blocks / xruns"]


def live_matrix_table(matrix: list[Mapping[str, Any]],
                      title: str = "Live matrix against the issue-14 targets") -> Table:
    """Rich table of :func:`live_matrix_rows` (misses in red)."""
    t = Table(title=title)
    for col in _matrix_header():
        t.add_column(col, justify="left" if col == "host" else "right")
    for r in live_matrix_rows(matrix):
        head = [str(r["host"]), str(r["sample_rate"]), str(r["block_size"])]
        if "error" in r:
            t.add_row(*head, f"[red]{r['error'][:80]}[/]")
            continue
        cells = [_cell(c["measured"]) + {True: "", False: " [red]✗[/]", None: ""}[c["ok"]]
                 for c in r["targets"]]
        t.add_row(*head, _cell(r["reported_latency_ms"]), *cells, str(r["false_notes"]),
                  f"{r['late']} {r['late_kind']}")
    return t


def live_matrix_markdown(matrix: list[Mapping[str, Any]]) -> list[str]:
    """Markdown lines of :func:`live_matrix_rows` (misses in bold with ✗)."""
    rows = live_matrix_rows(matrix)
    if not rows:
        return []
    head = _matrix_header()
    lines = ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [str(r["host"]), str(r["sample_rate"]), str(r["block_size"])]
        if "error" in r:
            cells.append(f"error: {r['error'][:120]}")
        else:
            cells.append(_cell(r["reported_latency_ms"]))
            cells += [_cell(c["measured"]) if c["ok"] is not False
                      else f"**{_cell(c['measured'])}** ✗" for c in r["targets"]]
            cells += [str(r["false_notes"]), f"{r['late']}/{r['blocks']} {r['late_kind']}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
