"""JUCE's plugin-hosting API and our host classes, from Python through cppyy.

:func:`load` gives the C++ namespaces of ``libvocalmidi_juce`` (the JUCE our plugin and
host are built with, its C++ API exported): ``juce`` (``AudioPluginFormatManager``,
``KnownPluginList``, ``PluginDescription``, ``AudioPluginInstance``, ``MidiBuffer``,
``AudioBuffer<float>``, ...) and ``host`` (``vocalmidi::host``: :cpp:`HostedPlugin`,
:cpp:`HostContext`, :cpp:`TransportPlayHead`). Anything in JUCE's hosting API can be
scripted with them, not only what :class:`~vocalmidi.hosts.PluginHost` wraps.

float32 numpy arrays pass as ``float*`` without a copy (:func:`channel_pointers` makes the
``float**`` an ``AudioBuffer`` can refer to), so audio stays in numpy.

Start-up: Cling, cppyy's C++ interpreter, would parse JUCE's headers (~20 s here) at every
import. :func:`load` parses them once into a precompiled header (PCH) cached in the build
tree (``<build>/cling/``, or ``$VOCALMIDI_CLING_CACHE``), rebuilt when the headers, flags
or cppyy change; a warm import then only maps the PCH. The PCH must be chosen before
cppyy starts: call :func:`load` before anything else imports cppyy.

Examples
--------
>>> from vocalmidi.hosts import juce                      # doctest: +SKIP
>>> cpp = juce.load()
>>> for d in juce.scan("/usr/lib/lv2/x42-onset.lv2"):
...     print(d.name, d.pluginFormatName)

See ``examples/scan_plugins.py`` for a scan that prints each plugin's parameters and buses.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from vocalmidi import native
from vocalmidi.errors import BackendUnavailableError, NotBuiltError, PluginHostError
from vocalmidi.hosts.midi import MidiMessage

__all__ = [
    "JuceBindings", "channel_pointers", "jstring", "load", "load_stats", "midi_out", "pystring",
    "scan",
]

#: Headers Cling reads; they include JUCE's ``juce_audio_processors`` and what it needs.
_HOST_HEADERS = ("HostContext.h", "HostedPlugin.h", "TransportPlayHead.h")

#: Helpers compiled into the PCH: one control call's set-up, and reading a JUCE
#: ``OwnedArray`` of descriptions (cppyy cannot iterate it), in C++ where they belong.
_HELPERS = r"""
namespace vocalmidi::host::py
{
/** Make the calling thread JUCE's message thread (control calls must run there). */
inline HostContext& control() { auto& c = HostContext::get(); c.becomeMessageThread(); return c; }

/** Every plugin `path` holds, as plain descriptions; `error` says why when none. */
inline std::vector<juce::PluginDescription> scan (const juce::String& path, juce::String& error)
{
    auto& c = control();
    const std::lock_guard<std::recursive_mutex> lock (c.controlLock());
    std::vector<juce::PluginDescription> out;
    for (auto* d : c.findPlugins (path, error))
        out.push_back (*d);
    return out;
}

/** An instance of the plugin `description` names, or null with `error` set. */
inline juce::AudioPluginInstance* instantiate (const juce::PluginDescription& description,
                                               double sampleRate, int blockSize,
                                               juce::String& error)
{
    auto& c = control();
    const std::lock_guard<std::recursive_mutex> lock (c.controlLock());
    return c.createInstance (description, sampleRate, blockSize, error).release();
}
} // namespace vocalmidi::host::py
"""


@dataclass(frozen=True)
class JuceBindings:
    """What :func:`load` returns.

    Attributes
    ----------
    juce
        cppyy's view of namespace ``juce``.
    host
        Namespace ``vocalmidi::host`` (``HostedPlugin``, ``HostContext``,
        ``TransportPlayHead``) and its ``py`` helpers (``scan``, ``instantiate``).
    gbl
        ``cppyy.gbl``, for everything else.
    """

    juce: Any
    host: Any
    gbl: Any


@dataclass(frozen=True)
class _BuildInfo:
    library: Path
    build_dir: Path
    includes: tuple[str, ...]
    defines: tuple[str, ...]


_BINDINGS: JuceBindings | None = None
_STATS: dict[str, float | bool | str] = {}


def _build_info() -> _BuildInfo:
    """The library, and the include folders and defines it was compiled with."""
    ndir = native.native_dir()
    library = ndir / "libvocalmidi_juce.so"
    marker = ndir / "vocalmidi_juce_build_dir.txt"
    if not library.is_file() or not marker.is_file():
        raise NotBuiltError(f"{library} is not built: run `make build`")
    build_dir = Path(marker.read_text().strip())
    commands = build_dir / "compile_commands.json"
    if not commands.is_file():
        raise NotBuiltError(f"{commands} is missing: vocalmidi.hosts.juce needs the build tree "
                            "the library was built in (its headers and flags)")
    entry = next((c for c in json.loads(commands.read_text())
                  if c["file"].endswith("plugin/host/HostedPlugin.cpp")
                  and "vocalmidi_juce.dir" in c.get("output", c["command"])), None)
    if entry is None:
        raise NotBuiltError(f"{commands} has no vocalmidi_juce entry: run `make build`")
    args = shlex.split(entry["command"])
    includes = tuple(a[2:] for a in args if a.startswith("-I"))
    includes += tuple(args[i + 1] for i, a in enumerate(args) if a == "-isystem")
    defines = tuple(a[2:] for a in args if a.startswith("-D") and not a.endswith("_EXPORTS"))
    return _BuildInfo(library, build_dir, includes, defines)


def _umbrella(info: _BuildInfo) -> str:
    """The one header Cling reads: the library's defines, our headers, the helpers."""
    lines = ["#pragma once", "// Generated by vocalmidi.hosts.juce: the library's compile flags."]
    for d in info.defines:
        name, _, value = d.partition("=")
        lines.append(f"#ifndef {name}\n#define {name} {value or '1'}\n#endif")
    lines += ["#include <mutex>", "#include <vector>"]
    lines += [f'#include "{h}"' for h in _HOST_HEADERS]
    return "\n".join(lines) + "\n" + _HELPERS


