"""A JACK MIDI client that records what arrives at its input, at JACK frame times.

The harness connects it to a MIDI output port of a program under test (Ardour's track
port, the plugin's virtual ``VocalMIDI`` port) on a private JACK server.
"""

from __future__ import annotations

import os
import time
from typing import Any

from vocalmidi.hosts.jack_server import import_jack


class JackMidiRecorder:
    """Records every MIDI event arriving at ``<client>:in`` as ``(jack_frame, bytes)``."""

    def __init__(self, server: str, name: str = "rec") -> None:
        self.client = import_jack().Client(f"{name}-{os.getpid()}", servername=server,
                                           no_start_server=True)
        self.port = self.client.midi_inports.register("in")
        self.events: list[tuple[int, bytes]] = []
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        start = self.client.last_frame_time
        for offset, data in self.port.incoming_midi_events():
            self.events.append((start + offset, bytes(data)))

    def wait_for_ports(self, match: Any, timeout: float, **kinds: bool) -> list[Any]:
        """Ports for which ``match(name)`` holds (``get_ports`` filters as ``kinds``), once
        at least one appears or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while True:
            ports = [p for p in self.client.get_ports(**kinds) if match(p.name)]
            if ports or time.monotonic() > deadline:
                return ports
            time.sleep(0.1)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
