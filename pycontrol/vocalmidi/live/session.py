"""One live session: the JACK client, the rtmidi forwarder and the note bookkeeping."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vocalmidi.errors import UsageError
from vocalmidi.live.midi_forward import MidiForwarder
from vocalmidi.live.native import LiveClient, LiveEvent

__all__ = ["LiveSession", "PlayedNote"]


@dataclass
class PlayedNote:
    """A note seen on the live output (``end_frame`` None while it sounds)."""

    channel: int
    pitch: int
    velocity: int
    start_frame: int
    end_frame: int | None = None


@dataclass
class LiveSession:
    """Run the engine live on JACK and forward its notes.

    Parameters
    ----------
    model_path : str
        ONNX model file.
    kind : str
        Its adapter (``swiftf0``, ...).
    params : mapping
        Engine parameters by name.
    server : str or None
        JACK server name (None: ``$JACK_DEFAULT_SERVER`` or the default).
    client_name : str
        JACK client name.
    midi_port : str or None
        rtmidi output to send to; None opens a virtual port.
    midi_api : str or None
        ``"jack"``, ``"alsa"``, or None for no rtmidi forwarding (the JACK MIDI port of
        the client still carries every event).
    connect : sequence of str
        JACK ports to connect: audio sources to our input, MIDI inputs to our output.
    """

    model_path: str
    kind: str = "swiftf0"
    params: Mapping[str, float] = field(default_factory=dict)
    server: str | None = None
    client_name: str = "vocalmidi"
    midi_port: str | None = None
    midi_api: str | None = "jack"
    connect: Sequence[str] = ()
    history: deque[PlayedNote] = field(default_factory=lambda: deque(maxlen=64))

    def __post_init__(self) -> None:
        self.client: LiveClient | None = None
        self.forwarder: MidiForwarder | None = None
        self._open: dict[tuple[int, int], PlayedNote] = {}
        self.started_at = 0.0
        self.notes_played = 0
        self.stop_events: list[LiveEvent] = []

    def start(self) -> None:
        """Open JACK, load the model, start processing, open the MIDI forwarder, connect."""
        self.client = LiveClient(self.client_name, self.server)
        try:
            self.client.load_model(self.model_path, self.kind)
            for name, value in self.params.items():
                self.client.set_param(name, value)
            self.client.start()
            if self.midi_api is not None:
                self.forwarder = MidiForwarder(self.midi_port, self.midi_api,
                                               client_name=f"{self.client_name}-rtmidi")
            for port in self.connect:
                self._connect(port)
        except BaseException:
            self.stop()
            raise
        self.started_at = time.monotonic()

    def _connect(self, port: str) -> None:
        assert self.client is not None
        try:
            self.client.connect(port, self.client.input_port)
        except UsageError:
            try:
                self.client.connect(self.client.output_port, port)
            except UsageError:
                raise UsageError(
                    f"cannot connect JACK port {port!r} to {self.client.input_port} "
                    f"or from {self.client.output_port}: check the name with jack_lsp"
                ) from None

    def pump(self) -> list[LiveEvent]:
        """Poll the callback's events, forward them, and update the note history."""
        if self.client is None:
            return []
        events = self.client.poll()
        for ev in events:
            if self.forwarder is not None:
                self.forwarder.send(ev)
            key = (ev.channel, ev.note)
            if ev.type == 0:
                note = PlayedNote(ev.channel, ev.note, ev.velocity, ev.frame)
                self._open[key] = note
                self.history.append(note)
                self.notes_played += 1
            elif ev.type == 1 and key in self._open:
                self._open.pop(key).end_frame = ev.frame
        return events

    @property
    def sounding(self) -> list[PlayedNote]:
        return list(self._open.values())

    def stats(self) -> dict[str, Any]:
        return self.client.stats() if self.client is not None else {}

    def stop(self) -> int:
        """Stop: the JACK port sends note-offs, then the forwarder ends what it still holds.

        Returns the number of note-offs sent on the JACK port. The events that went out
        since the last :meth:`pump` (those of the last callbacks and the note-offs of the
        stop) are in :attr:`stop_events`, for a caller that prints what was sent.
        """
        sent = 0
        if self.client is not None:
            sent = self.client.stop()
            self.stop_events = self.pump()
        if self.forwarder is not None:
            self.forwarder.close()
            self.forwarder = None
        if self.client is not None:
            self.client.close()
            self.client = None
        return sent
