"""How much the live sweep's recorded F1@50 moves with the phase of the note model's grid.

A live run (the plugin in a host) starts the takes wherever the host's blocks put them
relative to the note model's 5 ms hops (240 samples at 48 kHz, the resampler's phase
included). :func:`grid_phase_spread` renders the sweep's stream offline through the
engine with 0, 16, ... 224 samples of silence before it and scores each as a DAW records
it (:func:`~vocalmidi.eval.live_stream.score_stream`). Measured in session 14 on the
bench's 3 clean takes (68 notes): Instant 0.787-0.868, Accurate 0.829-0.874. That spread
is the noise floor of the sweep's "recorded F1@50" rows; `vocalmidi bench` prints it
beside them for a note model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SHIFTS", "engine_params_from_plugin", "grid_phase_spread"]

# Shifts (samples at 48 kHz) covering every phase of a 240-sample hop that a start on a
# 16-sample multiple reaches (every power-of-two block size from 16 up).
SHIFTS = tuple(range(0, 240, 16))


def engine_params_from_plugin(params: Mapping[str, str]) -> dict[str, Any]:
    """Engine parameters for the plugin's (``{"Latency Mode": "Accurate"}`` ->
    ``{"latency_mode": "accurate"}``); raises KeyError for one the engine has no twin of
    (the model choice aside, which the caller resolves)."""
    from vocalmidi.transcribe import PLUGIN_PARAM_NAMES

    by_label = {label: name for name, label in PLUGIN_PARAM_NAMES.items()}
    out: dict[str, Any] = {}
    for label, value in params.items():
        if label == "Model":
            continue
        name = by_label[label]
        if name == "aligned_timing":
            out[name] = {"immediate": 0, "aligned": 1}.get(str(value).lower(), value)
        else:
            out[name] = str(value).lower() if isinstance(value, str) else value
    return out


def grid_phase_spread(stream: np.ndarray, truth: Sequence[Any], rate: int, model: str | Path,
                      params: Mapping[str, Any] | None = None,
                      shifts: Sequence[int] = SHIFTS) -> dict[str, Any]:
    """Recorded F1@50 of ``stream`` through the engine offline (note model ``model``,
    engine ``params``) at each of ``shifts`` samples of leading silence."""
    from vocalmidi.engine import Engine, EventType
    from vocalmidi.eval.live_stream import score_stream
    from vocalmidi.hosts.midi import MidiMessage

    def midi_bytes(e: Any) -> bytes | None:  # what the plugin would send for the event
        if e.type == EventType.NOTE_ON:
            return MidiMessage.note_on(0, e.note, e.velocity, e.channel).data
        if e.type == EventType.NOTE_OFF:
            return MidiMessage.note_off(0, e.note, e.channel).data
        return None

    scores = []
    for pad in shifts:
        x = np.concatenate([np.zeros(pad, np.float32), stream.astype(np.float32)])
        with Engine(model, "vocalnote") as eng:
            for name, value in (params or {}).items():
                eng.set_param(name, value)
            eng.prepare(rate, 128, realtime=False)
            events = eng.process(x) + eng.flush()
            latency = eng.latency_samples
        midi = [((e.position - pad) / rate, b) for e in events if (b := midi_bytes(e))]
        scores.append(score_stream(truth, midi, latency / rate, stream.size / rate)["f1_50"])
    return {"shifts": list(shifts), "f1_50": scores, "min": min(scores), "max": max(scores),
            "mean": round(float(np.mean(scores)), 4), "params": dict(params or {})}
