"""Scenarios on pedalboard: audio, parameters, state and reported latency (no MIDI out).

pedalboard compensates the latency a plugin reports, so a plugin whose dry path is delayed
by exactly what it reports comes out aligned with its input (measured delay 0). With the
Monitor Mix at 100 % the output is the guide tone, which follows every pitch the engine
finds: comparing it across renders checks the analysis without seeing MIDI.

Known quirk (docs/daw-testing.md): pedalboard learns a latency that changed with the sample
rate one render late, so every scenario first renders a short warm-up at its rate.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.dawtest import oracles as o
from vocalmidi.dawtest import signals
from vocalmidi.dawtest.caches import broken_model_cache
from vocalmidi.dawtest.juce_host import phrase
from vocalmidi.dawtest.results import Outcome
from vocalmidi.dawtest.threads import run_at_once

MAX_LATENCY_S = 4.0


class PedalboardRig:
    """Loads the VST3 into pedalboard and keeps guide-tone references per sample rate."""

    def __init__(self, vst3: Path) -> None:
        import pedalboard

        self._pb = pedalboard
        self.vst3 = vst3
        self._refs: dict[int, np.ndarray] = {}

    def load(self, sample_rate: int = 48000, **params: Any) -> Any:
        plugin = self._pb.load_plugin(str(self.vst3))
        for name, value in params.items():
            setattr(plugin, name, value)
        plugin(np.zeros((1, 256), np.float32), sample_rate)  # warm-up: see the module doc
        return plugin

    def guide_reference(self, sample_rate: int = 48000) -> np.ndarray:
        if sample_rate not in self._refs:
            plugin = self.load(sample_rate, monitor_mix=100)
            self._refs[sample_rate] = plugin(stereo(phrase(sample_rate)), sample_rate,
                                             buffer_size=512)
        return self._refs[sample_rate]


def stereo(x: np.ndarray) -> np.ndarray:
    return np.stack([x, x])


def _aligned(out: Outcome, audio: np.ndarray, got: np.ndarray, sample_rate: int) -> None:
    """pedalboard compensated the reported latency: the output is the input, in place."""
    out.add(o.finite(got))
    measured = o.measured_delay(audio, got[0], int(MAX_LATENCY_S * sample_rate))
    out.add(o.Check("reported latency = measured (compensated output aligned)",
                    measured == 0, f"residual delay {measured} samples"))
    out.add(o.passes_through(audio, got[0], 0, what="dry audio out = in after compensation"))


def sample_rate(rig: PedalboardRig, rate: int) -> Outcome:
    out = Outcome()
    plugin = rig.load(rate)
    audio = phrase(rate)
    got = plugin(stereo(audio), rate, buffer_size=512)
    _aligned(out, audio, got, rate)
    out.info["reported_latency"] = plugin.reported_latency_samples
    return out


def block_size(rig: PedalboardRig, block: int) -> Outcome:
    out = Outcome(info={"monitor_mix": 100})
    plugin = rig.load(monitor_mix=100)
    got = plugin(stereo(phrase(48000)), 48000, buffer_size=block)
    out.add(o.finite(got))
    out.add(o.audio_identical(got, rig.guide_reference(), "guide tone identical to buffer 512's"))
    return out


def reset_between(rig: PedalboardRig) -> Outcome:
    """pedalboard resets the plugin before each call (for a VST3: deactivate + activate, i.e.
    a fresh prepare): a render cut mid-note must not change the next. Notes left hanging
    would be invisible here (no MIDI out); the JUCE host's case checks those."""
    out = Outcome(info={"monitor_mix": 100})
    plugin = rig.load(monitor_mix=100)
    audio = stereo(phrase(48000))
    plugin(audio[:, : int(1.3 * 48000)], 48000, buffer_size=512)
    got = plugin(audio, 48000, buffer_size=512)  # reset=True is pedalboard's default
    out.add(o.audio_identical(got, rig.guide_reference(), "guide tone as a fresh instance's"))
    return out


STATE_PARAMS: dict[str, Any] = {"scale": "Minor", "key": "D", "sensitivity": 70,
                                "monitor_mix": 100, "min_note_length_ms": 80}


def state_restore(rig: PedalboardRig) -> Outcome:
    out = Outcome(info={"params": STATE_PARAMS})
    a_plugin = rig.load(**STATE_PARAMS)
    audio = stereo(phrase(48000))
    a = a_plugin(audio, 48000, buffer_size=512)
    b_plugin = rig.load()
    b_plugin.raw_state = a_plugin.raw_state
    b_plugin(np.zeros((1, 256), np.float32), 48000)  # the restored latency, learnt late
    b = b_plugin(audio, 48000, buffer_size=512)
    out.add(o.audio_identical(b, a, "audio identical after restore"))
    out.add(o.Check("parameters restored",
                    all(getattr(b_plugin, k) == getattr(a_plugin, k) for k in STATE_PARAMS),
                    ", ".join(f"{k}={getattr(b_plugin, k)}" for k in STATE_PARAMS)))
    return out


def bypass(rig: PedalboardRig) -> Outcome:
    out = Outcome()
    plugin = rig.load(monitor_mix=100, bypass=True)
    audio = phrase(48000)
    got = plugin(stereo(audio), 48000, buffer_size=512)
    _aligned(out, audio, got, 48000)
    return out


def parallel_instances(rig: PedalboardRig, count: int = 4) -> Outcome:
    out = Outcome(info={"instances": count})
    plugins = [rig.load(monitor_mix=100) for _ in range(count)]
    audio = stereo(phrase(48000))
    blocks = [(512, 2048, 333, 64)[i % 4] for i in range(count)]
    results = run_at_once([partial(p, audio, 48000, buffer_size=b)
                           for p, b in zip(plugins, blocks, strict=True)])
    for i, r in enumerate(results):
        if isinstance(r, BaseException):
            out.add(o.Check(f"instance {i} rendered", False, repr(r)))
        else:
            out.add(o.audio_identical(r, rig.guide_reference(),
                                      f"instance {i}: guide tone as the reference"))
    return out


def hostile_input(rig: PedalboardRig, kind: str) -> Outcome:
    out = Outcome()
    audio = (signals.hostile(48000) if kind == "nan-inf-denormal"
             else signals.full_scale_noise(2.0, 48000))
    plugin = rig.load()
    got = plugin(stereo(audio), 48000, buffer_size=512)
    out.add(o.finite(got))
    out.add(o.passes_through(audio, got[0], 0, what="audio out = in (non-finite in: silence out)"))
    guide = rig.load(monitor_mix=100)(stereo(audio), 48000, buffer_size=512)
    out.add(o.finite(guide))
    return out


def broken_model(rig: PedalboardRig, kind: str, genuine: bytes | None) -> Outcome:
    out = Outcome()
    audio = phrase(48000)
    with broken_model_cache(kind, genuine):
        plugin = rig.load()
        got = plugin(stereo(audio), 48000, buffer_size=512)
    _aligned(out, audio, got, 48000)
    out.info["reported_latency"] = plugin.reported_latency_samples
    return out
