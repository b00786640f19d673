"""`vocalmidi live` end to end on a real JACK server (dummy driver, no sound card).

Each test module run starts its own jackd under a unique server name. A JACK client in
the test plays a rendered melody into our input port; an rtmidi input (JACK API) on our
MIDI output receives what the C++ process callback sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.jack

REPO = Path(__file__).resolve().parents[2]
SR = 48000
MELODY = [(60, 0.45), (64, 0.45), (67, 0.45), (72, 0.6), (67, 0.45)]
GAP = 0.15


def render_melody(lead_in: float = 0.5) -> np.ndarray:
    """A voice-like harmonic tone per note, with attack/release ramps and gaps."""
    parts = [np.zeros(int(SR * lead_in), np.float32)]
    for pitch, dur in MELODY:
        t = np.arange(int(SR * dur)) / SR
        f0 = 440.0 * 2 ** ((pitch - 69) / 12) * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        tone = sum(0.5 / k * np.sin(k * phase) for k in range(1, 7))
        env = np.minimum(1.0, np.minimum(t / 0.03, (dur - t) / 0.03))
        parts.append((0.25 * tone * env).astype(np.float32))
        parts.append(np.zeros(int(SR * GAP), np.float32))
    parts.append(np.zeros(int(SR * 0.6), np.float32))
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def jack_server() -> Iterator[str]:
    """A private jackd (dummy driver, 48 kHz, 256-frame periods); yields its name."""
    from vocalmidi.hosts.jack_server import JackServer

    with JackServer(SR, 256, sync=False) as server:
        old = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = server.name
        try:
            yield server.name
        finally:
            if old is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = old


class Player:
    """A JACK client that plays a buffer once into the ports it is connected to."""

    def __init__(self, server: str, audio: np.ndarray) -> None:
        import jack

        self.audio = audio
        self.pos = -1  # -1: waiting for play()
        self.client = jack.Client(f"player-{uuid.uuid4().hex[:4]}", servername=server)
        self.port = self.client.outports.register("out")
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        buf = self.port.get_array()
        if self.pos < 0 or self.pos >= self.audio.size:
            buf[:] = 0
            return
        chunk = self.audio[self.pos : self.pos + frames]
        buf[: chunk.size] = chunk
        buf[chunk.size :] = 0
        self.pos += frames

    def play_and_wait(self) -> None:
        self.pos = 0
        deadline = time.monotonic() + self.audio.size / SR * 3 + 5
        while self.pos < self.audio.size:
            assert time.monotonic() < deadline, "the JACK server stopped running our player"
            time.sleep(0.02)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


class Receiver:
    """An rtmidi input on JACK that records (message, arrival time) pairs."""

    def __init__(self, name: str) -> None:
        import rtmidi

        self.messages: list[tuple[list[int], float]] = []
        self.midi = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name)
        self.midi.open_virtual_port("in")
        self.port = f"{name}:in"
        self.midi.set_callback(lambda msg, _: self.messages.append((msg[0], time.monotonic())))

    def notes(self) -> tuple[list[int], int]:
        """Pitches of the note-ons in order, and the count of note-offs."""
        ons = [m[1] for m, _ in self.messages if m[0] & 0xF0 == 0x90 and m[2] > 0]
        offs = sum(1 for m, _ in self.messages
                   if m[0] & 0xF0 == 0x80 or (m[0] & 0xF0 == 0x90 and m[2] == 0))
        return ons, offs

    def close(self) -> None:
        self.midi.close_port()
        self.midi.delete()


def _connect(server: str, src: str, dst: str) -> None:
    import jack

    c = jack.Client(f"patch-{uuid.uuid4().hex[:4]}", servername=server)
    try:
        c.connect(src, dst)
    finally:
        c.close()


def test_live_session_plays_the_melody_to_jack_midi_and_rtmidi(
    jack_server: str, model_cache: Path
) -> None:
    from vocalmidi.live import LiveSession
    from vocalmidi.transcribe import resolve_model

    model, _ = resolve_model()
    session = LiveSession(str(model.path), model.adapter, server=jack_server,
                          client_name="vmlive")
    player = Player(jack_server, render_melody())
    direct, forwarded = Receiver("recv-direct"), Receiver("recv-fwd")
    try:
        session.start()
        assert session.client is not None and session.forwarder is not None
        assert session.client.sample_rate == SR and session.client.buffer_size == 256
        _connect(jack_server, f"{player.client.name}:out", session.client.input_port)
        _connect(jack_server, session.client.output_port, direct.port)
        _connect(jack_server, session.forwarder.port_name, forwarded.port)
        player.pos = 0
        while player.pos < player.audio.size:
            session.pump()
            time.sleep(0.005)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            session.pump()
            time.sleep(0.005)
        stats = session.stats()
    finally:
        sent_on_stop = session.stop()
        time.sleep(0.2)
        player.close()

    expected = [p for p, _ in MELODY]
    for receiver in (direct, forwarded):
        ons, offs = receiver.notes()
        receiver.close()
        if stats["xruns"]:
            # A JACK xrun (on a busy 2-core CI machine a client, usually our Python
            # player, misses its cycle) leaves a gap in the sung note, and the session
            # rightly ends the note there and starts it again: [60, 64, 64, 67, ...].
            # The melody must still be there, in order, with nothing else.
            melody = [p for i, p in enumerate(ons) if i == 0 or p != ons[i - 1]]
        else:
            melody = ons
        assert melody == expected, f"{receiver.port} got {ons} ({stats['xruns']} xruns)"
        assert offs == len(ons), "every note-on must be ended"
    assert sent_on_stop == 0  # the melody ended in silence: nothing was left sounding
    assert stats["cycles"] > 0 and stats["dropped_events"] == 0
    assert stats["latency_samples"] >= 256
    assert stats["callback_us_mean"] > 0


def test_live_cli_stops_cleanly_on_ctrl_c_with_note_offs(
    jack_server: str, model_cache: Path
) -> None:
    """SIGINT while a note sounds: the CLI exits 0 and the note-off reaches the port."""
    # A long held note, interrupted in the middle.
    t = np.arange(int(SR * 8)) / SR
    tone = sum(0.5 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 6))
    held = (0.25 * tone * np.minimum(1, t / 0.03)).astype(np.float32)
    player = Player(jack_server, held)
    recv = Receiver("recv-cli")
    env = {**os.environ, "JACK_DEFAULT_SERVER": jack_server,
           "PYTHONPATH": str(REPO / "pycontrol") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vocalmidi", "live", "--quiet", "--name", "vmcli",
         "--midi-api", "none", "--connect", f"{player.client.name}:out",
         "--connect", recv.port],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while "vmcli:in" not in " ".join(p.name for p in player.client.get_ports()):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the live client did not appear"
            time.sleep(0.1)
        time.sleep(0.3)  # connections are made right after the ports appear
        player.pos = 0
        deadline = time.monotonic() + 10
        while not recv.notes()[0]:
            assert time.monotonic() < deadline, "no note-on arrived"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        player.close()
    ons, offs = recv.notes()
    recv.close()
    assert proc.returncode == 0, err
    # A3, possibly after an early decision the default note model corrects on this plain
    # tone (dawtest.oracles.BLIPS_PER_NOTE); every note ended, the sounding one when live
    # stops.
    assert ons[-1:] == [57] and len(ons) <= 2, ons
    assert offs == len(ons), "the sounding note must be ended when live stops"
    assert "\ton \tA3\t57" in out
    assert "1 note(s) ended on stop" in err
