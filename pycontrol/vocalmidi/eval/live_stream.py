"""The live MIDI stream as a DAW records it, scored; and the LV2 swept live in jalv.

- :func:`score_stream`: notes where they left the plugin (note-on to note-off), moved
  back by the latency the plugin reports (what a host compensates, nothing more), scored
  against the truth: note F1@50 on the sung takes, false notes on the negatives.
- :func:`jalv_latency_sweep`: :func:`~vocalmidi.eval.sweep.host_latency_sweep`'s
  measure for the LV2 build in ``jalv`` on JACK's dummy driver, per sample rate and
  period (JACK's clock paces it; JACK counts the late cycles as xruns).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.eval.latency import emission_latencies
from vocalmidi.eval.sweep import _GAP_S, RATE, HostBlockResult, Take, join_takes
from vocalmidi.notes import Note

__all__ = ["jalv_latency_sweep", "negative_spans", "progress_line", "score_stream",
           "stream_notes"]

_JALV_LEAD_S = 1.0  # silence played first: the LV2 loads its model after jalv starts it
_JALV_SETTLE_S = 2.0


def negative_spans(takes: Sequence[Take], gap_s: float = _GAP_S) -> list[tuple[float, float]]:
    """Where the takes without notes lie in :func:`~vocalmidi.eval.sweep.join_takes`'s
    stream, in seconds (each with the gap after it)."""
    spans, pos = [], 0.0
    for take in takes:
        end = pos + take.audio.size / RATE + gap_s
        if not take.notes:
            spans.append((pos, end))
        pos = end
    return spans


def stream_notes(midi: Sequence[tuple[float, bytes]], end_s: float) -> list[Note]:
    """Notes from timed raw MIDI: each note-on to the next note-off of its channel and
    number (or ``end_s`` when none comes)."""
    from vocalmidi.hosts.midi import MidiMessage

    open_: dict[tuple[int, int], tuple[float, int]] = {}
    notes: list[Note] = []
    for t, data in sorted(midi, key=lambda x: x[0]):
        m = MidiMessage(0, data)
        if not (m.is_note_on or m.is_note_off):
            continue
        key = (m.channel, int(data[1]))
        if key in open_:  # a note-off, or a note-on that re-attacks the sounding note
            start, vel = open_.pop(key)
            notes.append(Note(start, max(t, start), key[1], vel))
        if m.is_note_on:
            open_[key] = (t, int(data[2]))
    notes += [Note(s, max(end_s, s), k[1], v) for k, (s, v) in open_.items()]
    return sorted(notes, key=lambda n: n.start)


def score_stream(truth: Sequence[Note], midi: Sequence[tuple[float, bytes]],
                 latency_s: float, duration_s: float,
                 negatives: Sequence[tuple[float, float]] = ()) -> dict[str, Any]:
    """Score the live stream: ``midi`` is (seconds the message left the plugin, bytes).

    Notes are moved back by ``latency_s`` only (the reported latency a host
    compensates). Returns note F1@50 (onset within 50 ms, pitch within 50 cents) of the
    notes outside ``negatives`` against ``truth``, the notes that matched no true note
    there (``false_notes``), and the notes inside ``negatives`` per minute of them
    (``negative_false_per_min``, None without negatives).
    """
    from vocalmidi.eval.metrics import score_clip

    notes = [Note(n.start - latency_s, n.end - latency_s, n.pitch, n.velocity)
             for n in stream_notes(midi, duration_s)]

    def in_negative(n: Note) -> bool:
        return any(a <= n.start < b for a, b in negatives)

    sung = [n for n in notes if not in_negative(n)]
    s = score_clip(list(truth), sung, duration_s)
    f1 = 2 * s.hits_50 / (s.n_ref + s.n_est) if s.n_ref + s.n_est else None
    neg_min = sum(b - a for a, b in negatives) / 60.0
    neg_notes = len(notes) - len(sung)
    return {"f1_50": None if f1 is None else round(f1, 4),
            "precision_50": round(s.hits_50 / s.n_est, 4) if s.n_est else None,
            "recall_50": round(s.hits_50 / s.n_ref, 4) if s.n_ref else None,
            "notes": s.n_est, "true_notes": s.n_ref, "false_notes": s.n_est - s.hits_50,
            "negative_notes": neg_notes, "negative_minutes": round(neg_min, 3),
            "negative_false_per_min": round(neg_notes / neg_min, 2) if neg_min else None}


def progress_line(res: HostBlockResult) -> str:
    """One line per (host, rate, block) for the bench's progress output."""
    e, st = res.emission, res.stream
    nan = float("nan")
    late = f"{res.xruns} xruns" if res.xruns is not None else f"{res.late_blocks} late blocks"
    f1 = st.get("f1_50")
    return (f"{res.host}, {res.sample_rate} Hz, block {res.block_size}: reported "
            f"{res.reported_latency_ms:.1f} ms, emission median {e.median_ms or nan:.1f} ms / "
            f"p95 {e.p95_ms or nan:.1f} ms, {e.matched}/{e.n_truth} notes, stream F1@50 "
            f"{nan if f1 is None else f1:.3f}, {st.get('false_notes')} false notes, {late}")


