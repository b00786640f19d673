"""Where the native build outputs are: the engine library, plugin bundles, host library.

They live in the ``vocalmidi_native`` folder that CMake installs beside this package
(also for editable installs). ``VOCALMIDI_NATIVE_DIR`` points elsewhere, e.g. at a
folder holding a build of your own.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from vocalmidi.errors import NotBuiltError

PLUGIN_NAME = "VocalMIDI"
# The instrument variant (side-chain in, MIDI out): its bundles' file name.
INSTRUMENT_NAME = "VocalMIDIInstrument"


def native_dir() -> Path:
    """Return the folder holding the native build outputs.

    Raises
    ------
    NotBuiltError
        When nothing was built or installed.
    """
    override = os.environ.get("VOCALMIDI_NATIVE_DIR")
    if override:
        path = Path(override)
        if not path.is_dir():
            raise NotBuiltError(f"VOCALMIDI_NATIVE_DIR={override} is not a folder")
        return path
    try:
        import vocalmidi_native
    except ImportError:
        raise NotBuiltError(
            "the native part of vocalmidi is not built: run `make build` in the source tree"
        ) from None
    return Path(vocalmidi_native.__file__).resolve().parent


def _lib_name(stem: str) -> str:
    system = platform.system()
    if system == "Darwin":
        return f"lib{stem}.dylib"
    if system == "Windows":
        return f"{stem}.dll"
    return f"lib{stem}.so"


def engine_library() -> Path:
    """Path of the engine's C API library (``libvocalmidi.so``)."""
    return _existing(native_dir() / _lib_name("vocalmidi"), "engine library")


def host_library() -> Path:
    """Path of the headless JUCE host library (``libvocalmidi_juce.so``: our host classes and
    JUCE, which :class:`vocalmidi.hosts.PluginHost` drives through cppyy)."""
    return _existing(native_dir() / _lib_name("vocalmidi_juce"), "headless host library")


@dataclass(frozen=True)
class PluginPaths:
    vst3: Path | None
    lv2: Path | None
    standalone: Path | None
    au: Path | None
    instrument_vst3: Path | None = None
    instrument_lv2: Path | None = None
    instrument_au: Path | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {k: (str(v) if v else None) for k, v in self.__dict__.items()}


def plugin_paths() -> PluginPaths:
    """Locate the built plugin bundles (a format that was not built is None)."""
    base = native_dir() / "plugins"

    def found(p: Path) -> Path | None:
        return p if p.exists() else None

    exe = PLUGIN_NAME + (".exe" if platform.system() == "Windows" else "")
    standalone = base / (f"{PLUGIN_NAME}.app" if platform.system() == "Darwin" else exe)
    return PluginPaths(
        vst3=found(base / f"{PLUGIN_NAME}.vst3"),
        lv2=found(base / f"{PLUGIN_NAME}.lv2"),
        standalone=found(standalone),
        au=found(base / f"{PLUGIN_NAME}.component"),
        instrument_vst3=found(base / f"{INSTRUMENT_NAME}.vst3"),
        instrument_lv2=found(base / f"{INSTRUMENT_NAME}.lv2"),
        instrument_au=found(base / f"{INSTRUMENT_NAME}.component"),
    )


def vst3_path() -> Path:
    """Path of the built VST3 bundle; raises NotBuiltError when missing."""
    path = plugin_paths().vst3
    if path is None:
        raise NotBuiltError("the VST3 plugin is not built: run `make build`")
    return path


def instrument_vst3_path() -> Path:
    """Path of the built "VocalMIDI Instrument" VST3 bundle; raises NotBuiltError when missing."""
    path = plugin_paths().instrument_vst3
    if path is None:
        raise NotBuiltError("the VocalMIDI Instrument VST3 is not built: run `make build`")
    return path


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise NotBuiltError(f"the {what} is missing ({path}): run `make build`")
    return path
