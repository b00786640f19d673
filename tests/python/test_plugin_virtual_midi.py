"""Virtual MIDI out: the plugin publishes its notes on a JACK MIDI port named "VocalMIDI".

For hosts that route no MIDI out of plugins (Logic) and for the Standalone: any program
that records MIDI connects to the port. The take plays into the real Standalone (on by
default there) on a private JACK server (dummy driver); a JACK MIDI client of the test's
records what the port sends, at JACK frame times, and must get the pitches of the offline
reference (the VST3 bounced by our JUCE host), at the reference's times apart.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vocalmidi import native
from vocalmidi.dawtest import oracles as o
from vocalmidi.dawtest.jack_midi import JackMidiRecorder
from vocalmidi.dawtest.juce_cases import REALTIME_TOLERANCE_S
from vocalmidi.dawtest.juce_host import JuceRig, phrase
from vocalmidi.hosts import PluginHost
from vocalmidi.hosts.jack_server import BufferPlayer, JackServer
from vocalmidi.hosts.standalone import StandaloneRun

pytestmark = [pytest.mark.jack, pytest.mark.slow]

SR = 48000


def virtual_ports(rec: JackMidiRecorder, timeout: float) -> list[Any]:
    """The MIDI outputs of clients named VocalMIDI*, once one appears."""
    return rec.wait_for_ports(lambda n: n.startswith("VocalMIDI") and n.endswith(":midi_out"),
                              timeout, is_midi=True, is_output=True)


def _connect_once_active(rec: JackMidiRecorder, port: Any, timeout: float = 5.0) -> None:
    """Connect ``port`` to the recorder. A JACK client registers its ports before it
    activates, and until then a connection is refused (a fresh-clone CI run, 2026-12-06:
    "Error connecting 'VocalMIDI-01:midi_out' -> 'rec:in' (-1)"), as a patchbay would
    find; so try again for a few seconds."""
    import jack

    deadline = time.monotonic() + timeout
    while True:
        try:
            rec.client.connect(port, rec.port)
            return
        except jack.JackErrorCode:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def reference() -> list[o.Note]:
    """The phrase's notes as the VST3 bounces them offline in our JUCE host (corrected
    early guesses left out, oracles.settled)."""
    notes = o.settled(o.notes_of(JuceRig(native.vst3_path()).reference().events), SR)
    assert len(notes) >= 3
    return notes


def test_plugin_keeps_its_virtual_port_off_by_default(model_cache: Path) -> None:
    with PluginHost(native.vst3_path()) as host:
        assert host.get_parameter("Virtual MIDI Out") == 0.0
        assert host.parameter_text("Virtual MIDI Out") == "Off"


def test_standalone_sends_the_take_to_its_virtual_jack_port(model_cache: Path,
                                                            reference: list[o.Note]) -> None:
    program = native.plugin_paths().standalone
    assert program is not None, "the Standalone is not built"
    audio = phrase(SR)
    with StandaloneRun(program, cache=model_cache, sample_rate=SR, period=256) as run:
        rec = JackMidiRecorder(run.server.name)
        try:
            ports = virtual_ports(rec, timeout=10.0)
            assert len(ports) == 1, f"no single VocalMIDI MIDI port: {ports}; {run.log()[-300:]}"
            # JACK gives each instance its own name: the Standalone's audio client came
            # first as "VocalMIDI", so the port's client is "VocalMIDI-01" (or the other way).
            name = ports[0].name
            _connect_once_active(rec, ports[0])
            player = BufferPlayer(run.server.name, audio)
            for port in run.inputs:
                player.client.connect(player.port, port)
            start = player.play()
            player.wait(timeout=30.0)
            time.sleep(1.0)  # the last note-off leaves a latency after the take
            player.close()
        finally:
            rec.close()
    got = o.settled(o.notes_of([(frame - start, data) for frame, data in rec.events]), SR)
    # The reference's notes in order (the JACK I/O may add up to 0.1 s, checked below), and
    # at most one early decision per note that the note model corrects
    # (oracles.live_notes_cover).
    want = [(n.on / SR, n.pitch) for n in reference]
    got, extra = o.cover_reference(got, want, SR, 0.2)
    assert len(got) == len(reference), (got, extra, reference)
    assert len(extra) <= o.BLIPS_PER_NOTE * len(reference), (got, extra, reference)
    assert o.no_stuck_notes([(f, d) for f, d in rec.events]).ok
    # Sample-accurate offsets kept as JACK frame times: the notes lie as far apart as in
    # the reference (live analysis may move each onset by the real-time tolerance, as in
    # dawtest's realtime-vs-offline), and the whole take later by what the Standalone's
    # JACK I/O and the port add (one JACK period and one block here), no more.
    shift = np.array([g.on - r.on for g, r in zip(got, reference, strict=True)]) / SR
    assert np.all(np.abs(shift - np.median(shift)) <= REALTIME_TOLERANCE_S), shift
    assert 0.0 <= np.median(shift) <= 0.1, shift
    print(f"{name}: note-ons {shift * 1000} ms after the reference's")


def test_each_instance_gets_a_port_of_its_own_and_off_closes_it(
        model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with JackServer(SR, 256) as server:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)  # the plugins' libjack reads it
        hosts = [PluginHost(native.vst3_path()) for _ in range(2)]
        rec = JackMidiRecorder(server.name)
        try:
            for host in hosts:
                host.set_parameter("Virtual MIDI Out", 1.0)
                host.prepare(SR, 256, channels=1)
                host.process(np.zeros(256, np.float32))

            def ports(count: int) -> list[str]:
                deadline = time.monotonic() + 10.0
                while True:
                    # The plugins' message-thread timer opens and closes the ports.
                    hosts[0].pump_messages(100)
                    names = sorted(p.name for p in virtual_ports(rec, timeout=0.0))
                    if len(names) == count or time.monotonic() > deadline:
                        return names

            assert ports(2) == ["VocalMIDI-01:midi_out", "VocalMIDI:midi_out"]
            hosts[0].set_parameter("Virtual MIDI Out", 0.0)
            hosts[0].process(np.zeros(256, np.float32))
            assert len(ports(1)) == 1
        finally:
            rec.close()
            for host in hosts:
                host.close()
