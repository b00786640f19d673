"""Errors with exit codes that scripts can rely on.

Each error's message is one line that says what is wrong and what to do.
"""


class VocalMidiError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(VocalMidiError):
    exit_code = 2


class NotBuiltError(VocalMidiError):
    """The engine library or plugin bundle is missing."""

    exit_code = 3


class ModelError(VocalMidiError):
    """A model is unknown, missing, corrupt or failed to load."""

    exit_code = 4


class AudioInputError(VocalMidiError):
    """An input file cannot be read or holds unusable audio."""

    exit_code = 5


class DownloadError(VocalMidiError):
    exit_code = 6


class BackendUnavailableError(VocalMidiError):
    """No JACK server, no MIDI backend, no sound device."""

    exit_code = 7


class PluginHostError(VocalMidiError):
    """The plugin could not be loaded, prepared or run, or was used in the wrong order."""

    exit_code = 8
