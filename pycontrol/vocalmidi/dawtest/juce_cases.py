"""Scenarios on our JUCE host (sees MIDI out). Each function returns an :class:`Outcome`.

Offline renders are held to the reference exactly (the plugin promises identical output
for any block size offline); real-time renders within a stated tolerance.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from vocalmidi.dawtest import oracles as o
from vocalmidi.dawtest import signals
from vocalmidi.dawtest.caches import broken_model_cache
from vocalmidi.dawtest.juce_host import REF_BLOCK, JuceRig, Render, closing, phrase, render
from vocalmidi.dawtest.results import Outcome
from vocalmidi.dawtest.threads import run_at_once
from vocalmidi.hosts import PluginHost

MAX_LATENCY_S = 4.0
# Real-time renders: the analysis runs on its own thread, so a note may leave a block or two
# later than offline. Stated tolerance for real-time vs offline onsets:
REALTIME_TOLERANCE_S = 0.06
# Renders at other sample rates: same notes as the 48 kHz reference, onsets within a hop or
# two of the model (resampling moves the frame grid):
RATE_TOLERANCE_S = 0.03


def _same_as_reference(out: Outcome, got: Render, ref: Render, sample_rate: int = 48000,
                       audio: bool = True) -> None:
    _reference_has_notes(out, ref)
    out.add(o.midi_identical(got.events, ref.events))
    if audio:
        out.add(o.audio_identical(got.audio, ref.audio))
    out.add(o.finite(got.audio))
    out.add(o.no_stuck_notes(got.events))
    out.info.setdefault("render_s", round(got.seconds, 3))
    out.piano_roll(sample_rate, got.events, ref.events)


def _reference_has_notes(out: Outcome, ref: Render) -> None:
    """Identical to an empty reference would prove nothing."""
    found = len(o.notes_of(ref.events))
    out.add(o.Check("the reference has the sung notes", found >= len(signals.PHRASE_NOTES),
                    f"{found} notes"))


def _latency_checks(out: Outcome, got: Render, audio: np.ndarray, sample_rate: int) -> None:
    out.add(o.latency_matches(got.latency, audio, got.audio, int(MAX_LATENCY_S * sample_rate)))
    out.add(o.passes_through(audio, got.audio, got.latency))


def reference_sanity(rig: JuceRig) -> Outcome:
    """The 48 kHz reference itself: the sung notes, dry path aligned, latency as reported."""
    out = Outcome()
    ref = rig.reference(48000)
    truth = signals.phrase(48000).notes
    out.add(o.notes_close(ref.events, [(on, p) for on, _, p in truth], 48000, 0.25,
                          "finds the sung notes (onset within 250 ms of the truth)"))
    out.add(o.no_stuck_notes(ref.events))
    _latency_checks(out, ref, phrase(48000), 48000)
    out.info.update(latency=ref.latency, render_s=round(ref.seconds, 3))
    out.piano_roll(48000, ref.events)
    return out


def sample_rate(rig: JuceRig, rate: int) -> Outcome:
    out = Outcome()
    ref48 = rig.reference(48000)
    got = rig.reference(rate)
    ref_notes = o.sung_notes(ref48.events, 48000)
    out.add(o.notes_close(got.events, ref_notes, rate, RATE_TOLERANCE_S,
                          "same notes as at 48 kHz"))
    out.add(o.no_stuck_notes(got.events))
    out.add(o.finite(got.audio))
    _latency_checks(out, got, phrase(rate), rate)
    out.info.update(latency=got.latency, render_s=round(got.seconds, 3))
    out.piano_roll(rate, got.events, [(int(s * rate / 48000), d) for s, d in ref48.events])
    return out


def block_size(rig: JuceRig, block: int) -> Outcome:
    out = Outcome()
    with closing(rig.fresh(48000, block)) as host:
        got = render(host, phrase(48000), block)
    _same_as_reference(out, got, rig.reference())
    return out


def random_blocks(rig: JuceRig, seed: int = 1) -> Outcome:
    sizes = np.random.default_rng(seed).integers(1, 4097, 400).tolist()
    out = Outcome(info={"blocks": f"{len(sizes)} random sizes in 1..4096, seed {seed}"})
    with closing(rig.fresh(48000, 4096)) as host:
        got = render(host, phrase(48000), sizes)
    _same_as_reference(out, got, rig.reference())
    return out


def oversized_blocks(rig: JuceRig) -> Outcome:
    """Prepared for 64 samples, then handed blocks of up to 4096 (hosts that break promises)."""
    out = Outcome(info={"prepared": 64, "blocks": "1000, 4096, 77, 3000"})
    with closing(rig.fresh(48000, 64)) as host:
        host.set_block_limit(4096)
        got = render(host, phrase(48000), [1000, 4096, 77, 3000])
    _same_as_reference(out, got, rig.reference())
    return out


def prepare_cycle(rig: JuceRig) -> Outcome:
    """prepare / render / release three times on one instance, with other block sizes."""
    out = Outcome()
    ref = rig.reference()
    _reference_has_notes(out, ref)
    with closing(PluginHost(rig.vst3)) as host:
        for block in (512, 256, 2048):
            host.prepare(48000, block, channels=1)
            got = render(host, phrase(48000), block)
            host.release()
            out.add(o.midi_identical(got.events, ref.events,
                                     f"MIDI identical after prepare({block})"))
            out.add(o.audio_identical(got.audio, ref.audio,
                                      f"audio identical after prepare({block})"))
    out.piano_roll(48000, got.events, ref.events)
    return out


def rate_change(rig: JuceRig) -> Outcome:
    """One instance re-prepared at 48k, 44.1k, 96k, 48k: each render as a fresh one's."""
    out = Outcome()
    with closing(PluginHost(rig.vst3)) as host:
        for rate in (48000, 44100, 96000, 48000):
            host.prepare(rate, REF_BLOCK, channels=1)
            got = render(host, phrase(rate), REF_BLOCK)
            ref = rig.reference(rate)
            out.add(o.midi_identical(got.events, ref.events,
                                     f"MIDI at {rate} Hz as a fresh instance's"))
            out.add(o.latency_matches(got.latency, phrase(rate), got.audio,
                                      int(MAX_LATENCY_S * rate)))
            out.info[f"latency_{rate}"] = got.latency
            if got.events != ref.events:
                out.piano_roll(rate, got.events, ref.events)
    return out