def _pch_key(info: _BuildInfo, umbrella: str) -> str:
    """Changes when anything the PCH was made from changes."""
    import importlib.metadata as md

    digest = hashlib.sha256(umbrella.encode())
    digest.update(md.version("cppyy-cling").encode())
    digest.update(os.environ.get("EXTRA_CLING_ARGS", "").encode())
    for inc in info.includes[:2]:  # our headers' folder and JUCE's modules
        for h in sorted(Path(inc).glob("*.h")):
            digest.update(f"{h.name}:{h.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _make_pch(info: _BuildInfo, header: Path, pch: Path) -> None:
    """Precompile Cling's standard headers plus ``header`` into ``pch`` (as cppyy does
    for its own PCH, with our header added)."""
    import importlib.util

    spec = importlib.util.find_spec("cppyy_backend")
    if spec is None or spec.origin is None:
        raise BackendUnavailableError("cppyy is not installed: pip install 'vocalmidi[juce]'")
    pkg = Path(spec.origin).parent
    flags = [line.strip() for line in (pkg / "etc/dictpch/allCppflags.txt").read_text().split("\n")
             if line.strip() and line.strip() not in ("-isystem", "-fno-plt")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "allDict.cxx"
        cmd = [str(pkg / "bin/rootcling"), "-rootbuild", "-generate-pch", "-f", str(out),
               "-noDictSelection", "-D__CLING__", "-DROOT_PCH", "-I./include", "-I./etc",
               "-I./etc/dictpch", "-I./etc/cling", *(f"-I{i}" for i in info.includes),
               "-cxxflags", " ".join(flags), "etc/dictpch/allHeaders.h", str(header),
               "etc/dictpch/allLinkDefs.h"]
        libs = f"{pkg / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}"
        env = dict(os.environ, LD_LIBRARY_PATH=libs)
        proc = subprocess.run(cmd, cwd=pkg, env=env, capture_output=True, text=True)
        made = Path(tmp) / "allDict_rdict.pch"
        if proc.returncode != 0 or not made.is_file():
            raise BackendUnavailableError(
                "could not precompile JUCE's headers for cppyy:\n" + proc.stderr[-2000:])
        pch.parent.mkdir(parents=True, exist_ok=True)
        tmp_pch = pch.with_suffix(f".{os.getpid()}.tmp")
        shutil.move(str(made), tmp_pch)
        os.replace(tmp_pch, pch)  # atomic: a concurrent import sees all of it or none
    # One PCH per cache: those of earlier headers (~80 MB each) are of no use any more. A
    # process that still maps one keeps its pages; the name goes.
    for stale in pch.parent.glob("vocalmidi_juce.*.pch"):
        if stale != pch:
            stale.unlink(missing_ok=True)


def load() -> JuceBindings:
    """Load ``libvocalmidi_juce`` into cppyy and return its namespaces (once per process).

    JUCE is initialised and the calling thread becomes its message thread: make control
    calls (loading, instantiating, parameters, state) from this thread.

    Raises
    ------
    NotBuiltError
        When the library or its build tree is missing.
    BackendUnavailableError
        When cppyy is not installed or the headers cannot be compiled.
    """
    global _BINDINGS
    if _BINDINGS is not None:
        return _BINDINGS
    t0 = time.perf_counter()
    info = _build_info()
    umbrella = _umbrella(info)
    cache = Path(os.environ.get("VOCALMIDI_CLING_CACHE") or info.build_dir / "cling")
    header = cache / "vocalmidi_juce_cling.h"
    use_pch = "cppyy" not in sys.modules and os.environ.get("CLING_STANDARD_PCH") is None
    built_pch = False
    if use_pch:
        pch = cache / f"vocalmidi_juce.{_pch_key(info, umbrella)}.pch"
        if not header.is_file() or header.read_text() != umbrella:
            cache.mkdir(parents=True, exist_ok=True)
            header.write_text(umbrella)
        if not pch.is_file():
            _make_pch(info, header, pch)
            built_pch = True
        os.environ["CLING_STANDARD_PCH"] = str(pch)
    t1 = time.perf_counter()
    # JUCE's headers define objects (juce::Colours) whose initialisers call into the
    # library; from a PCH they run as cppyy starts, so the library must be loaded first.
    ctypes.CDLL(str(info.library), mode=ctypes.RTLD_GLOBAL)
    try:
        import cppyy
    except ImportError:
        raise BackendUnavailableError(
            "cppyy is not installed: pip install 'vocalmidi[juce]'") from None
    finally:
        if use_pch:  # read as cppyy started; child processes choose their own
            os.environ.pop("CLING_STANDARD_PCH", None)
    t2 = time.perf_counter()
    cppyy.load_library(str(info.library))  # before the headers: their symbols are its own
    for inc in info.includes:
        cppyy.add_include_path(inc)
    if use_pch:
        cppyy.add_include_path(str(cache))
        cppyy.include("vocalmidi_juce_cling.h")
    else:
        cppyy.cppdef(umbrella)
    # JUCE initialised (HostContext), and this thread its message thread, as for PluginHost.
    cppyy.gbl.vocalmidi.host.py.control()
    _BINDINGS = JuceBindings(juce=cppyy.gbl.juce, host=cppyy.gbl.vocalmidi.host, gbl=cppyy.gbl)
    t3 = time.perf_counter()
    _STATS.update(pch=use_pch, built_pch=built_pch, prepare_s=t1 - t0, import_cppyy_s=t2 - t1,
                  headers_s=t3 - t2, total_s=t3 - t0)
    return _BINDINGS


def load_stats() -> dict[str, float | bool | str]:
    """How the last :func:`load` went: seconds per step, whether a PCH was used or built."""
    return dict(_STATS)


def scan(path: str | Path) -> list[Any]:
    """The plugins ``path`` holds (a ``.vst3`` bundle, an ``.lv2`` bundle or an LV2 URI).

    Returns
    -------
    list of juce.PluginDescription

    Raises
    ------
    vocalmidi.errors.PluginHostError
        When the path holds no plugin.
    """
    cpp = load()
    error = cpp.juce.String()
    found = list(cpp.host.py.scan(jstring(str(path)), error))
    if not found:
        raise PluginHostError(f"{path}: {pystring(error)}")
    return found


def jstring(text: str) -> Any:
    """A ``juce::String`` holding ``text`` (a Python ``str`` would reach JUCE as Latin-1)."""
    return load().juce.String.fromUTF8(text.encode())


def pystring(value: Any) -> str:
    """A ``juce::String`` as a Python ``str``."""
    return str(value.toStdString())


def midi_out(plugin: Any) -> list[MidiMessage]:
    """The MIDI a ``HostedPlugin`` emitted in its last ``process`` call, in order; sample
    positions count from the first sample of that call."""
    events, raw = plugin.midiOutEvents(), plugin.midiOutBytes()
    if events.empty():
        return []
    view = raw.data()
    view.reshape((raw.size(),))
    data = np.frombuffer(view, np.uint8).tobytes()
    return [MidiMessage(int(e.sample), data[e.offset:e.offset + e.size]) for e in events]


def channel_pointers(audio: np.ndarray) -> Any:
    """A C ``float**`` over the rows of a C-contiguous float32 ``(channels, n)`` array.

    ``juce.AudioBuffer['float'](channel_pointers(a), channels, n)`` then refers to the
    array's memory: what the plugin writes lands in ``a``, no copy either way. Keep the
    returned object alive as long as the buffer is used.
    """
    if audio.dtype != np.float32 or audio.ndim != 2 or not audio.flags.c_contiguous:
        raise ValueError("need a C-contiguous float32 (channels, n) array")
    load()
    import cppyy.ll

    pointers = np.array([audio.ctypes.data + i * audio.strides[0]
                         for i in range(audio.shape[0])], dtype=np.uintp)
    # The pointer table and the audio stay referenced by the holder while it lives.
    return SimpleNamespace(ptr=cppyy.ll.cast["float**"](int(pointers.ctypes.data)),
                           pointers=pointers, audio=audio)
