"""The harness's reports: a terminal table, JSON, and a self-contained HTML page with a
piano roll (inline PNG) for every failing case that has notes to show."""

from __future__ import annotations

import base64
import html
import io
import json
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any

from vocalmidi.dawtest.results import CRASH, ERROR, FAIL, NA, PASS, UNAVAILABLE, Result

_COLOURS = {PASS: "green", FAIL: "red", ERROR: "red", CRASH: "red", NA: "dim",
            UNAVAILABLE: "yellow"}


def summary(results: list[Result]) -> dict[str, int]:
    return dict(Counter(r.status for r in results))


def as_json(results: list[Result], quick: bool, seconds: float) -> dict[str, Any]:
    return {
        "ok": not any(r.failed for r in results),
        "mode": "quick" if quick else "full",
        "seconds": round(seconds, 2),
        "summary": summary(results),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "results": [r.as_dict() for r in results],
    }


def print_table(results: list[Result], seconds: float) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for col in ("scenario", "host", "status", "time", "detail"):
        table.add_column(col, overflow="fold", justify="right" if col == "time" else "left")
    for r in results:
        colour = _COLOURS.get(r.status, "")
        detail = r.detail or (f"{len(r.checks)} checks" if r.checks else "")
        table.add_row(r.scenario, r.host, f"[{colour}]{r.status}[/{colour}]",
                      f"{r.seconds:.2f}s" if r.seconds else "", escape(detail))
    console = Console()
    console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary(results).items()))
    console.print(f"{len(results)} cases in {seconds:.1f} s: {counts}")


def _piano_roll_png(roll: dict[str, Any], title: str) -> str:
    """A piano roll (reference grey, actual red) as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 2.6), dpi=90)
    for key, colour, lw in (("reference", "#999999", 9), ("actual", "#d62728", 4)):
        for on, off, pitch in roll.get(key) or []:
            ax.plot([on, max(off, on + 0.01)], [pitch, pitch], color=colour, lw=lw,
                    solid_capstyle="butt", label=key)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=False))
    if uniq:
        ax.legend(uniq.values(), uniq.keys(), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize=8)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI note")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.margins(y=0.15)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_html(results: list[Result], path: Path, quick: bool, seconds: float) -> Path:
    """Write the report to ``path`` (one file: styles and pictures inline)."""
    esc = html.escape
    rows = []
    for r in results:
        checks = "".join(
            f"<li class={'ok' if c['ok'] else 'bad'}>{esc(c['name'])}: {esc(str(c['detail']))}</li>"
            for c in r.checks)
        info = esc(json.dumps({k: v for k, v in r.info.items() if k != "traceback"},
                              default=str)) if r.info else ""
        tb = f"<pre>{esc(r.info['traceback'])}</pre>" if "traceback" in r.info else ""
        picture = ""
        if r.failed and r.roll:
            png = _piano_roll_png(r.roll, f"{r.scenario} on {r.host}")
            picture = f'<img alt="piano roll" src="data:image/png;base64,{png}">'
        rows.append(
            f"<tr class={r.status.lower().replace('/', '')}><td>{esc(r.scenario)}</td>"
            f"<td>{esc(r.host)}</td><td class=st>{esc(r.status)}</td>"
            f"<td>{r.seconds:.2f}</td><td>{esc(r.detail)}<ul>{checks}</ul>"
            f"<small>{info}</small>{tb}{picture}</td></tr>")
    counts = ", ".join(f"{n} {esc(s)}" for s, n in sorted(summary(results).items()))
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>VocalMIDI DAW-behaviour report</title><style>
body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}}
tr.pass .st{{color:#080}} tr.fail .st,tr.error .st,tr.crash .st{{color:#c00;font-weight:bold}}
tr.na .st{{color:#888}} tr.unavailable .st{{color:#b80}} li.bad{{color:#c00}} li.ok{{color:#555}}
ul{{margin:2px 0 2px 1em;padding:0}} small{{color:#666}} img{{display:block;max-width:100%}}
</style></head><body>
<h1>VocalMIDI: DAW-behaviour report</h1>
<p>{'quick' if quick else 'full'} run, {time.strftime('%Y-%m-%d %H:%M:%S')}, {seconds:.1f} s:
{counts}. Hosts: juce (our headless JUCE host, sees MIDI out), pedalboard (audio, state,
parameters, latency), jalv (LV2 under JACK's dummy driver, real time).
"n/a": the host cannot express the scenario (the reason is given).</p>
<table><tr><th>scenario</th><th>host</th><th>status</th><th>s</th><th>checks</th></tr>
{''.join(rows)}</table></body></html>"""
    path.write_text(page, encoding="utf-8")
    return path
