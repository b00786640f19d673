"""Hosts that run the built plugin (or any VST3/LV2 plugin) and report what it does.

- :mod:`~vocalmidi.hosts.plugin_host`: :class:`PluginHost`, our headless JUCE host; audio
  in and out as numpy arrays, MIDI out with sample positions.
- :mod:`~vocalmidi.hosts.juce`: JUCE's hosting API and our host classes from Python
  through cppyy (what :class:`PluginHost` drives).
- :mod:`~vocalmidi.hosts.jalv`: the LV2 build live in ``jalv`` on a private JACK server.
- :mod:`~vocalmidi.hosts.standalone`: the Standalone program on a virtual display and JACK.
- :mod:`~vocalmidi.hosts.jack_server`, :mod:`~vocalmidi.hosts.xdisplay`: the private JACK
  server and X display those use; :mod:`~vocalmidi.hosts.lv2_bundle` reads LV2 bundles.

Imports point one way: jalv and standalone use jack_server, xdisplay and lv2_bundle; every
host reports MIDI as :class:`~vocalmidi.hosts.midi.MidiMessage`; nothing here imports a
sibling that imports it back.

Examples
--------
>>> from vocalmidi.hosts import PluginHost              # doctest: +SKIP
"""

from vocalmidi.hosts.midi import MidiMessage
from vocalmidi.hosts.plugin_host import (
    Parameter,
    Parameters,
    PluginHost,
    PluginHostError,
    Processed,
    list_plugins,
)

__all__ = [
    "MidiMessage",
    "Parameter",
    "Parameters",
    "PluginHost",
    "PluginHostError",
    "Processed",
    "list_plugins",
]
