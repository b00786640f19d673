"""Live mode: audio from a JACK input port through the engine to MIDI, in real time.

The audio path is C++ (``libvocalmidi_live``: the engine runs inside JACK's process
callback and writes a JACK MIDI port); Python only configures it, polls the events it
emitted, forwards them to a python-rtmidi port and draws the terminal view.
"""

from vocalmidi.live.native import LiveClient, LiveEvent
from vocalmidi.live.session import LiveSession

__all__ = ["LiveClient", "LiveEvent", "LiveSession"]
