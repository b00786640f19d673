"""Show results: rich tables and PNG plots (matplotlib, Agg).

Accuracy per system and condition (:func:`results_table`, :func:`write_plots`), per
voice patch or other clip metadata (:func:`group_table`), where F1@50 is lost
(:func:`census_table`); the live latency sweep and
running cost (:func:`latency_table`, :func:`cost_table`, :func:`write_live_plots`), from
the plain-JSON rows of :mod:`vocalmidi.eval.sweep`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from vocalmidi.eval.census import LEGATO_CHANGE, TRUE_NOTE_CLASSES
from vocalmidi.eval.runner import ALL, SystemResult
from vocalmidi.eval.targets import live_matrix_markdown, targets_markdown

__all__ = ["census_table", "cost_table", "group_table", "latency_table", "markdown_summary",
           "negatives_table", "print_table", "results_table", "variants_table",
           "write_live_plots", "write_plots"]

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


def group_table(results: Sequence[SystemResult], key: str = "patch",
                conditions: Sequence[str] | None = ("clean",), title: str | None = None
                ) -> Table:
    """One row per system, condition and value of the clips' ``meta[key]`` (e.g. each
    voice patch): onset F1, note F1@50ms, pitch accuracy, clips and true notes.

    Parameters
    ----------
    results : sequence of SystemResult
    key : str
        Clip metadata to group by (``patch``, ``style``, ``voice``, ``soundfont``).
    conditions : sequence of str, optional
        Conditions to show (default: clean); None shows every positive one.
    """
    t = Table(title=title or f"Accuracy per {key}")
    for col in ("system", "condition", key, "onset F1", "F1@50ms", "pitch acc", "clips",
                "notes"):
        t.add_column(col, justify="left" if col in ("system", "condition", key) else "right")
    for r in results:
        groups = r.by(key)
        conds = [c for c in (conditions or _ORDER) if c in groups]
        rows = [(c, v, s) for c in conds for v, s in groups[c].items()]
        for i, (c, v, s) in enumerate(rows):
            t.add_row(r.system if i == 0 else "", c, v, _fmt(s.onset_f1_50, True),
                      _fmt(s.f1_50, True), _fmt(s.pitch_accuracy, True), str(s.clips),
                      str(s.n_ref), end_section=i == len(rows) - 1)
    return t


def _negative_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The kinds of negative clip (``by_kind`` of a ``results.json`` document) and, per
    system, its name, false notes per minute of each kind, and of all negatives."""
    by_kind = {name: s.get("by_kind", {}).get("negative", {})
               for name, s in doc["systems"].items()}
    kinds = sorted({k for neg in by_kind.values() for k in neg})

    def cell(summary: Mapping[str, Any] | None) -> str:
        return _fmt(summary.get("false_per_min") if summary else None, digits=1)

    rows = [[name, *(cell(neg.get(k)) for k in kinds),
             cell(doc["systems"][name]["conditions"].get("negative"))]
            for name, neg in by_kind.items()]
    return kinds, rows


_NEGATIVES_TITLE = "False notes per minute on the negatives, per kind (target <= 2)"


def negatives_table(doc: Mapping[str, Any]) -> Table | None:
    """False notes per minute on each kind of negative clip, per system; None without
    such clips."""
    kinds, rows = _negative_rows(doc)
    if not kinds:
        return None
    t = Table(title=_NEGATIVES_TITLE)
    for col in ("system", *kinds, "all"):
        t.add_column(col, justify="left" if col == "system" else "right")
    for row in rows:
        t.add_row(*row)
    return t


_PEERS_TITLE = "Ours against each peer of the run: paired bootstrap over the takes, 95 %"
# Difference.cells' columns (vocalmidi.eval.compare.CELLS) with the peer as base, ours as new.
_PEER_COLUMNS = ("ours", "peer", "figure", "condition", "peer", "ours", "ours - peer",
                 "95 % interval", "units", "verdict")


def _peer_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    """ours, peer, then :meth:`~vocalmidi.eval.compare.Difference.cells` with the peer as
    base, per figure (F1@50 all, false notes/min)."""
    from vocalmidi.eval.compare import peer_differences

    return [[ours, peer, *d.cells()] for ours, peer, d in peer_differences(doc)]


def peers_table(doc: Mapping[str, Any]) -> Table | None:
    """Is our system ahead of each peer, or only on these takes? (None without pairs)."""
    rows = _peer_rows(doc)
    if not rows:
        return None
    t = Table(title=_PEERS_TITLE)
    for col in _PEER_COLUMNS:
        t.add_column(col)
    for r in rows:
        t.add_row(*r)
    return t


