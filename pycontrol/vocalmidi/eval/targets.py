"""The issue targets each of our systems is judged against, beside what the bench measured.

Targets (docs/note-model.md, README "Measured"): the streaming note model with its live
decoder (``vocalnote``) and the engine must emit within 25 ms median / 60 ms p95 at
recall >= 0.90 with note F1@50 >= 0.90 clean and >= 0.80 room/noisy; the whole-take path
(``vocalnote-offline``) must reach F1@50 >= 0.95 clean and >= 0.85 room/noisy; every
system makes <= 2 false notes per minute on the negative clips.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Table

__all__ = ["TARGETS", "Target", "target_rows", "targets_markdown", "targets_table"]


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
