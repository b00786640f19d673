"""The built VocalMIDI VST3 in our own headless JUCE host: the MIDI it emits, as a DAW sees it.

pedalboard (test_plugin_vst3.py) cannot see MIDI output; vocalmidi.hosts can. A rendered
sung tone goes in; note-ons must come out at the right pitch, at plausible sample
positions, the same for any block size when rendering offline, with the dry audio passing
through delayed by the latency the plugin reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_plugin_support import model_cache, swiftf0_onnx, use_cache  # noqa: F401 (fixtures)

from vocalmidi import native
from vocalmidi.dawtest import oracles as o
from vocalmidi.hosts import MidiMessage, PluginHost, PluginHostError

SR = 48000
A3, E4 = 57, 64


def tone(seconds: float, f0: float, vibrato: float = 0.3) -> np.ndarray:
    """A voice-like tone: harmonics, 5.5 Hz vibrato of +-``vibrato`` semitones, 40 ms fade
    in/out."""
    t = np.arange(int(seconds * SR)) / SR
    freq = f0 * 2 ** (vibrato / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / SR
    x = sum((0.5 / k) * np.sin(k * phase) for k in range(1, 8))
    env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (t[-1] - t) / 0.04)
    return (0.3 * x * env).astype(np.float32)


def phrase() -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Silence, A3 for 0.8 s, a gap, E4 for 0.8 s, silence; and (onset, offset, note)."""
    gap = np.zeros(int(0.4 * SR), np.float32)
    parts = [gap, tone(0.8, 220.0), gap, tone(0.8, 329.63), gap, gap]
    truth, pos = [], 0
    for part, note in zip(parts, [None, A3, None, E4, None, None], strict=True):
        if note is not None:
            truth.append((pos, pos + part.size, note))
        pos += part.size
    return np.concatenate(parts), truth


@pytest.fixture
def vst3(request: pytest.FixtureRequest) -> Path:
    """The built VocalMIDI.vst3, with VOCALMIDI_CACHE pointing at a cache holding SwiftF0."""
    request.getfixturevalue("use_cache")
    return native.vst3_path()


@pytest.fixture
def host(vst3: Path) -> PluginHost:
    h = PluginHost(vst3)
    h.prepare(SR, 4096, channels=1)
    yield h
    h.close()


def notes_of(midi: list[MidiMessage]) -> list[tuple[int, int, int]]:
    """Pair note-ons with their note-offs: (on sample, off sample, note)."""
    open_notes: dict[int, int] = {}
    out = []
    for m in midi:
        if m.is_note_on:
            open_notes[m.note] = m.sample
        elif m.is_note_off and m.note in open_notes:
            out.append((open_notes.pop(m.note), m.sample, m.note))
    assert not open_notes, f"notes never ended: {open_notes}"
    return sorted(out)


def settled(notes: list[tuple[int, int | None, int]]) -> list[tuple[int, int | None, int]]:
    """(on, off, note) tuples without corrected early guesses (oracles.settled): the
    default note model may start a note on a neighbour for a few ms and correct it (on
    this plain tone stage 12 starts A#3 for 15 ms, then A3)."""
    kept = o.settled([o.Note(on, off, p, 0, 1) for on, off, p in notes], SR)
    return [(n.on, n.off, n.pitch) for n in kept]


def test_loads_as_a_midi_producing_vst3(host: PluginHost) -> None:
    assert host.name == "VocalMIDI" and host.format == "VST3"
    assert host.produces_midi
    assert (host.input_channels, host.output_channels) == (1, 1)


def test_sung_notes_come_out_at_plausible_samples(host: PluginHost) -> None:
    audio, truth = phrase()
    out, midi = host.process(audio, 512, realtime=False)
    latency = host.latency_samples  # final once the model is loaded (offline: before audio)
    notes = settled(notes_of(midi))
    assert [n for _, _, n in notes] == [A3, E4], notes_of(midi)
    for (on, off, _), (t_on, t_off, _) in zip(notes, truth, strict=True):
        # Emitted after the voice starts, no later than the reported latency plus the time
        # it takes to be sure of a note (min note length, attack).
        assert t_on <= on <= t_on + latency + int(0.15 * SR), (on, t_on, latency)
        assert t_off <= off <= t_off + latency + int(0.2 * SR), (off, t_off, latency)
    assert all(m.channel == 1 for m in midi)
    assert out.shape == audio.shape