def _peer_lines(doc: Mapping[str, Any]) -> list[str]:
    """:func:`peers_table` as Markdown."""
    rows = _peer_rows(doc)
    if not rows:
        return []
    return ["", f"{_PEERS_TITLE}:", "", "| " + " | ".join(_PEER_COLUMNS) + " |",
            "|---" * len(_PEER_COLUMNS) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def _negative_lines(doc: Mapping[str, Any]) -> list[str]:
    """:func:`negatives_table` as Markdown."""
    kinds, rows = _negative_rows(doc)
    if not kinds:
        return []
    return ["", f"{_NEGATIVES_TITLE}:", "", "| system | " + " | ".join(kinds) + " | all |",
            "|---|" + "---|" * (len(kinds) + 1), *("| " + " | ".join(r) + " |" for r in rows)]


# (heading, key of Census.as_dict()); the F1 columns are F1@50 with one class fixed.
_CENSUS_COLS = (("on time", "on_time"), ("late 50-100", "late_100"), ("late 100-300", "late"),
                ("missed", "missed"), ("guesses", "guess"), ("extra", "extra"),
                ("F1@50", "f1_50"), ("F1 no guesses", "f1_50_without_guesses"),
                ("F1 late<=100 on time", "f1_50_late_100_on_time"),
                ("F1 all late on time", "f1_50_all_late_on_time"))


def _census_rows(by_condition: Mapping[str, Mapping[str, Any]],
                 by_source: Mapping[str, Mapping[str, Any]],
                 by_kind: Mapping[str, Mapping[str, Any]],
                 kind_by_source: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 ) -> list[tuple[str, list[str]]]:
    """(takes, cells) per condition, then per voice source and per note kind over all
    conditions, then the legato changes per voice source (a note kind has true notes
    only: "-" in the other columns)."""
    labelled = [(c, by_condition[c], False) for c in _ORDER if c in by_condition]
    labelled += [(f"{k} (all)", v, False) for k, v in by_source.items()]
    labelled += [(f"{k} (all)", v, True) for k, v in by_kind.items() if v["n_ref"]]
    labelled += [(f"{LEGATO_CHANGE}: {src} (all)", g[LEGATO_CHANGE], True)
                 for src, g in (kind_by_source or {}).items()
                 if LEGATO_CHANGE in g and g[LEGATO_CHANGE]["n_ref"]]
    return [(label, ["-" if kind_only and k not in TRUE_NOTE_CLASSES else
                     _fmt(v[k], True) if k.startswith("f1") else str(v[k])
                     for _, k in _CENSUS_COLS]) for label, v, kind_only in labelled]


def census_table(results: Sequence[SystemResult]) -> Table:
    """Where each system's F1@50 goes (:mod:`vocalmidi.eval.census`): per condition, voice
    source and note kind, the true notes on time, late or missed, the false notes
    (corrected early guesses, others), and F1@50 with one class fixed."""
    t = Table(title="Where F1@50 is lost: true notes on time / late / missed, false notes, "
                    "F1@50 with one class fixed")
    t.add_column("system")
    t.add_column("takes")
    for heading, _ in _CENSUS_COLS:
        t.add_column(heading, justify="right")
    for r in results:
        rows = _census_rows({c: v.as_dict() for c, v in r.census.items()},
                            {k: v.as_dict() for k, v in r.census_by("soundfont").items()},
                            {k: v.as_dict() for k, v in r.note_kinds.get(ALL, {}).items()},
                            {src: {k: v.as_dict() for k, v in g.items()}
                             for src, g in r.note_kinds_by("soundfont").items()})
        for i, (label, cells) in enumerate(rows):
            t.add_row(r.system if i == 0 else "", label, *cells, end_section=i == len(rows) - 1)
    return t


def _census_lines(doc: Mapping[str, Any]) -> list[str]:
    """:func:`census_table` as Markdown, from a ``results.json`` document."""
    rows = [(name, _census_rows(s["census"], s.get("census_by_soundfont", {}),
                                s.get("census_by_note_kind", {}).get(ALL, {}),
                                s.get("census_by_note_kind_and_soundfont", {})))
            for name, s in doc["systems"].items() if s.get("census")]
    if not rows:
        return []
    lines = ["", "| system | takes | " + " | ".join(h for h, _ in _CENSUS_COLS) + " |",
             "|---|---|" + "---|" * len(_CENSUS_COLS)]
    for name, system_rows in rows:
        lines += [f"| {name if i == 0 else ''} | {label} | " + " | ".join(cells) + " |"
                  for i, (label, cells) in enumerate(system_rows)]
    return lines


def print_table(table: Table) -> None:
    """Print to stdout; when it is not a terminal, wide enough that no column wraps."""
    import sys

    from rich.console import Console

    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _save(fig: Any, path: Path, dpi: int) -> Path:
    """Write a finished figure as PNG and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


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
    written.append(_save(fig, out / "accuracy_by_condition.png", dpi=110))

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
    written.append(_save(fig, out / "onset_lag_hist.png", dpi=110))
    return written


def _cell(x: Any, fmt: str = "{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def latency_table(sweep: Sequence[Mapping[str, Any]],
                  engine: Sequence[Mapping[str, Any]] = (),
                  peer: Mapping[str, Any] | None = None,
                  title: str = "Live: emission latency and cost per block size (48 kHz)",
                  bound: Mapping[str, Any] | None = None,
                  note_bound: Mapping[str, Any] | None = None) -> Table:
    """One row per block size: host-level emission latency beside the reported latency,
    and the audio/ML thread cost (rows of ``HostBlockResult.as_dict()`` and of
    :func:`vocalmidi.eval.sweep.engine_cost_sweep`); last rows for the causal peer and
    the pitch-model bound (:func:`vocalmidi.eval.sweep.pitch_model_bound`), and the
    note-model bound when a note model was swept (:func:`vocalmidi.eval.sweep.note_model_bound`)."""
    eng = {r["block_size"]: r for r in engine}
    blocks = sorted({r["block_size"] for r in sweep} | set(eng))
    host = {r["block_size"]: r for r in sweep}
    t = Table(title=title)
    for col in ("block", "reported ms", "emission med ms", "emission p95 ms", "notes found",
                "late blocks", "host call us med/p99", "audio thread us mean/p99",
                "of budget", "ML CPU", "plugin workers CPU", "dropped"):
        t.add_column(col, justify="left" if col == "block" else "right",
                     no_wrap=col == "block")
    for b in blocks:
        h, e = host.get(b, {}), eng.get(b, {})
        em = h.get("emission", {})
        t.add_row(
            str(b), _cell(h.get("reported_latency_ms")), _cell(em.get("median_ms")),
            _cell(em.get("p95_ms")),
            f"{em['matched']}/{em['n_truth']}" if em else "-",
            f"{h['late_blocks']}/{h['blocks']}" if h else "-",
            f"{h['process_call_us_median']:.0f}/{h['process_call_us_p99']:.0f}" if h else "-",
            f"{e['audio_block_mean_us']:.1f}/{e['audio_block_p99_us']:.1f}" if e else "-",
            _cell(e.get("audio_block_load"), "{:.2%}"), _cell(e.get("ml_cpu_share"), "{:.1%}"),
            _cell(h.get("worker_cpu_share"), "{:.1%}"), _cell(e.get("frames_dropped"), "{}"),
        )
    for name, row in ((f"{peer['system']} (peer)" if peer else "", peer),
                      (bound["system"] if bound else "", bound),
                      (note_bound["system"] if note_bound else "", note_bound)):
        if row:
            em = row["emission"]
            t.add_row(name, "-", _cell(em["median_ms"]), _cell(em["p95_ms"]),
                      f"{em['matched']}/{em['n_truth']}", *["-"] * 7)
    return t


def variants_table(models: Mapping[str, Mapping[str, Any]],
                 title: str = "Live: emission latency per variant of ours") -> Table:
    """One row per variant of ``live["variants"]`` (one block size each)."""
    t = Table(title=title)
    for col in ("variant", "block", "reported ms", "emission med ms", "emission p95 ms",
                "notes found", "plugin workers CPU"):
        t.add_column(col, justify="left" if col == "variant" else "right")
    for model, r in models.items():
        em = r["emission"]
        t.add_row(model, str(r["block_size"]), _cell(r["reported_latency_ms"]),
                  _cell(em["median_ms"]), _cell(em["p95_ms"]),
                  f"{em['matched']}/{em['n_truth']}", _cell(r["worker_cpu_share"], "{:.1%}"))
    return t


def cost_table(rows: Sequence[Mapping[str, Any]],
               title: str = "Offline transcription cost per model (engine)") -> Table:
    """One row per model: real-time factor, peak memory, memory the model adds."""
    t = Table(title=title)
    for col in ("model", "RTF", "load ms", "peak RSS MiB", "model adds MiB", "notes", "note"):
        t.add_column(col, justify="left" if col in ("model", "note") else "right")
    for r in rows:
        t.add_row(r["model"], _cell(r.get("rtf"), "{:.4f}"), _cell(r.get("load_ms"), "{:.0f}"),
                  _cell(r.get("peak_rss_mb")),
                  _cell(r.get("model_delta_mb")), _cell(r.get("notes"), "{}"),
                  r.get("error", ""))
    return t


def write_live_plots(sweep: Sequence[Mapping[str, Any]],
                     engine: Sequence[Mapping[str, Any]], out_dir: str | Path,
                     peer: Mapping[str, Any] | None = None) -> list[Path]:
    """Write ``latency_hist.png`` (one panel per block size, the causal peer's latencies
    outlined in each) and ``cpu_per_block.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if sweep:
        n = len(sweep)
        cols = 2 if n > 1 else 1
        rows = (n + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(8, 2.6 * rows + 0.6), sharex=True,
                                 squeeze=False)
        lat_all = [x for r in sweep for x in r.get("emission_latencies_ms", [])]
        lat_all += list((peer or {}).get("emission_latencies_ms", []))
        hi = max([200.0, *lat_all]) if lat_all else 200.0
        bins = np.arange(0, min(hi, 600) + 10, 10)
        for ax, r in zip(axes.flat, sweep, strict=False):
            lat = r.get("emission_latencies_ms", [])
            if lat:
                ax.hist(np.clip(lat, bins[0], bins[-1]), bins=bins, color="tab:blue")
                ax.axvline(float(np.median(lat)), color="tab:orange",
                           label=f"median {np.median(lat):.0f} ms")
            ax.axvline(r["reported_latency_ms"], color="k", linestyle="--",
                       label=f"reported {r['reported_latency_ms']:.0f} ms")
            if peer and peer.get("emission_latencies_ms"):
                pl = peer["emission_latencies_ms"]
                ax.hist(np.clip(pl, bins[0], bins[-1]), bins=bins, histtype="step",
                        color="tab:gray", label=f"{peer['system']} (median {np.median(pl):.0f})")
            em = r["emission"]
            ax.set_title(f"block {r['block_size']}: {em['matched']}/{em['n_truth']} notes",
                         fontsize="medium")
            ax.legend(fontsize="small")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("note-on out of the plugin minus true onset (ms)")
        fig.suptitle("Emission latency through the host (VST3, realtime, 48 kHz)")
        written.append(_save(fig, out / "latency_hist.png", dpi=90))
    if engine or sweep:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
        if engine:
            b = [str(r["block_size"]) for r in engine]
            x = np.arange(len(b))
            ax1.bar(x - 0.2, [r["audio_block_mean_us"] for r in engine], 0.4, label="mean")
            ax1.bar(x + 0.2, [r["audio_block_p99_us"] for r in engine], 0.4, label="p99")
            ax1.set_xticks(x, b)
            ax1.legend(fontsize="small")
        ax1.set_xlabel("block size (samples)")
        ax1.set_ylabel("engine audio-thread time per block (us)")
        ax1.set_title("Audio thread (engine profiler)", fontsize="medium")
        blocks = sorted({r["block_size"] for r in [*engine, *sweep]})
        x = np.arange(len(blocks))
        eng = {r["block_size"]: r for r in engine}
        host = {r["block_size"]: r for r in sweep}
        if engine:
            ax2.bar(x - 0.2, [100 * eng[k]["ml_cpu_share"] if k in eng else 0 for k in blocks],
                    0.4, label="engine ML thread")
        if sweep:
            ax2.bar(x + 0.2,
                    [100 * host[k]["worker_cpu_share"] if k in host else 0 for k in blocks],
                    0.4, label="plugin worker threads (host)")
        ax2.set_xticks(x, [str(k) for k in blocks])
        ax2.set_xlabel("block size (samples)")
        ax2.set_ylabel("% of one core")
        ax2.set_title("ML side CPU while live", fontsize="medium")
        ax2.legend(fontsize="small")
        written.append(_save(fig, out / "cpu_per_block.png", dpi=90))
    return written


def _pct_cells(v: Mapping[str, Any], *keys: str) -> str:
    """Markdown cells of shares in %, one per key of ``v``."""
    return " | ".join(_fmt(v[k], True) for k in keys)


def _emission_cells(e: Mapping[str, Any]) -> str:
    """Markdown cells "median / p95 | found/total" of an emission summary."""
    return f"{_fmt(e['median_ms'])} / {_fmt(e['p95_ms'])} | {e['matched']}/{e['n_truth']}"


def _patch_lines(doc: Mapping[str, Any], condition: str = "clean") -> list[str]:
    """The clean condition per voice patch and system (``by_patch`` of the results)."""
    rows = [(name, patch, v) for name, s in doc["systems"].items()
            for patch, v in s.get("by_patch", {}).get(condition, {}).items()]
    if not rows:
        return []
    lines = ["", f"| system | voice patch ({condition}) | onset F1 | F1@50 | pitch acc "
             "| notes |", "|---|---|---|---|---|---|"]
    last = None
    for name, patch, v in rows:
        lines.append(f"| {name if name != last else ''} | {patch} "
                     f"| {_pct_cells(v, 'onset_f1_50', 'f1_50', 'pitch_accuracy')} "
                     f"| {v['n_ref']} |")
        last = name
    return lines


def markdown_summary(doc: Mapping[str, Any]) -> str:
    """The tables of a ``results.json`` document as Markdown (for the README)."""
    lines = ["| system | cond. | F1@50 | F1@100 | on+off | onset F1 | pitch acc "
             "| lag med / p95 ms | false/min | RTF |", "|---|---|---|---|---|---|---|---|---|---|"]
    if not doc["systems"]:  # a live-only run (bench --live-only)
        lines = []
    for name, s in doc["systems"].items():
        conds = s["conditions"]
        shown = [c for c in _ORDER if c in conds]
        neg = conds.get("negative", {}).get("false_per_min")
        for i, c in enumerate(shown):
            v = conds[c]
            false_cell = f"{neg:.1f}" if c == ALL and neg is not None else ""
            rtf_cell = f"{s['rtf']:.3f}" if c == ALL else ""
            shares = _pct_cells(v, "f1_50", "f1_100", "f1_offset", "onset_f1_50", "pitch_accuracy")
            lines.append(
                f"| {name if i == 0 else ''} | {c} | {shares} "
                f"| {_fmt(v['lag_median_ms'])} / {_fmt(v['lag_p95_ms'])} | {false_cell} "
                f"| {rtf_cell} |")
    # A peer left out (its model or package missing) must show, not just be absent.
    not_run = doc.get("not_run") or {}
    if not_run:
        lines += ["", "Not run:", *(f"- {name}: {why}" for name, why in not_run.items())]
    lines += _patch_lines(doc)
    lines += _negative_lines(doc)
    lines += _peer_lines(doc)
    lines += _census_lines(doc)
    lines += targets_markdown(doc)
    live = doc.get("live")
    if live:
        lines += live_matrix_markdown(live.get("matrix", []))
        eng = {r["block_size"]: r for r in live.get("engine", [])}
        lines += ["", "| block | reported ms | emission median / p95 ms | notes found "
                  "| late blocks | audio thread µs mean / p99 | ML thread CPU |",
                  "|---|---|---|---|---|---|---|"]
        for r in live.get("host", []):
            e, g = r["emission"], eng.get(r["block_size"], {})
            lines.append(
                f"| {r['block_size']} | {r['reported_latency_ms']:.0f} "
                f"| {_emission_cells(e)} "
                f"| {r['late_blocks']}/{r['blocks']} "
                f"| {g.get('audio_block_mean_us', 0):.1f} / {g.get('audio_block_p99_us', 0):.1f} "
                f"| {100 * g.get('ml_cpu_share', 0):.0f} % |")
        for name, row in (("aubio (peer)", live.get("peer")),
                          ((live.get("bound") or {}).get("system"), live.get("bound")),
                          ((live.get("note_bound") or {}).get("system"), live.get("note_bound"))):
            if row:
                e = row["emission"]
                lines.append(f"| {name} | - | {_emission_cells(e)} | | | |")
        spread = live.get("phase_spread")
        if spread:
            lines += ["", f"Recorded F1@50 of the same stream offline at the "
                      f"{len(spread['shifts'])} phases of the 5 ms grid a live run can fall "
                      f"on: {spread['min']:.3f}-{spread['max']:.3f} (mean "
                      f"{spread['mean']:.3f}); differences inside that are noise."]
        variants = live.get("variants") or {}
        if variants:
            lines += ["", "| variant | block | reported ms | emission median / p95 ms "
                      "| notes found |", "|---|---|---|---|---|"]
            for name, r in variants.items():
                e = r["emission"]
                lines.append(f"| {name} | {r['block_size']} | {r['reported_latency_ms']:.0f} "
                             f"| {_emission_cells(e)} |")
        offline = [r for r in live.get("offline", []) if "rtf" in r]
        if offline:
            lines += ["", "| model | offline RTF | load ms | peak RSS MiB | the model adds MiB |",
                      "|---|---|---|---|---|"]
            lines += [f"| {r['model']} | {r['rtf']:.3f} | {r['load_ms']:.0f} "
                      f"| {r['peak_rss_mb']:.0f} | {r['model_delta_mb']:.0f} |" for r in offline]
    return "\n".join(lines) + "\n"
