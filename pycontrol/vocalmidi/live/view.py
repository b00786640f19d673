"""The terminal view of a live session: sounding notes, recent notes, level, latency, CPU."""

from __future__ import annotations

from typing import Any

from vocalmidi.live.session import LiveSession

__all__ = ["render"]

_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(pitch: int) -> str:
    """``60 -> "C4"``."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _meter(db: float, width: int = 30) -> str:
    filled = int(round(max(0.0, min(1.0, (db + 60.0) / 60.0)) * width))
    return "█" * filled + "·" * (width - filled)


def render(session: LiveSession) -> Any:
    """A rich renderable of the session's current state."""
    from rich.panel import Panel
    from rich.table import Table

    stats = session.stats()
    sr = stats.get("sample_rate") or 48000
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    sounding = " ".join(note_name(n.pitch) for n in session.sounding) or "-"
    grid.add_row("note", f"[green]{sounding}[/green]")
    level = float(stats.get("level_db", -120.0))
    grid.add_row("level", f"{_meter(level)} {level:6.1f} dBFS")
    pitch = float(stats.get("pitch_hz", 0.0))
    grid.add_row("pitch", f"{pitch:7.1f} Hz" if pitch > 0 else "unvoiced")
    latency = int(stats.get("latency_samples", 0))
    grid.add_row("latency", f"{latency * 1000.0 / sr:.1f} ms ({latency} samples at {sr} Hz, "
                 f"period {stats.get('buffer_size', '?')})")
    grid.add_row("cpu", f"JACK DSP load {float(stats.get('cpu_load', 0.0)):.1f} %, callback "
                 f"{float(stats.get('callback_us_mean', 0.0)):.0f} µs mean / "
                 f"{float(stats.get('callback_us_max', 0.0)):.0f} µs max")
    grid.add_row("counts", f"{session.notes_played} notes, {stats.get('events', 0)} events, "
                 f"{stats.get('dropped_events', 0)} dropped, {stats.get('xruns', 0)} xruns")
    line = "  ".join(
        note_name(n.pitch)
        + (f"·{(n.end_frame - n.start_frame) * 1000 // sr}ms" if n.end_frame else "…")
        for n in list(session.history)[-12:]
    )
    grid.add_row("recent", line or "-")
    out = session.forwarder.port_name if session.forwarder else "JACK port only"
    src = session.client.output_port if session.client else ""
    return Panel(grid, title="VocalMIDI live", subtitle=f"MIDI → {src}, {out}  (Ctrl-C stops)")
