""":class:`PluginHost` on cppyy: the same API, driving ``HostedPlugin`` directly.

:class:`CppyyPluginHost` keeps every method, argument and error of
:class:`~vocalmidi.hosts.plugin_host.PluginHost`, but calls the C++ host classes of
``libvocalmidi_juce`` through :mod:`vocalmidi.hosts.juce` instead of the C ABI of
``libvocalmidi_host`` through ctypes. The block loop, real-time pacing and the heap-call
counter stay in C++ (``HostedPlugin::process``); the audio thread's call releases the GIL.

``VOCALMIDI_HOST_BACKEND=cppyy`` makes ``vocalmidi.hosts.PluginHost`` this class.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.hosts import juce
from vocalmidi.hosts.midi import MidiMessage
from vocalmidi.hosts.plugin_host import (
    Parameter,
    PluginHost,
    PluginHostError,
    _absolute_cache_variable,
)

__all__ = ["CppyyPluginHost", "list_plugins"]

_MIDI_EVENT = np.dtype([("sample", "<i8"), ("offset", "<i4"), ("size", "<i4")])
_GIL_FREE = False
# Control calls that let go of the GIL (showing an editor) hold this, as the C ABI's control
# lock: JUCE has one message thread per process, and a thread that made itself that thread
# while another is inside a plugin call would leave the other waiting for a message.
_CONTROL = threading.RLock()


def _bindings() -> juce.JuceBindings:
    global _GIL_FREE
    cpp = juce.load()
    if not _GIL_FREE:
        # Processing lets other Python threads run (hosts on threads of their own), and so
        # does showing an editor (a thread may read the screen meanwhile). Control calls keep
        # the GIL: like the C ABI's control lock, it keeps them one at a time, so no thread
        # makes itself JUCE's message thread while another is inside a plugin call.
        for name in ("process", "showEditor"):
            getattr(cpp.host.HostedPlugin, name).__release_gil__ = True
        _GIL_FREE = True
    return cpp


def list_plugins(path: str | Path) -> list[tuple[str, str, str]]:
    """As :func:`vocalmidi.hosts.plugin_host.list_plugins`: (format, identifier, name) rows."""
    text = juce.pystring
    return [(text(d.pluginFormatName), text(d.fileOrIdentifier), text(d.name))
            for d in juce.scan(path)]


class CppyyPluginHost(PluginHost):
    """:class:`~vocalmidi.hosts.plugin_host.PluginHost` through cppyy (same API)."""

    def __init__(self, path: str | Path | None = None, *, plugin: str | None = None) -> None:
        self._cpp = _bindings()
        self._control()
        self._p: Any = self._cpp.host.HostedPlugin()
        self._h = 1  # "open"; the C++ object is self._p
        self._lock = threading.Lock()  # process and control calls on one host, one at a time
        self._prepared = False
        self._max_block = 0
        self._block_limit = 0
        self._pacing = 1.0
        self.sample_rate = 0.0
        self._path = None
        if path is not None:
            self.load(path, plugin=plugin)

    # -- plumbing -------------------------------------------------------------------------

    def _control(self) -> None:
        self._cpp.host.py.control()

    @contextmanager
    def _call(self) -> Iterator[Any]:
        """A control call on this host: the control lock, this host's lock, the message
        thread; yields the ``HostedPlugin``."""
        self._handle()
        with _CONTROL, self._lock:
            self._control()
            yield self._p

    def _plugin(self) -> Any:
        self._handle()
        self._control()
        return self._p

    def _error(self) -> str:
        return str(self._p.lastError()) or "unknown error"

    def _instance(self) -> Any:
        p = self._plugin()
        if not p.isLoaded():
            raise PluginHostError("no plugin is loaded")
        return p.plugin()

    def _param(self, index: int) -> Any:
        param = self._instance().getParameters()
        if not 0 <= index < param.size():
            raise PluginHostError(f"no parameter with index {index}")
        return param[index]

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        if self._h is not None:
            with self._call() as p:
                p.__destruct__()
                self._h = None
                self._cpp.host.HostContext.get().pumpMessages(0)

    # -- loading --------------------------------------------------------------------------

    def load(self, path: str | Path, plugin: str | None = None) -> None:
        target = str(path)
        _absolute_cache_variable()
        with self._call() as p:
            self._check(p.load(juce.jstring(target), juce.jstring(plugin or "")))
        self._path = path if "://" in target else Path(path)
        self._prepared = False

    @property
    def name(self) -> str:
        return juce.pystring(self._instance().getName())

    @property
    def format(self) -> str:
        self._instance()
        return juce.pystring(self._p.formatName())

    @property
    def programs(self) -> list[str]:
        self._instance()
        names = self._p.programNames()
        return [juce.pystring(names[i]) for i in range(names.size())]

    @property
    def accepts_midi(self) -> bool:
        return bool(self._instance().acceptsMidi())

    @property
    def produces_midi(self) -> bool:
        return bool(self._instance().producesMidi())

    # -- parameters -----------------------------------------------------------------------

    def _parameter_count(self) -> int:
        self._instance()
        return int(self._p.parameterCount())

    def _parameter_name(self, index: int) -> str:
        return juce.pystring(self._param(index).getName(1024))

    def _parameter_index(self, name: str) -> int:
        self._instance()
        rc = int(self._p.parameterIndex(juce.jstring(name)))
        if rc < 0:
            names = ", ".join(self._parameter_name(i) for i in range(self._parameter_count()))
            raise PluginHostError(f"{self.name} has no parameter {name!r} (it has: {names})")
        return rc

    def _parameter(self, index: int) -> Parameter:
        param = self._param(index)
        return Parameter(index=index, name=juce.pystring(param.getName(1024)),
                         label=juce.pystring(param.getLabel()), value=float(param.getValue()),
                         text=juce.pystring(param.getCurrentValueAsText()),
                         default=float(param.getDefaultValue()),
                         num_steps=int(param.getNumSteps()))

    def set_parameter(self, name: str, value: float | str) -> None:
        index = self._parameter_index(name)
        if isinstance(value, str):
            with self._call() as p:
                self._check(p.setParameterText(index, juce.jstring(value)))
            return
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise PluginHostError(f"parameter {name!r}: normalised value {v} is outside 0..1 "
                                  "(pass a string to give a value in the parameter's own units)")
        with self._call() as p:
            self._check(p.setParameter(index, v))

    def parameter_text(self, name: str, value: float | None = None) -> str:
        param = self._param(self._parameter_index(name))
        if value is None or value < 0:
            return juce.pystring(param.getCurrentValueAsText())
        if value > 1.0:
            raise PluginHostError(f"normalised value {value} is above 1")
        return juce.pystring(param.getText(float(value), 1024))

    # -- setup ----------------------------------------------------------------------------

    def prepare(self, sample_rate: float, block_size: int, channels: int = 1,
                output_channels: int | None = None) -> None:
        out = channels if output_channels is None else output_channels
        with self._call() as p:
            # As PluginHost: offline first, so a plugin's background model load is done.
            self._check(p.setNonRealtime(True))
            self._check(p.prepare(float(sample_rate), int(block_size), int(channels), int(out)))
        self.sample_rate = float(sample_rate)
        self._max_block = int(block_size)
        self._prepared = True

    @property
    def input_channels(self) -> int:
        return int(self._plugin().inputChannels())

    @property
    def output_channels(self) -> int:
        return int(self._plugin().outputChannels())

    def set_transport(self, playing: bool, position: int = 0, bpm: float = 120.0) -> None:
        self._plugin().transport().set(bool(playing), int(position), float(bpm))

    @property
    def transport_position(self) -> int:
        return int(self._plugin().transport().position())

    def set_bypassed(self, bypassed: bool) -> None:
        self._plugin().setBypassed(bool(bypassed))

    def set_block_limit(self, max_block: int) -> None:
        self._check(self._plugin().setBlockLimit(int(max_block)))
        self._block_limit = int(max_block)

    @property
    def process_allocations(self) -> tuple[int, int, int] | None:
        calls, blocks, host_calls = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        if not self._plugin().allocationCounts(calls, blocks, host_calls):
            return None
        return int(calls.value), int(blocks.value), int(host_calls.value)

    @property
    def latency_samples(self) -> int:
        self._instance()
        # A plugin may announce a new latency from its own thread; it arrives as a message.
        self._cpp.host.HostContext.get().pumpMessages(0)
        return int(self._p.latencySamples())

    @property
    def tail_seconds(self) -> float:
        return float(self._instance().getTailLengthSeconds())

    def reset(self) -> None:
        with self._call() as p:
            self._check(p.reset())

    def release(self) -> None:
        with self._call() as p:
            self._check(p.release())
        self._prepared = False

    # -- state ----------------------------------------------------------------------------

    def get_state(self) -> bytes:
        with self._call() as p:
            size = int(self._check(p.saveState()))
        if size == 0:
            return b""
        import cppyy.ll

        address = cppyy.ll.cast["uintptr_t"](p.savedState().getData())
        return ctypes.string_at(int(address), size)

    def set_state(self, state: bytes) -> None:
        data = np.frombuffer(bytes(state), dtype=np.uint8)
        with self._call() as p:
            self._check(p.loadState(data, int(data.size)))

    state = property(get_state, set_state)

    def pump_messages(self, milliseconds: int = 0) -> int:
        self._control()
        return int(self._cpp.host.HostContext.get().pumpMessages(int(milliseconds)))

    def editor_size(self) -> tuple[int, int]:
        w, h = ctypes.c_int(), ctypes.c_int()
        self._check(self._plugin().probeEditor(w, h))
        return int(w.value), int(h.value)

    def show_editor(self, milliseconds: int) -> tuple[int, int]:
        w, h = ctypes.c_int(), ctypes.c_int()
        with self._call() as p:
            self._check(p.showEditor(int(milliseconds), w, h))
        return int(w.value), int(h.value)

    # -- processing -----------------------------------------------------------------------

    def _render(self, src: np.ndarray | None, out: np.ndarray | None, n: int,
                sizes: np.ndarray, events: list[MidiMessage], realtime: bool) -> list[MidiMessage]:
        import cppyy
        import cppyy.ll

        null = cppyy.nullptr
        ev = np.zeros(max(1, len(events)), _MIDI_EVENT)
        pool = np.frombuffer(b"".join(m.data for m in events) or b"\0", np.uint8)
        offset = 0
        for i, m in enumerate(events):
            ev[i] = (m.sample, offset, len(m.data))
            offset += len(m.data)
        with self._call() as p:
            self._check(p.setNonRealtime(not realtime))
            p.setPacing(self._pacing if realtime else 0.0)
        with self._lock:  # not a control call: hosts on other threads process meanwhile
            self._check(p.process(
                src if src is not None else null, out if out is not None else null, n,
                sizes, int(sizes.size),
                cppyy.ll.cast["VmhMidiEvent*"](ev.ctypes.data) if events else null, len(events),
                pool if events else null))
        midi = juce.midi_out(p)
        with self._call():  # plugins announce some changes (latency, ...) through messages
            self._cpp.host.HostContext.get().pumpMessages(0)
        return midi