def test_continuous_pitch_bend_keeps_in_tune_notes_in_tune(host: PluginHost) -> None:
    # Two steady in-tune tones: between 60 ms after each note-on and 60 ms before its
    # note-off, the bend in effect stays within 3 cents (the model's own fine pitch, which
    # the bends followed until 2026-12-07, read such tones up to 13 cents flat; now they
    # read the period the audio shows near it). Continuous sends a bend when it changes.
    gap = np.zeros(int(0.4 * SR), np.float32)
    audio = np.concatenate([gap, tone(0.8, 220.0, vibrato=0.0), gap,
                            tone(0.8, 329.63, vibrato=0.0), gap, gap])
    host.set_parameter("Pitch Bend", "Continuous")
    _, midi = host.process(audio, 512, realtime=False)
    bend, held, in_effect = 0.0, {}, []  # (sample, semitones) after each bend
    for m in midi:
        if m.data[0] & 0xF0 == 0xE0:
            bend = ((m.data[2] << 7 | m.data[1]) - 8192) / 8192 * 2.0  # Bend Range 2
            in_effect.append((m.sample, bend))
    for on, off, pitch in notes_of(midi):
        grid = np.arange(on + int(0.06 * SR), off - int(0.06 * SR), SR // 100)
        held[pitch] = [next((b for t, b in reversed(in_effect) if t <= g), 0.0) for g in grid]
    assert {A3, E4} <= set(held), held
    for pitch in (A3, E4):
        bends = np.abs(held[pitch])
        assert len(bends) > 40, (pitch, bends)
        assert np.percentile(bends, 90) < 0.03, (pitch, bends)


def test_dry_audio_passes_delayed_by_the_reported_latency(host: PluginHost) -> None:
    audio, _ = phrase()
    out, _ = host.process(audio, 1000, realtime=False)
    latency = host.latency_samples
    assert 0 < latency < SR // 2
    np.testing.assert_allclose(out[latency:], audio[: audio.size - latency], atol=1e-6)
    assert np.abs(out[:latency]).max() < 1e-6


def test_offline_output_is_identical_for_any_block_size(host: PluginHost) -> None:
    audio, _ = phrase()
    results = {}
    for block in (4096, 1, 64, 500):
        host.reset()
        host.prepare(SR, 4096, channels=1)  # a fresh start, as a DAW's offline bounce does
        out, midi = host.process(audio, block, realtime=False)
        results[block] = (out, [(m.sample, m.data) for m in midi])
    ref_audio, ref_midi = results[4096]
    assert len(ref_midi) >= 4
    for block, (out, midi) in results.items():
        assert midi == ref_midi, f"block size {block}"
        np.testing.assert_array_equal(out, ref_audio)


def test_parameters_by_name_shape_the_midi(host: PluginHost) -> None:
    params = host.parameters
    assert {"Input Gain", "Sensitivity", "Scale", "Key", "MIDI Channel", "Monitor Mix",
            "Latency Mode", "Bypass"} <= set(params)
    assert len(params) < 50  # no MIDI-CC emulation flood
    assert params["Input Gain"].label == "dB"
    host.set_parameter("MIDI Channel", "10")
    host.set_parameter("Scale", "Major")
    host.set_parameter("Key", "C")
    assert host.parameters["Scale"].text == "Major"
    audio = np.concatenate([np.zeros(SR // 4, np.float32), tone(0.8, 233.08),  # A#3
                            np.zeros(SR // 2, np.float32)])
    _, midi = host.process(audio, 256, realtime=False)
    ons = [m for m in midi if m.is_note_on]
    assert ons and all(m.channel == 10 for m in midi if m.is_note_on or m.is_note_off)
    assert {m.note for m in ons} <= {57, 59}  # A#3 snapped into C major: A3 or B3
    with pytest.raises(PluginHostError, match="no parameter 'Gain'"):
        host.set_parameter("Gain", 0.5)


def test_latency_is_reported_once_the_model_is_loaded(host: PluginHost) -> None:
    # Realtime: the model loads in the background and the plugin announces its latency
    # from its own thread; the host picks the change up as a message.
    for _ in range(100):
        if host.latency_samples > 0:
            break
        host.pump_messages(50)
    assert 0 < host.latency_samples < SR // 2


def test_latency_follows_the_latency_mode(host: PluginHost) -> None:
    host.process(np.zeros(SR // 10, np.float32), realtime=False)
    fast = host.latency_samples
    host.set_parameter("Latency Mode", "Accurate")
    host.prepare(SR, 4096, channels=1)
    host.process(np.zeros(SR // 10, np.float32), realtime=False)
    assert host.latency_samples >= fast > 0


def test_aligned_midi_timing_records_live_what_offline_renders(vst3: Path) -> None:
    # At 1024-sample blocks, as many DAWs record: with "MIDI Timing" Aligned the note-ons of
    # a real-time run, moved back by the latency the plugin reports (as the host does when it
    # records), land on the very samples of an offline render; Immediate ones land up to a
    # block later.
    audio, _ = phrase()

    def recorded(timing: str, realtime: bool) -> list[tuple[int, int]]:
        with PluginHost(vst3) as h:
            h.set_parameter("MIDI Timing", timing)
            h.prepare(SR, 1024, channels=1)
            for _ in range(100):  # realtime: the model loads in the background
                if h.latency_samples > 0:
                    break
                h.pump_messages(50)
            _, midi = h.process(audio, 1024, realtime=realtime)
            h.pump_messages(50)
            return [(m.sample - h.latency_samples, m.note) for m in midi if m.is_note_on]

    offline = recorded("Immediate", realtime=False)
    assert [n for _, n in offline] == [A3, E4]
    assert recorded("Aligned", realtime=False) == offline
    assert recorded("Aligned", realtime=True) == offline
    late = [(t - t0) for (t, _), (t0, _) in zip(recorded("Immediate", realtime=True), offline,
                                                strict=True)]
    assert all(0 <= d <= 1024 + SR // 100 for d in late) and max(late) > 0, late


def test_state_round_trips_into_a_fresh_instance(host: PluginHost, vst3: Path) -> None:
    host.set_parameter("Scale", "Blues")
    host.set_parameter("Key", "F#")
    host.set_parameter("MIDI Channel", "5")
    state = host.get_state()
    with PluginHost(vst3) as other:
        assert other.parameters["Scale"].text == "Chromatic"
        other.set_state(state)
        assert other.parameters["Scale"].text == "Blues"
        assert other.parameters["Key"].text == "F#"
        assert other.parameters["MIDI Channel"].text == "5"
        other.prepare(SR, 512)
        _, midi = other.process(phrase()[0], realtime=False)
        assert {m.channel for m in midi if m.is_note_on} == {5}
        with pytest.raises(PluginHostError, match="not a VST3 state"):
            other.set_state(b"\x00\x01garbage" * 10)
        assert other.parameters["Scale"].text == "Blues"


def test_transport_stopped_or_playing_the_voice_still_plays(host: PluginHost) -> None:
    audio, _ = phrase()
    host.set_transport(False, 0)
    _, stopped = host.process(audio, 512, realtime=False)
    host.reset()
    host.set_transport(True, 10 * SR, bpm=96)
    _, playing = host.process(audio, 512, realtime=False)
    assert host.transport_position == 10 * SR + audio.size
    assert notes_of(stopped) == notes_of(playing)
    assert [n for _, _, n in settled(notes_of(stopped))] == [A3, E4]


def test_bypass_passes_audio_and_sends_no_notes(host: PluginHost) -> None:
    audio, _ = phrase()
    host.set_bypassed(True)
    out, midi = host.process(audio, 512, realtime=False)
    assert not [m for m in midi if m.is_note_on]
    lat = host.latency_samples
    np.testing.assert_allclose(out[lat:], audio[: audio.size - lat], atol=1e-6)


def test_stereo_input(vst3: Path) -> None:
    with PluginHost(vst3) as h:
        h.prepare(SR, 512, channels=2)
        audio, _ = phrase()
        out, midi = h.process(np.stack([audio, audio]), realtime=False)
        assert out.shape == (2, audio.size)
        assert [n for _, _, n in settled(notes_of(midi))] == [A3, E4]
