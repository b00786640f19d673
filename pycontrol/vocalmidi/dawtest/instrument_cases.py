"""The instrument variant, "VocalMIDI Instrument", in our JUCE host (VST3).

Hosts that take MIDI out of instruments only (Ableton Live) run it on a MIDI track and feed
the voice into its side-chain input. These scenarios feed the phrase through that bus and
hold the instrument to the effect it is built from: the same MIDI on the same take, the same
reported latency (and onsets that sit on the sung ones once a host compensates it), silence
or the effect's guide tone out, the bus layouts hosts ask for accepted and the rest refused
with a reason, and presets that move between the two plugins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vocalmidi.dawtest import oracles as o
from vocalmidi.dawtest import signals
from vocalmidi.dawtest.jalv_cases import JALV_TOLERANCE_S, JalvRig
from vocalmidi.dawtest.juce_cases import (
    REALTIME_TOLERANCE_S,
    STATE_PARAMS,
    render_restored,
    state_settings_applied,
)
from vocalmidi.dawtest.juce_host import REF_BLOCK, JuceRig, Render, closing, phrase, render
from vocalmidi.dawtest.results import Outcome
from vocalmidi.hosts import PluginHost, PluginHostError

# Onsets once the host has moved the notes back by the reported latency vs the sung
# onsets: what a user sees in the recorded clip. The phrase's voice takes a few tens of ms
# to sound (harmonics fade in), and the analysis hop adds up to one more.
COMPENSATED_TOLERANCE_S = 0.06

# (side-chain channels, output channels): what hosts ask of an instrument (no side-chain
# connected, mono or stereo voice; mono or stereo out) and what it must refuse.
ACCEPTED = ((0, 2), (1, 2), (2, 2), (1, 1), (2, 1), (0, 1))
REFUSED = ((3, 2), (6, 2), (1, 3), (2, 6), (8, 8))


def instrument_path() -> Path:
    from vocalmidi import native

    return native.instrument_vst3_path()


def fresh(sample_rate: int = 48000, block: int = REF_BLOCK, side: int = 1, out: int = 2,
          params: dict[str, float | str] | None = None) -> PluginHost:
    """A new instrument instance prepared with ``side`` side-chain and ``out`` output channels."""
    host = PluginHost(instrument_path())
    for name, value in (params or {}).items():
        host.set_parameter(name, value)
    host.prepare(sample_rate, block, channels=side, output_channels=out)
    return host


def _sidechain(side: int) -> np.ndarray:
    x = phrase(48000)
    return x if side == 1 else np.ascontiguousarray(np.tile(x, (side, 1)))


def _silent(audio: np.ndarray, what: str) -> o.Check:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return o.Check(what, peak == 0.0, f"peak {peak:.3g}")


def sidechain(rig: JuceRig) -> Outcome:
    """The phrase through the side-chain (mono and stereo): the effect's MIDI and latency,
    onsets on the sung ones after compensation, silence out at Monitor Mix 0."""
    out = Outcome()
    ref = rig.reference()
    out.add(o.Check("the effect's reference has the sung notes",
                    len(o.notes_of(ref.events)) >= len(signals.PHRASE_NOTES),
                    f"{len(o.notes_of(ref.events))} notes"))
    renders: dict[int, Render] = {}
    for side in (1, 2):
        with closing(fresh(side=side)) as host:
            out.add(o.Check(f"{side}-channel side-chain set up",
                            host.input_channels == side and host.output_channels == 2,
                            f"{host.input_channels} in / {host.output_channels} out"))
            renders[side] = got = render(host, _sidechain(side), REF_BLOCK)
        out.add(o.midi_identical(got.events, ref.events,
                                 f"{side}-channel side-chain: MIDI identical to the effect's"))
        out.add(_silent(got.audio, f"{side}-channel side-chain: silence out (Monitor Mix 0)"))
        out.add(o.no_stuck_notes(got.events))
    got = renders[1]
    out.add(o.Check("reports the effect's latency", got.latency == ref.latency and got.latency > 0,
                    f"instrument {got.latency}, effect {ref.latency} samples"))
    truth = [(on, p) for on, _, p in signals.phrase(48000).notes]
    shifted = [(s - got.latency, d) for s, d in got.events]
    out.add(o.notes_close(shifted, truth, 48000, COMPENSATED_TOLERANCE_S,
                          "onsets moved back by the reported latency sit on the sung ones"))
    out.info.update(latency=got.latency, render_s=round(got.seconds, 3))
    out.piano_roll(48000, got.events, ref.events)
    return out


def guide_tone(rig: JuceRig) -> Outcome:
    """Monitor Mix 100 %: the instrument outputs the effect's guide tone, sample for sample."""
    out = Outcome(info={"params": {"Monitor Mix": 1.0}})
    audio = phrase(48000)
    with closing(rig.fresh(params={"Monitor Mix": 1.0})) as host:
        effect = render(host, audio, REF_BLOCK)
    with closing(fresh(out=1, params={"Monitor Mix": 1.0})) as host:
        got = render(host, audio, REF_BLOCK)
    peak = float(np.max(np.abs(got.audio)))
    out.add(o.Check("a guide tone sounds", peak > 0.05, f"peak {peak:.3f}"))
    out.add(o.audio_identical(got.audio, effect.audio, "guide tone identical to the effect's"))
    out.add(o.midi_identical(got.events, effect.events))
    out.add(o.finite(got.audio))
    return out