def jalv_latency_sweep(
    takes: Sequence[Take],
    block_sizes: Sequence[int],
    rates: Sequence[int] = (RATE,),
    *,
    bundle: str | Path | None = None,
    parameters: Mapping[str, float | str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[HostBlockResult]:
    """The LV2 live in jalv, per sample rate and JACK period: emission latency and the
    scored MIDI stream, as :func:`~vocalmidi.eval.sweep.host_latency_sweep` measures the
    VST3.

    Each (rate, period) runs a fresh JACK server on the dummy driver and a fresh jalv;
    the stream starts after a second of silence (the plugin loads its model meanwhile).
    ``parameters`` are plugin parameters by name (``{"Model": "vocalnote-s"}``).

    Raises
    ------
    Lv2Error
        When the bundle is missing or jalv cannot run it.
    BackendUnavailableError
        When jackd, jalv or JACK-Client is missing.
    """
    from vocalmidi import native
    from vocalmidi.eval.systems import _resample
    from vocalmidi.hosts.jalv import render_lv2_in_jalv
    from vocalmidi.hosts.lv2_bundle import Lv2Error

    if bundle is None:
        bundle = native.plugin_paths().lv2
        if bundle is None:
            raise Lv2Error("the LV2 was not built (the build makes VocalMIDI.lv2)")
    stream48, truth = join_takes(takes)
    lead = _JALV_LEAD_S
    truth = [Note(n.start + lead, n.end + lead, n.pitch, n.velocity) for n in truth]
    negatives = [(a + lead, b + lead) for a, b in negative_spans(takes)]
    results: list[HostBlockResult] = []
    for rate in rates:
        stream = np.concatenate([np.zeros(int(lead * rate), np.float32),
                                 _resample(stream48, RATE, rate)])
        duration = stream.size / rate
        for block in block_sizes:
            run = render_lv2_in_jalv(bundle, stream, rate, block, dict(parameters or {}),
                                     timeout=2 * duration + 60, tail=1.0,
                                     settle=_JALV_SETTLE_S)
            latency = run.latency_samples or 0
            midi = [(frame / rate, data) for frame, data in run.events]
            ons = [(t, m.note) for (t, _), m in zip(midi, run.messages, strict=True)
                   if m.is_note_on]
            window = max(0.5, latency / rate + 0.3)
            res = HostBlockResult(
                block, latency, emission_latencies(truth, ons, window), [], 0.0, duration,
                0, -(-stream.size // block), rate, "jalv",
                score_stream(truth, midi, latency / rate, duration, negatives), run.xruns)
            results.append(res)
            if progress:
                progress(progress_line(res))
    return results
