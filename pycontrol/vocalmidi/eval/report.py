"""Show results: a rich table per condition, and PNG plots (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from vocalmidi.eval.runner import ALL, SystemResult

__all__ = ["print_table", "results_table", "write_plots"]

_ORDER = ("clean", "room", "noisy", ALL)


def _fmt(x: float | None, pct: bool = False, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}" if pct else f"{x:.{digits}f}"


def results_table(results: Sequence[SystemResult], title: str = "Note transcription") -> Table:
    """One row per system and condition: F1s (%), pitch accuracy, onset lag, false notes."""
    t = Table(title=title)
    for col, just in (("system", "left"), ("condition", "left"), ("F1@50ms", "right"),
                      ("F1@100ms", "right"), ("F1 on+off", "right"), ("onset F1", "right"),
                      ("pitch acc", "right"), ("lag med ms", "right"),
                      ("lag p95 ms", "right"), ("false/min", "right"), ("RTF", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in results:
        neg = r.by_condition.get("negative")
        conds = [c for c in _ORDER if c in r.by_condition]
        conds += [c for c in r.by_condition if c not in conds and c != "negative"]
        for i, c in enumerate(conds):
            s = r.by_condition[c]
            last = i == len(conds) - 1
            t.add_row(
                r.system if i == 0 else "", c, _fmt(s.f1_50, True), _fmt(s.f1_100, True),
                _fmt(s.f1_offset, True), _fmt(s.onset_f1_50, True),
                _fmt(s.pitch_accuracy, True), _fmt(s.lag_median_ms), _fmt(s.lag_p95_ms),
                _fmt(neg.false_per_min, digits=1) if (neg and c == ALL) else "",
                f"{r.rtf:.3f}" if c == ALL else "", end_section=last,
            )
    return t


def print_table(table: Table) -> None:
    """Print to stdout; when it is not a terminal, wide enough that no column wraps."""
    import sys

    from rich.console import Console

    Console(width=None if sys.stdout.isatty() else 160).print(table)


def write_plots(results: Sequence[SystemResult], out_dir: str | Path) -> list[Path]:
    """Write ``accuracy_by_condition.png`` and ``onset_lag_hist.png`` into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    conds = [c for c in _ORDER if any(c in r.by_condition for r in results)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(results))
    x = np.arange(len(conds))
    for k, r in enumerate(results):
        vals = [(r.by_condition[c].f1_50 or 0.0) if c in r.by_condition else 0.0
                for c in conds]
        ax.bar(x + (k - (len(results) - 1) / 2) * width, vals, width, label=r.system)
    ax.set_xticks(x, conds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("note F1 (onset 50 ms, pitch 50 cents)")
    ax.set_title("Accuracy per condition")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    p = out / "accuracy_by_condition.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    bins = np.arange(-100, 201, 10)
    for r in results:
        lags = r.by_condition[ALL].lags_ms if ALL in r.by_condition else []
        if lags:
            ax.hist(np.clip(lags, bins[0], bins[-1]), bins=bins, histtype="step",
                    linewidth=1.5, label=f"{r.system} (median {np.median(lags):.0f} ms)")
    ax.axvline(0, color="k", linewidth=0.8)
    ax.set_xlabel("onset lag: reported minus true onset (ms)")
    ax.set_ylabel("notes")
    ax.set_title("Onset lag of matched notes (onset within 200 ms, right pitch)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    p = out / "onset_lag_hist.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    written.append(p)
    return written