def reset_between(rig: JuceRig) -> Outcome:
    """Render into the middle of a note, reset(), render again: nothing may leak across.

    After reset() the plugin ends the notes still sounding (note-offs at the start of the
    next render); apart from those the second render must equal a fresh instance's.
    """
    out = Outcome()
    ref = rig.reference()
    _reference_has_notes(out, ref)
    audio = phrase(48000)
    cut = int(1.3 * 48000)  # inside the second note
    with closing(rig.fresh()) as host:
        first = render(host, audio[:cut], REF_BLOCK)
        held = {(n.channel, n.pitch) for n in o.notes_of(first.events) if n.off is None}
        host.reset()
        second = render(host, audio, REF_BLOCK)
    ended = [e for e in second.events if e[0] == 0 and o.is_note_off(e[1])
             and ((e[1][0] & 0x0F) + 1, e[1][1]) in held]
    rest = [e for e in second.events if e not in ended]
    out.info.update(held_at_reset=sorted(p for _, p in held), ended_at_start=len(ended))
    out.add(o.Check("notes held at reset() are ended at once", len(ended) == len(held),
                    f"{len(held)} held, {len(ended)} note-off(s) at sample 0"))
    out.add(o.midi_identical(rest, ref.events, "then MIDI identical to a fresh instance's"))
    out.add(o.no_stuck_notes(second.events))
    out.piano_roll(48000, second.events, ref.events)
    return out


