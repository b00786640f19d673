"""Forward live events to a python-rtmidi output (a virtual port by default).

On Linux machines without an ALSA sequencer, rtmidi's JACK API is the one that works;
``api="alsa"`` reaches hardware MIDI ports where the sequencer exists.
"""

from __future__ import annotations

from typing import Any

from vocalmidi.errors import BackendUnavailableError, UsageError
from vocalmidi.live.native import LiveEvent

__all__ = ["MidiForwarder"]


class MidiForwarder:
    """An rtmidi output that keeps track of sounding notes so it can always end them.

    Parameters
    ----------
    port : str or None
        Name (or part of the name) of an existing MIDI input to send to; None opens a
        virtual output port named ``port_name`` that other programs connect to.
    api : str
        ``"jack"`` or ``"alsa"``.
    client_name : str
        MIDI client name.
    port_name : str
        Name of the virtual port.

    Raises
    ------
    BackendUnavailableError
        When the MIDI API cannot be opened (no JACK server, no ALSA sequencer).
    UsageError
        When ``port`` matches no port.
    """

    def __init__(self, port: str | None = None, api: str = "jack",
                 client_name: str = "vocalmidi-rtmidi", port_name: str = "midi_out") -> None:
        import rtmidi

        apis = {"jack": rtmidi.API_UNIX_JACK, "alsa": rtmidi.API_LINUX_ALSA}
        if api not in apis:
            raise UsageError(f"unknown MIDI API {api!r}: use jack or alsa")
        try:
            self._out: Any = rtmidi.MidiOut(apis[api], name=client_name)
        except (rtmidi.SystemError, RuntimeError) as exc:
            raise BackendUnavailableError(f"cannot open the {api} MIDI API: {exc}") from None
        if port is None:
            self._out.open_virtual_port(port_name)
            self.port_name = f"{client_name}:{port_name}"
        else:
            ports = self._out.get_ports()
            matches = [i for i, name in enumerate(ports) if port in name]
            if not matches:
                self._out.delete()
                raise UsageError(
                    f"no MIDI port matches {port!r}; ports are: {', '.join(ports) or 'none'}"
                )
            self._out.open_port(matches[0])
            self.port_name = ports[matches[0]]
        self._held: dict[tuple[int, int], int] = {}

    def send(self, event: LiveEvent) -> None:
        """Send one event; note-offs for notes this port never started are dropped."""
        key = (event.channel, event.note)
        if event.type == 0:
            self._held[key] = self._held.get(key, 0) + 1
        elif event.type == 1:
            if not self._held.get(key):
                return
            self._held[key] -= 1
        self._out.send_message(event.midi_bytes())

    @property
    def sounding(self) -> list[tuple[int, int]]:
        """``(channel, note)`` of the notes started and not yet ended."""
        return [k for k, n in self._held.items() if n > 0]

    def all_notes_off(self) -> int:
        """End every sounding note; returns how many note-offs were sent."""
        sent = 0
        for (channel, note), count in list(self._held.items()):
            for _ in range(count):
                self._out.send_message([0x80 | ((channel - 1) & 0x0F), note, 0])
                sent += 1
        self._held.clear()
        return sent

    def close(self) -> None:
        """Send the outstanding note-offs and close the port."""
        if getattr(self, "_out", None) is not None:
            self.all_notes_off()
            self._out.close_port()
            self._out.delete()
            self._out = None
