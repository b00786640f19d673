"""The headless JUCE host (vocalmidi.hosts) against real LV2 plugins from Debian's x42-plugins.

These check the host itself, independent of VocalMIDI: MIDI a plugin emits comes back at
the right samples, MIDI sent in arrives where it was put, parameters by name, state,
transport, channel layouts and the errors a user sees. The VocalMIDI plugin's own tests
through this host are in test_host_vocalmidi.py.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from vocalmidi.hosts import MidiMessage, PluginHost, PluginHostError, list_plugins

SR = 48000
LV2_DIR = Path("/usr/lib/lv2")
ONSET = LV2_DIR / "onsettrigger.lv2"  # audio in -> MIDI note per drum hit
ONSET_MONO = "Onset Trigger - Bassdrum Detection Mono"
MIDIFILTER = LV2_DIR / "midifilter.lv2"  # 30+ MIDI effects in one bundle

# The plugins come from Debian's x42-plugins (in the Makefile's APT_PACKAGES); without it
# every test here fails with "no such plugin: /usr/lib/lv2/...".


def kicks(starts_s: list[float], seconds: float = 2.0) -> np.ndarray:
    """Decaying 60 Hz bursts (bass-drum hits) at the given times, mono float32."""
    x = np.zeros(int(seconds * SR), dtype=np.float32)
    t = np.arange(int(0.1 * SR)) / SR
    hit = (0.8 * np.sin(2 * np.pi * 60 * t) * np.exp(-t * 30)).astype(np.float32)
    for s in starts_s:
        i = int(s * SR)
        x[i:i + hit.size] = hit[: x.size - i]
    return x


@pytest.fixture
def onset() -> PluginHost:
    host = PluginHost(ONSET, plugin=ONSET_MONO)
    host.prepare(SR, 4096, channels=1)
    yield host
    host.close()


def test_bundle_listing_names_every_plugin() -> None:
    rows = list_plugins(MIDIFILTER)
    names = {name for _, _, name in rows}
    assert {"MIDI Thru", "MIDI Quantization", "MIDI Delayline"} <= names
    assert all(fmt == "LV2" for fmt, _, _ in rows)


def test_emitted_notes_come_back_at_the_onsets(onset: PluginHost) -> None:
    starts = [0.2, 0.6, 1.0, 1.4]
    audio, midi = onset.process(kicks(starts), realtime=False)
    ons = [m for m in midi if m.is_note_on]
    offs = [m for m in midi if m.is_note_off]
    assert len(ons) == len(starts) == len(offs)
    for m, s in zip(ons, starts, strict=True):
        # The detector needs the attack to build up: a few ms to ~50 ms after the hit.
        assert 0 <= m.sample - s * SR < 0.05 * SR, (m.sample, s * SR)
        assert m.note == 24 and m.channel == 1
    # Note length follows the plugin's "Note Duration [ms]" (80 ms default).
    assert [f.sample - o.sample for o, f in zip(ons, offs, strict=True)] == [int(0.08 * SR)] * 4
    assert audio.shape == (0, 2 * SR)  # an analyser: audio in, no audio out


def test_midi_positions_do_not_depend_on_block_size(onset: PluginHost) -> None:
    x = kicks([0.13, 0.71, 1.29])
    results = {}
    for bs in (1, 64, 500, 4096):
        onset.reset()
        _, midi = onset.process(x, bs, realtime=False)
        results[bs] = [(m.sample, m.data) for m in midi]
    assert len(results[4096]) == 6
    assert all(r == results[4096] for r in results.values())
    # DAW-like random block sizes from an endless iterator.
    rng = random.Random(7)
    onset.reset()
    _, midi = onset.process(x, iter(lambda: rng.randint(1, 4096), None), realtime=False)
    assert [(m.sample, m.data) for m in midi] == results[4096]


def test_parameters_by_name_change_what_the_plugin_does(onset: PluginHost) -> None:
    params = onset.parameters
    assert "Midi Note" in params and len(params) == 8
    assert params["Midi Note"].text == "24"
    onset.set_parameter("Midi Note", "36")  # text, parsed by the plugin
    assert onset.parameters["Midi Note"].text == "36"
    onset.set_parameter("Note Duration [ms]", "160")
    _, midi = onset.process(kicks([0.5], 1.0), realtime=False)
    on, off = midi
    assert on.note == 36
    assert off.sample - on.sample == int(0.160 * SR)
    # A float is the normalised value; the plugin's text says what it means.
    onset.set_parameter("Note Duration [ms]", 0.25)
    ms = float(onset.parameter_text("Note Duration [ms]"))
    assert ms == float(onset.parameter_text("Note Duration [ms]", 0.25)) and ms > 160
    _, midi = onset.process(kicks([0.5], 1.0), realtime=False)
    assert abs((midi[1].sample - midi[0].sample) - ms / 1000 * SR) <= 1


def test_parameter_errors_are_one_clear_line(onset: PluginHost) -> None:
    with pytest.raises(PluginHostError, match="no parameter 'Pitch'.*Midi Note"):
        onset.set_parameter("Pitch", 0.5)
    with pytest.raises(PluginHostError, match="outside 0..1"):
        onset.set_parameter("Midi Note", 3.0)
    assert onset.parameters["Midi Note"].text == "24"  # nothing changed


def test_state_round_trips_into_a_fresh_instance(onset: PluginHost) -> None:
    onset.set_parameter("Midi Note", "40")
    state = onset.get_state()
    with PluginHost(ONSET, plugin=ONSET_MONO) as other:
        assert other.parameters["Midi Note"].text == "24"
        other.set_state(state)
        assert other.parameters["Midi Note"].text == "40"
        other.prepare(SR, 512)
        _, midi = other.process(kicks([0.3], 1.0), realtime=False)
        assert midi[0].note == 40
        with pytest.raises(PluginHostError, match="not an LV2 state of Onset Trigger"):
            other.set_state(b"\x00garbage")
        assert other.parameters["Midi Note"].text == "40"


def test_midi_sent_in_arrives_sample_accurately() -> None:
    notes = [MidiMessage.note_on(100, 60), MidiMessage.note_off(1000, 60),
             MidiMessage.note_on(4095, 64, 90), MidiMessage.note_on(4096, 67, 80)]
    with PluginHost(MIDIFILTER, plugin="MIDI Thru") as host:
        host.prepare(SR, 4096, channels=0)
        assert host.accepts_midi and host.produces_midi
        for bs in (1, 64, 500, 4096):
            audio, midi = host.process(np.zeros((0, 6000), np.float32), bs, midi_in=notes)
            assert midi == notes, bs
            assert audio.shape == (0, 6000)


def test_transport_position_and_tempo_reach_the_plugin() -> None:
    note = [MidiMessage.note_on(100, 60)]
    silence = np.zeros((0, SR), np.float32)
    with PluginHost(MIDIFILTER, plugin="MIDI Delayline") as host:  # delays by 1 beat
        host.prepare(SR, 512, channels=0)
        host.set_transport(True, 0, bpm=120)
        _, midi = host.process(silence, midi_in=note)
        assert [m.sample for m in midi] == [100 + SR // 2]
        assert host.transport_position == SR  # advanced while playing
        host.reset()
        host.set_transport(True, 0, bpm=60)
        _, midi = host.process(np.zeros((0, 2 * SR), np.float32), midi_in=note)
        assert [m.sample for m in midi] == [100 + SR]
    with PluginHost(MIDIFILTER, plugin="MIDI Quantization") as host:  # 1/16 grid at host tempo
        host.prepare(SR, 512, channels=0)
        grid = SR // 8  # a quarter beat at 120 BPM
        host.set_transport(True, 0, bpm=120)
        _, at_zero = host.process(silence, midi_in=[MidiMessage.note_on(grid + 100, 60)])
        host.set_transport(True, grid // 2, bpm=120)  # the song is half a grid step further
        _, shifted = host.process(silence, midi_in=[MidiMessage.note_on(grid + 100, 60)])
        host.set_transport(False, 0)
        host.process(silence)
        assert host.transport_position == 0  # stopped: the play head stays put
    # Quantised onto the song's grid: moving the song position moves the grid under the note.
    assert abs(at_zero[0].sample - 2 * grid) <= 1
    assert abs(shifted[0].sample - (2 * grid - grid // 2)) <= 1


def test_mono_and_stereo_layouts() -> None:
    with PluginHost(ONSET, plugin="Onset Trigger - Bassdrum Detection Stereo") as host:
        host.prepare(SR, 256, channels=2)
        assert (host.input_channels, host.output_channels) == (2, 0)
        x = np.stack([kicks([0.25], 0.5), np.zeros(SR // 2, np.float32)])
        _, midi = host.process(x)
        assert len([m for m in midi if m.is_note_on]) == 1
        with pytest.raises(PluginHostError, match="1 channel.*2 input channel"):
            host.process(kicks([0.25], 0.5))
        with pytest.raises(PluginHostError, match="does not accept 3 in"):
            host.prepare(SR, 256, channels=3)


def test_loading_errors_say_what_is_wrong(tmp_path: Path) -> None:
    with PluginHost() as host:
        with pytest.raises(PluginHostError, match="no such plugin"):
            host.load(tmp_path / "missing.vst3")
        junk = tmp_path / "notes.txt"
        junk.write_text("hello")
        with pytest.raises(PluginHostError, match="not a VST3 bundle"):
            host.load(junk)
        fake = tmp_path / "Fake.vst3"
        fake.mkdir()
        with pytest.raises(PluginHostError, match="not a loadable VST3"):
            host.load(fake)
        with pytest.raises(PluginHostError, match="holds [0-9]+ plugins, pick one.*MIDI Thru"):
            host.load(MIDIFILTER)
        with pytest.raises(PluginHostError, match="no plugin named 'Nope'"):
            host.load(MIDIFILTER, plugin="Nope")
        with pytest.raises(PluginHostError, match="no plugin is loaded"):
            host.prepare(SR, 512)
        host.load(MIDIFILTER, plugin="http://gareus.org/oss/lv2/midifilter#passthru")
        assert host.name == "MIDI Thru" and host.format == "LV2"
        with pytest.raises(PluginHostError, match="not prepared"):
            host.process(np.zeros(10, np.float32))
        host.prepare(SR, 64, channels=0)
        with pytest.raises(PluginHostError, match="block size 65 is outside 1..64"):
            host.process(np.zeros((0, 100), np.float32), 65)
        with pytest.raises(PluginHostError, match="outside the audio"):
            host.process(np.zeros((0, 100), np.float32), midi_in=[MidiMessage.note_on(100, 1)])
    with pytest.raises(PluginHostError, match="closed"):
        host.parameters["x"]


def test_many_hosts_and_threads_do_not_interfere() -> None:
    import threading

    results: dict[int, list[int]] = {}

    def run(i: int) -> None:
        with PluginHost(ONSET, plugin=ONSET_MONO) as host:
            host.prepare(SR, 1024)
            _, midi = host.process(kicks([0.1 + 0.1 * i], 1.0), realtime=False)
            results[i] = [m.sample for m in midi if m.is_note_on]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]
    firsts = [results[i][0] for i in range(4)]
    assert [b - a for a, b in itertools.pairwise(firsts)] == [int(0.1 * SR)] * 3