def realtime(rig: JuceRig) -> Outcome:
    """Live rendering paced at real time vs the offline reference; no heap calls live.

    Heap calls are counted inside processBlock (the plugin's binary, JUCE's VST3 wrapper
    included) on live renders only: offline the engine may run the model inline on the
    audio thread, and ONNX Runtime allocates.
    """
    out = Outcome()
    ref = rig.reference()
    audio = phrase(48000)
    with closing(rig.fresh()) as host:
        host.set_pacing(1.0)
        got = render(host, audio, REF_BLOCK, realtime=True)
    ref_notes = o.sung_notes(ref.events, 48000)
    out.add(o.live_notes_cover(got.events, ref_notes, 48000, REALTIME_TOLERANCE_S,
                               "real-time notes as offline"))
    out.add(o.no_stuck_notes(got.events))
    out.add(o.finite(got.audio))
    out.add(o.passes_through(audio, got.audio, got.latency))
    out.add(o.no_allocations(got.allocations))
    if got.allocations is None:
        out.info["heap_calls"] = ("not counted (run through `vocalmidi dawtest`, which "
                                  "preloads the counter)")
    out.info.update(render_s=round(got.seconds, 3), audio_s=round(audio.size / 48000, 3))
    out.piano_roll(48000, got.events, ref.events)
    return out


def _two_patterns(rig: JuceRig, lane_for, params=None) -> tuple[Render, Render]:
    renders = []
    for blocks in (4096, [333, 1500, 64, 2222]):
        with closing(rig.fresh(48000, 4096, params)) as host:
            renders.append(render(host, phrase(48000), blocks, lane=lane_for(host)))
    return renders[0], renders[1]


def _set(name: str, value: float | str):
    return lambda host: host.set_parameter(name, value)


