"""Hosts that run the built plugin (or any VST3/LV2 plugin) and report what it does.

- :mod:`~vocalmidi.hosts.plugin_host`: :class:`PluginHost`, our headless JUCE host; audio
  in and out as numpy arrays, MIDI out with sample positions.
- :mod:`~vocalmidi.hosts.juce`: JUCE's hosting API and our host classes from Python
  through cppyy; :mod:`~vocalmidi.hosts.cppyy_host`: PluginHost on it
  (``VOCALMIDI_HOST_BACKEND=cppyy`` makes it ``vocalmidi.hosts.PluginHost``).
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

import os

from vocalmidi.hosts.midi import MidiMessage
from vocalmidi.hosts.plugin_host import (
    Parameter,
    Parameters,
    PluginHost,
    PluginHostError,
    Processed,
    list_plugins,
)

if os.environ.get("VOCALMIDI_HOST_BACKEND") == "cppyy":
    # The same PluginHost API on HostedPlugin through cppyy instead of the C ABI.
    from vocalmidi.hosts.cppyy_host import CppyyPluginHost as PluginHost  # noqa: F811
    from vocalmidi.hosts.cppyy_host import list_plugins  # noqa: F811

__all__ = [
    "MidiMessage",
    "Parameter",
    "Parameters",
    "PluginHost",
    "PluginHostError",
    "Processed",
    "list_plugins",
]
