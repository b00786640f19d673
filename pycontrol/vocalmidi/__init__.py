"""VocalMIDI: real-time voice-to-MIDI.

The package builds and drives the C++ engine and the JUCE plugin, supplies the models,
transcribes files, runs live, and measures everything.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vocalmidi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "transcribe"]


def __getattr__(name: str) -> object:
    # Lazy: `import vocalmidi` stays fast (no numpy) until transcribe is used.
    if name == "transcribe":
        from vocalmidi.transcribe import transcribe

        return transcribe
    raise AttributeError(f"module 'vocalmidi' has no attribute {name!r}")