def automate_sensitivity(rig: JuceRig) -> Outcome:
    """Sensitivity jumps every 700 samples (several times per 4096 block)."""
    out = Outcome(info={"lane": "Sensitivity 0.3/0.8 alternating every 700 samples"})
    n = phrase(48000).size

    def lane(_host: PluginHost):
        return [(s, _set("Sensitivity", 0.3 if (s // 700) % 2 else 0.8)) for s in range(0, n, 700)]

    a, b = _two_patterns(rig, lane)
    out.add(o.midi_identical(b.events, a.events, "same MIDI for other host block sizes"))
    out.add(o.no_stuck_notes(a.events))
    out.add(o.finite(a.audio))
    pitches = {n.pitch for n in o.notes_of(a.events)}
    out.add(o.Check("only sung pitches", pitches <= set(signals.PHRASE_NOTES),
                    f"{sorted(pitches)}"))
    out.piano_roll(48000, b.events, a.events)
    return out


def automate_key(rig: JuceRig) -> Outcome:
    """Scale Major; the key moves from C to F# at 0.9 s, mid-block: later notes follow."""
    change = int(0.9 * 48000) + 123
    out = Outcome(info={"lane": f"Key C -> F# at sample {change}", "scale": "Major"})
    a, b = _two_patterns(rig, lambda _h: [(change, _set("Key", "F#"))], {"Scale": "Major"})
    out.add(o.midi_identical(b.events, a.events, "same MIDI for other host block sizes"))
    out.add(o.no_stuck_notes(a.events))
    c_major, fs_major = {0, 2, 4, 5, 7, 9, 11}, {6, 8, 10, 11, 1, 3, 5}
    notes = o.notes_of(a.events)
    # A note-on leaves up to the reported latency after the voice: notes sent before the
    # change were decided in C, notes sent a latency after it were sung after it.
    before = [n.pitch for n in notes if n.on < change]
    after = [n.pitch for n in notes if n.on > change + a.latency]
    out.add(o.Check("notes sent before the change in C major",
                    bool(before) and all(p % 12 in c_major for p in before), f"{before}"))
    out.add(o.Check("notes sung after the change in F# major",
                    bool(after) and all(p % 12 in fs_major for p in after), f"{after}"))
    out.piano_roll(48000, a.events, rig.reference().events)
    return out


def automate_model(rig: JuceRig) -> Outcome:
    """The Model parameter switches from the default (vocalnote-s) to crepe-tiny at 0.9 s (kept
    at the default if crepe-tiny is not pulled)."""
    change = int(0.9 * 48000) + 77
    out = Outcome(info={"lane": f"Model vocalnote-s -> crepe-tiny at sample {change}"})
    latencies: list[int] = []

    def lane(host: PluginHost):
        def switch(h: PluginHost) -> None:
            latencies.append(h.latency_samples)
            h.set_parameter("Model", "crepe-tiny")
        return [(change, switch)]

    a, b = _two_patterns(rig, lane)
    out.info.update(latency_before=latencies[0], latency_after=a.latency)
    out.add(o.midi_identical(b.events, a.events, "same MIDI for other host block sizes"))
    out.add(o.no_stuck_notes(a.events))
    out.add(o.finite(a.audio))
    after = [n for n in o.notes_of(a.events) if n.on > change]
    out.add(o.Check("notes still come after the switch", bool(after),
                    f"{[n.pitch for n in after]}"))
    out.piano_roll(48000, a.events, rig.reference().events)
    return out


STATE_PARAMS: dict[str, float | str] = {
    "Scale": "Minor", "Key": "D", "Sensitivity": 0.7, "Min Note Length": "80",
    "Velocity Mode": "Fixed", "Fixed Velocity": "90", "MIDI Channel": "3", "Monitor Mix": 0.3,
}


def render_restored(plugin: Path, state: bytes, audio: np.ndarray,
                    output_channels: int | None = None) -> Render:
    """A new instance of ``plugin`` given ``state`` before prepare, then rendered offline."""
    with closing(PluginHost(plugin)) as host:
        host.set_state(state)
        host.prepare(48000, REF_BLOCK, channels=1, output_channels=output_channels)
        return render(host, audio, REF_BLOCK)


def state_settings_applied(events: list[o.Event], what: str) -> o.Check:
    """STATE_PARAMS's MIDI channel 3 and fixed velocity 90 are what the notes carry."""
    chans = {d[0] & 0x0F for _, d in events}
    return o.Check(what, bool(events) and chans == {2}
                   and all(d[2] == 90 for _, d in o.note_ons(events)),
                   f"channels {sorted(c + 1 for c in chans)}")


def state_restore(rig: JuceRig) -> Outcome:
    """Save the state of a tweaked instance, restore it into a new one: identical output."""
    out = Outcome(info={"params": STATE_PARAMS})
    audio = phrase(48000)
    with closing(rig.fresh(params=STATE_PARAMS)) as host:
        a = render(host, audio, REF_BLOCK)
        state = host.get_state()
    b = render_restored(rig.vst3, state, audio)
    out.add(o.midi_identical(b.events, a.events, "MIDI identical after restore"))
    out.add(o.audio_identical(b.audio, a.audio, "audio identical after restore"))
    out.add(state_settings_applied(b.events,
                                   "restored settings in effect (MIDI channel 3, velocity 90)"))
    out.info["state_bytes"] = len(state)
    out.piano_roll(48000, b.events, a.events)
    return out


def bypass_toggle(rig: JuceRig) -> Outcome:
    """Bypass on from 1.2 s to 1.9 s (mid-note, mid-block): no notes while bypassed, held
    notes ended, the dry path keeps its latency (VST3 asks bypassed plugins to)."""
    on, off = int(1.2 * 48000) + 11, int(1.9 * 48000) + 5
    out = Outcome(info={"bypassed": f"samples {on}..{off}"})
    audio = phrase(48000)
    with closing(rig.fresh(48000, 1024)) as host:
        lane = [(on, _set("Bypass", 1.0)), (off, _set("Bypass", 0.0))]
        got = render(host, audio, 1024, lane=lane)
    during = [e for e in o.note_ons(got.events) if on <= e[0] < off]
    out.add(o.Check("no note-on while bypassed", not during, o.fmt_events(during) or "none"))
    out.add(o.no_stuck_notes(got.events))
    open_at_on = [n for n in o.notes_of(got.events)
                  if n.on < on and (n.off is None or n.off > on + 1024)]
    out.add(o.Check("notes sounding at bypass end within a block", not open_at_on,
                    f"{[n.pitch for n in open_at_on]}" if open_at_on else "none"))
    out.add(o.passes_through(audio, got.audio, got.latency,
                             what="audio passes through (delayed by the latency), bypassed or not"))
    out.piano_roll(48000, got.events, rig.reference().events)
    return out


def parallel_instances(rig: JuceRig, count: int = 4) -> Outcome:
    """``count`` instances render at once on their own threads: each as the reference."""
    out = Outcome(info={"instances": count})
    ref = rig.reference()
    _reference_has_notes(out, ref)
    hosts = [rig.fresh(48000, 2048) for _ in range(count)]
    blocks = [(512, 2048, 333, 1)[i % 4] for i in range(count)]
    renders = run_at_once([partial(render, h, phrase(48000), b)
                           for h, b in zip(hosts, blocks, strict=True)])
    for h in hosts:
        h.close()
    for i, r in enumerate(renders):
        if isinstance(r, BaseException):
            out.add(o.Check(f"instance {i} rendered", False, repr(r)))
            continue
        out.add(o.midi_identical(r.events, ref.events, f"instance {i}: MIDI as the reference"))
        out.add(o.audio_identical(r.audio, ref.audio, f"instance {i}: audio as the reference"))
    return out


def hostile_input(rig: JuceRig, kind: str) -> Outcome:
    """Silence, DC, full-scale noise, or NaN/Inf/denormals in the phrase; offline then live."""
    make = {
        "silence": lambda: signals.silence(2.0, 48000),
        "dc": lambda: signals.dc(2.0, 48000),
        "noise": lambda: signals.full_scale_noise(2.0, 48000),
        "nan-inf-denormal": lambda: signals.hostile(48000),
    }[kind]
    audio = make()
    out = Outcome()
    # Live too, at 4x real time, with a second of silence after: a live stream goes on,
    # and notes decided late by the analysis thread end in the blocks that follow.
    live_in = np.concatenate([audio, signals.silence(1.0, 48000)])
    with closing(rig.fresh()) as host:
        got = render(host, audio, REF_BLOCK)
        host.set_pacing(4.0)
        live = render(host, live_in, REF_BLOCK, realtime=True)
    for name, r, x in (("offline", got, audio), ("live", live, live_in)):
        out.add(o.finite(r.audio))
        out.add(o.no_stuck_notes(r.events))
        out.add(o.passes_through(x, r.audio, r.latency,
                                 what=f"{name}: audio passes through (non-finite in: silence out)"))
    if kind in ("silence", "dc"):
        out.add(o.no_midi(got.events, "no notes from " + kind))
    if kind == "nan-inf-denormal":
        ref = rig.reference()
        out.add(o.midi_identical(got.events, ref.events,
                                 "MIDI as the clean phrase's (bad samples only in silence)"))
        out.piano_roll(48000, got.events, ref.events)
    out.info.update(render_s=round(got.seconds, 3), notes=len(o.notes_of(got.events)))
    return out


def transport(rig: JuceRig) -> Outcome:
    """Play, stop at 1.0 s, play again from bar 9 at 1.5 s: the notes do not care."""
    out = Outcome()
    ref = rig.reference()

    def play(pos: int):
        return lambda h: h.set_transport(True, pos, 120.0)

    lane = [(0, play(0)), (48000, lambda h: h.set_transport(False, 48000, 120.0)),
            (72000, play(16 * 48000))]
    with closing(rig.fresh()) as host:
        got = render(host, phrase(48000), REF_BLOCK, lane=lane)
    _same_as_reference(out, got, ref)
    return out


def broken_model(rig: JuceRig, kind: str, genuine: bytes | None) -> Outcome:
    """A cache without the model, or with its bytes corrupted: audio passes, no notes, no crash."""
    out = Outcome()
    audio = phrase(48000)
    with broken_model_cache(kind, genuine), closing(rig.fresh()) as host:
        got = render(host, audio, REF_BLOCK)
        live = render(host, audio, REF_BLOCK, realtime=True)
    for name, r in (("offline", got), ("live", live)):
        out.add(o.no_midi(r.events, f"{name}: no notes without a usable model"))
        out.add(o.finite(r.audio))
        out.add(o.passes_through(audio, r.audio, r.latency,
                                 what=f"{name}: audio passes, delayed by the reported latency"))
    out.info["latency"] = got.latency
    return out