def layouts(rig: JuceRig) -> Outcome:
    """Bus layouts: the accepted ones work, the others are refused with a reason, and the
    instance stays usable after a refusal."""
    out = Outcome(info={"accepted": ACCEPTED, "refused": REFUSED})
    ref = rig.reference()
    with closing(PluginHost(instrument_path())) as host:
        out.add(o.Check("loads as a MIDI-producing instrument",
                        host.produces_midi, f"produces MIDI: {host.produces_midi}"))
        for side, n_out in ACCEPTED:
            try:
                host.prepare(48000, REF_BLOCK, channels=side, output_channels=n_out)
                ok = host.input_channels == side and host.output_channels == n_out
                why = f"set up {host.input_channels} in / {host.output_channels} out"
            except PluginHostError as exc:
                ok, why = False, str(exc)
            out.add(o.Check(f"accepts {side} side-chain / {n_out} out channels", ok, why))
        for side, n_out in REFUSED:
            # From a fed side-chain: from a disabled one our host would keep it disabled
            # rather than fail (its fallback for analysers), and the plugin would not be asked.
            host.prepare(48000, REF_BLOCK, channels=1, output_channels=2)
            try:
                host.prepare(48000, REF_BLOCK, channels=side, output_channels=n_out)
                ok, why = False, f"accepted ({host.input_channels} in / {host.output_channels} out)"
            except PluginHostError as exc:
                ok, why = "does not accept" in str(exc), str(exc)
            out.add(o.Check(f"refuses {side} side-chain / {n_out} out channels", ok, why))
        host.prepare(48000, REF_BLOCK, channels=1, output_channels=2)
        after = render(host, phrase(48000), REF_BLOCK)
        out.add(o.midi_identical(after.events, ref.events,
                                 "after the refusals: MIDI identical to the effect's"))
        host.prepare(48000, REF_BLOCK, channels=0, output_channels=2)
        # No side-chain: only the output exists; the host passes the length alone.
        unfed = render(host, np.zeros((0, phrase(48000).size), np.float32), REF_BLOCK)
        out.add(o.no_midi(unfed.events, "side-chain disabled: no notes"))
        out.add(_silent(unfed.audio, "side-chain disabled: silence out"))
    return out


def state_exchange(rig: JuceRig) -> Outcome:
    """A preset saved by the effect loads into the instrument and back: the same MIDI."""
    out = Outcome(info={"params": STATE_PARAMS})
    audio = phrase(48000)
    with closing(rig.fresh(params=STATE_PARAMS)) as host:
        effect = render(host, audio, REF_BLOCK)
        effect_state = host.get_state()
    with closing(PluginHost(instrument_path())) as host:
        host.set_state(effect_state)
        host.prepare(48000, REF_BLOCK, channels=1, output_channels=2)
        got = render(host, audio, REF_BLOCK)
        instrument_state = host.get_state()
    back = render_restored(rig.vst3, instrument_state, audio)
    out.add(o.midi_identical(got.events, effect.events,
                             "effect preset in the instrument: same MIDI"))
    out.add(o.midi_identical(back.events, effect.events,
                             "instrument preset in the effect: same MIDI"))
    out.add(state_settings_applied(got.events, "settings in effect (MIDI channel 3, velocity 90)"))
    out.piano_roll(48000, got.events, effect.events)
    return out


def realtime(rig: JuceRig) -> Outcome:
    """Live, paced at real time: the offline notes within the real-time tolerance, no heap
    calls inside processBlock, silence out."""
    out = Outcome()
    ref = rig.reference()
    with closing(fresh()) as host:
        host.set_pacing(1.0)
        got = render(host, phrase(48000), REF_BLOCK, realtime=True)
    ref_notes = o.sung_notes(ref.events, 48000)
    out.add(o.live_notes_cover(got.events, ref_notes, 48000, REALTIME_TOLERANCE_S,
                               "real-time notes as the effect's offline ones"))
    out.add(o.no_stuck_notes(got.events))
    out.add(_silent(got.audio, "silence out"))
    out.add(o.no_allocations(got.allocations))
    out.info.update(render_s=round(got.seconds, 3))
    out.piano_roll(48000, got.events, ref.events)
    return out


def lv2_in_jalv(rig: JalvRig) -> Outcome:
    """The instrument's LV2 live in jalv, the phrase into both side-chain ports: the effect's
    offline notes, its latency on the output ports, silence out."""
    from vocalmidi import native
    from vocalmidi.hosts.jalv import render_lv2_in_jalv

    out = Outcome()
    bundle = native.plugin_paths().instrument_lv2
    if bundle is None:
        out.add(o.Check("LV2 bundle built", False, "no VocalMIDIInstrument.lv2 in the native "
                                                   "folder"))
        return out
    ref = rig.juce.reference()
    got = render_lv2_in_jalv(bundle, phrase(48000), 48000, period=256, tail=1.0)
    ref_notes = o.sung_notes(ref.events, 48000)
    out.add(o.live_notes_cover(got.events, ref_notes, 48000, JALV_TOLERANCE_S,
                               "live LV2 instrument notes as the effect's offline reference"))
    out.add(o.no_stuck_notes(got.events))
    out.add(_silent(got.audio_out, "silence out"))
    out.add(o.Check("reports the effect's latency", got.latency_samples == ref.latency,
                    f"jalv shows {got.latency_samples}, the effect reports {ref.latency}"))
    out.info.update(xruns=got.xruns, period=got.period, latency=got.latency_samples)
    out.piano_roll(48000, got.events, ref.events)
    return out
