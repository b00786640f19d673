"""Host a VST3 or LV2 plugin headless and see the MIDI it emits.

pedalboard runs plugins well but throws their MIDI output away. :class:`PluginHost` drives
our own JUCE host classes (``vocalmidi::host::HostedPlugin`` in ``libvocalmidi_juce``)
through cppyy (:mod:`vocalmidi.hosts.juce`): audio goes in and out as float32 numpy arrays
without copies, and every MIDI event the plugin emits comes back with the sample it was
emitted at. The block loop, real-time pacing and the heap-call counter run in C++
(``HostedPlugin::process``), one call per :meth:`PluginHost.process`, so Python's cost is
per call, never per block.

Start-up: the first :class:`PluginHost` of a process starts cppyy and maps the
precompiled JUCE headers that ``make build`` leaves in the build tree (about 1-2 s);
importing this module does not.

Examples
--------
>>> with PluginHost("VocalMIDI.vst3") as host:            # doctest: +SKIP
...     host.prepare(48000, 512, channels=1)
...     host.set_parameter("sensitivity", 0.7)
...     out, midi = host.process(voice, block_size=256)      # offline, like pedalboard
...     onsets = [m.sample for m in midi if m.is_note_on]
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from vocalmidi.errors import PluginHostError
from vocalmidi.hosts import juce
from vocalmidi.hosts.midi import MidiMessage

__all__ = [
    "MidiMessage",
    "Parameter",
    "Parameters",
    "PluginHost",
    "PluginHostError",
    "Processed",
    "list_plugins",
]

#: ``vocalmidi::host::MidiEvent`` as numpy lays it out (MIDI input to HostedPlugin::process).
_MIDI_EVENT = np.dtype([("sample", "<i8"), ("offset", "<i4"), ("size", "<i4")])
# Control calls (load, parameters, prepare, state, editor) of all hosts hold this, as
# HostContext's control lock does in C++: JUCE has one message thread per process, and a
# thread that made itself that thread while another is inside a plugin call would leave
# the other waiting for a message. Processing does not take it (hosts on threads of their
# own run at once).
_CONTROL = threading.RLock()
_GIL_FREE = False


def _absolute_cache_variable() -> None:
    """Make a relative ``VOCALMIDI_CACHE`` absolute before a plugin reads it.

    The plugin resolves the cache on its own thread while JUCE loads the module, and JUCE
    switches the working folder to the plugin's folder for that: a relative path would
    then point inside the bundle's folder, not where the Python side finds the models.
    """
    value = os.environ.get("VOCALMIDI_CACHE")
    if value and not os.path.isabs(value):
        os.environ["VOCALMIDI_CACHE"] = os.path.abspath(value)


def _bindings() -> juce.JuceBindings:
    global _GIL_FREE
    cpp = juce.load()
    if not _GIL_FREE:
        # Processing lets other Python threads run (hosts on threads of their own), and so
        # does showing an editor (a thread may read the screen meanwhile). Other control
        # calls keep the GIL besides _CONTROL.
        for name in ("process", "showEditor"):
            getattr(cpp.host.HostedPlugin, name).__release_gil__ = True
        _GIL_FREE = True
    return cpp


class Processed(NamedTuple):
    """What :meth:`PluginHost.process` returns; unpacks as ``audio, midi``."""

    audio: np.ndarray
    midi: list[MidiMessage]


@dataclass(frozen=True)
class Parameter:
    """A snapshot of one plugin parameter.

    Attributes
    ----------
    index
        The plugin's parameter index.
    name, label
        Its name and unit label (e.g. ``"dB"``).
    value
        Normalised value, 0..1.
    text
        The plugin's own text for the value (e.g. ``"-6.0 dB"``, ``"On"``).
    default
        Normalised default value.
    num_steps
        Number of discrete steps; large (2**31 - 1) for continuous parameters.
    automatable
        Whether the plugin lets hosts automate it (VST3: ``kCanAutomate``); settings
        such as the plugin's Device are not.
    """

    index: int
    name: str
    label: str
    value: float
    text: str
    default: float
    num_steps: int
    automatable: bool = True

    @property
    def is_discrete(self) -> bool:
        return 1 < self.num_steps < 0x7FFFFFFF


def list_plugins(path: str | Path) -> list[tuple[str, str, str]]:
    """List the plugins a bundle (or LV2 URI) holds.

    Returns
    -------
    list of (format, identifier, name)
        ``identifier`` or ``name`` can be passed to :meth:`PluginHost.load` as ``plugin``.
    """
    text = juce.pystring
    with _CONTROL:
        found = juce.scan(path)
    return [(text(d.pluginFormatName), text(d.fileOrIdentifier), text(d.name)) for d in found]


class Parameters(Mapping[str, Parameter]):
    """The plugin's parameters by name; values are read live from the plugin.

    ``params[name]`` gives a :class:`Parameter` snapshot; ``params[name] = value`` sets a
    normalised float or a text value (see :meth:`PluginHost.set_parameter`).
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host

    def _names(self) -> list[str]:
        return [self._host._parameter_name(i) for i in range(self._host._parameter_count())]

    def __getitem__(self, name: str) -> Parameter:
        return self._host._parameter(self._host._parameter_index(name))

    def __setitem__(self, name: str, value: float | str) -> None:
        self._host.set_parameter(name, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return self._host._parameter_count()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._names()

    def __repr__(self) -> str:
        return "Parameters({" + ", ".join(f"{p.name!r}: {p.text!r}" for p in self.values()) + "})"


BlockSizes = int | Sequence[int] | Iterable[int] | None


class PluginHost:
    """A headless plugin host for one VST3 or LV2 plugin that reports its MIDI output.

    Parameters
    ----------
    path
        Optional plugin to load right away (see :meth:`load`).
    plugin
        Which plugin of a bundle that holds several (name or identifier).

    Notes
    -----
    Control calls (load, parameters, prepare, state) make the calling thread JUCE's message
    thread; use one host from one thread at a time. Close hosts (or use ``with``) so the
    plugin is unloaded while the interpreter is still fully alive.
    """

    def __init__(self, path: str | Path | None = None, *, plugin: str | None = None) -> None:
        self._p: Any = None  # the C++ HostedPlugin; None once closed
        self._cpp = _bindings()
        self._lock = threading.Lock()  # one call at a time on this host, process included
        with _CONTROL:
            self._cpp.host.py.control()
            self._p = self._cpp.host.HostedPlugin()
        self._prepared = False
        self._max_block = 0
        self._block_limit = 0
        self._pacing = 1.0
        self.sample_rate = 0.0
        self._path: Path | str | None = None
        if path is not None:
            self.load(path, plugin=plugin)

    # -- plumbing -------------------------------------------------------------------------

    def _plugin(self) -> Any:
        if self._p is None:
            raise PluginHostError("the plugin host is closed")
        return self._p

    @contextmanager
    def _call(self) -> Iterator[Any]:
        """A control call: all hosts' control lock, this host's lock, the calling thread as
        JUCE's message thread; yields the ``HostedPlugin``."""
        p = self._plugin()
        with _CONTROL, self._lock:
            self._cpp.host.py.control()
            yield p

    def _error(self) -> str:
        return str(self._plugin().lastError()) or "unknown error"

    def _check(self, rc: int) -> int:
        if rc < 0:
            raise PluginHostError(self._error())
        return rc

    def _instance(self) -> Any:
        """The loaded ``juce::AudioPluginInstance``."""
        p = self._plugin()
        if not p.isLoaded():
            raise PluginHostError("no plugin is loaded")
        return p.plugin()

    def _param(self, index: int) -> Any:
        params = self._instance().getParameters()
        if not 0 <= index < params.size():
            raise PluginHostError(f"no parameter with index {index}")
        return params[index]

    def _pump(self) -> None:
        """Dispatch the JUCE messages that are pending (plugins announce changes so)."""
        with _CONTROL:
            self._cpp.host.py.control().pumpMessages(0)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Unload the plugin and free the host (idempotent)."""
        if self._p is not None:
            with self._call() as p:
                self._p = None
                p.__destruct__()
            self._pump()

    def __enter__(self) -> PluginHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    # -- loading --------------------------------------------------------------------------

    def load(self, path: str | Path, plugin: str | None = None) -> None:
        """Load a plugin, replacing the one loaded before.

        Parameters
        ----------
        path
            A VST3 bundle (``.vst3``), an LV2 bundle folder (``.lv2``) or an LV2 plugin URI.
        plugin
            Name or identifier of the plugin to take when the bundle holds several.

        Raises
        ------
        PluginHostError
            When the path holds no loadable plugin; the message says why.
        """
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
        """``"VST3"`` or ``"LV2"``."""
        self._instance()
        return juce.pystring(self._p.formatName())

    @property
    def programs(self) -> list[str]:
        """Names of the programs (presets) the plugin offers, as a host lists them."""
        self._instance()
        with self._call() as p:
            names = p.programNames()
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
        index = int(self._p.parameterIndex(juce.jstring(name)))
        if index < 0:
            names = ", ".join(self._parameter_name(i) for i in range(self._parameter_count()))
            raise PluginHostError(f"{self.name} has no parameter {name!r} (it has: {names})")
        return index

    def _parameter(self, index: int) -> Parameter:
        param = self._param(index)
        return Parameter(index=index, name=juce.pystring(param.getName(1024)),
                         label=juce.pystring(param.getLabel()), value=float(param.getValue()),
                         text=juce.pystring(param.getCurrentValueAsText()),
                         default=float(param.getDefaultValue()),
                         num_steps=int(param.getNumSteps()),
                         automatable=bool(param.isAutomatable()))

    @property
    def parameters(self) -> Parameters:
        """The plugin's parameters, a mapping by name (see :class:`Parameters`)."""
        return Parameters(self)

    def set_parameter(self, name: str, value: float | str) -> None:
        """Set a parameter by name.

        Parameters
        ----------
        name
            The parameter's name (exact, else case-insensitive match).
        value
            A float is the normalised value in 0..1; a string is parsed by the plugin as it
            would parse typed text (``"On"``, ``"-6 dB"``, ``"Blues"``).
        """
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

    def get_parameter(self, name: str) -> float:
        """Normalised value (0..1) of the parameter called ``name``."""
        return self.parameters[name].value

    def parameter_text(self, name: str, value: float | None = None) -> str:
        """The plugin's text for the parameter's current value, or for a normalised ``value``."""
        param = self._param(self._parameter_index(name))
        if value is None or value < 0:
            return juce.pystring(param.getCurrentValueAsText())
        if value > 1.0:
            raise PluginHostError(f"normalised value {value} is above 1")
        return juce.pystring(param.getText(float(value), 1024))

    # -- setup ----------------------------------------------------------------------------

    def prepare(self, sample_rate: float, block_size: int, channels: int = 1,
                output_channels: int | None = None) -> None:
        """Get ready to process; returns once the plugin is ready (its model loaded).

        Parameters
        ----------
        sample_rate
            Sample rate in Hz.
        block_size
            The largest block :meth:`process` will pass.
        channels
            Channels on the plugin's main input (and output, unless ``output_channels``).
            A plugin without a main bus in one direction gets 0 there; see
            :attr:`input_channels` and :attr:`output_channels` for what was set up.
        """
        out = channels if output_channels is None else output_channels
        with self._call() as p:
            # Prepared as for an offline render first: a plugin that loads its model in the
            # background (VocalMIDI) loads it before an offline prepare returns, so the
            # first block, live or offline, finds it ready. A live process() re-prepares.
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
        """Set what the plugin's play head reports; while playing, the position advances."""
        self._plugin().transport().set(bool(playing), int(position), float(bpm))

    @property
    def transport_position(self) -> int:
        """The play head's sample position now."""
        return int(self._plugin().transport().position())

    def set_bypassed(self, bypassed: bool) -> None:
        """Run the plugin's bypassed processing (its bypass parameter, if it has one)."""
        self._plugin().setBypassed(bool(bypassed))

    def set_pacing(self, speed: float) -> None:
        """Deliver live blocks at ``speed`` times real time (1.0, the default: like audio
        hardware; 0: at once, for a caller that paces the calls itself).

        Live (``realtime=True``) rendering only behaves as in a DAW when the blocks come at
        the pace of real audio: the plugin's background analysis then keeps up. Offline
        rendering is never paced.
        """
        speed = float(speed)
        if not speed >= 0.0:
            raise PluginHostError(f"pacing speed {speed} is negative")
        self._plugin()
        self._pacing = speed

    def set_block_limit(self, max_block: int) -> None:
        """Allow :meth:`process` blocks up to ``max_block`` although prepared for fewer.

        Some hosts pass larger blocks than they announced; this lets a test do the same.
        0 restores the prepared maximum.
        """
        with self._call() as p:
            self._check(p.setBlockLimit(int(max_block)))
        self._block_limit = int(max_block)

    @property
    def process_allocations(self) -> tuple[int, int, int] | None:
        """Heap calls made inside processBlock during the last :meth:`process`.

        ``(plugin_calls, blocks_with_plugin_calls, host_calls)``, counted on the processing
        thread: a call is the plugin's when the plugin's binary is on the stack, else the
        host's (JUCE's hosting code allocates per block). None when the counting library is
        not preloaded (``LD_PRELOAD`` of ``libvocalmidi_alloccount.so`` from
        :func:`vocalmidi.native.native_dir`).
        """
        calls, blocks, host_calls = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        if not self._plugin().allocationCounts(calls, blocks, host_calls):
            return None
        return int(calls.value), int(blocks.value), int(host_calls.value)

    @property
    def latency_samples(self) -> int:
        """The latency the plugin reports, in samples."""
        self._instance()
        with self._call() as p:
            # A plugin may announce a new latency from its own thread: it arrives as a message.
            self._cpp.host.HostContext.get().pumpMessages(0)
            return int(p.latencySamples())

    @property
    def tail_seconds(self) -> float:
        return float(self._instance().getTailLengthSeconds())

    def reset(self) -> None:
        """Clear the plugin's internal state (delay lines, held notes), as on a transport jump."""
        with self._call() as p:
            self._check(p.reset())

    def release(self) -> None:
        """Release the plugin's processing resources; :meth:`prepare` again to process."""
        with self._call() as p:
            self._check(p.release())
        self._prepared = False

    # -- state ----------------------------------------------------------------------------

    def get_state(self) -> bytes:
        """The plugin's full state as the host saves it (a DAW project would store this)."""
        import cppyy.ll

        with self._call() as p:
            size = int(self._check(p.saveState()))
            if size == 0:
                return b""
            address = cppyy.ll.cast["uintptr_t"](p.savedState().getData())
            return ctypes.string_at(int(address), size)

    def set_state(self, state: bytes) -> None:
        """Restore a state from :meth:`get_state`; a foreign blob raises PluginHostError."""
        data = np.frombuffer(bytes(state), dtype=np.uint8)
        with self._call() as p:
            self._check(p.loadState(data, int(data.size)))

    state = property(get_state, set_state)

    def pump_messages(self, milliseconds: int = 0) -> int:
        """Dispatch pending JUCE messages (plugins' async notifications) for a while."""
        with _CONTROL:
            return int(self._cpp.host.py.control().pumpMessages(int(milliseconds)))

    def editor_size(self) -> tuple[int, int]:
        """Create the plugin's editor, return its (width, height) and close it (needs X)."""
        w, h = ctypes.c_int(), ctypes.c_int()
        with self._call() as p:
            self._check(p.probeEditor(w, h))
        return int(w.value), int(h.value)

    def show_editor(self, milliseconds: int) -> tuple[int, int]:
        """Show the plugin's editor at the display's top left for a while, then close it.

        Messages are dispatched meanwhile, so the editor paints and updates; another Python
        thread may look at the screen then (the call releases the GIL). Needs an X display.
        Returns the editor's (width, height).
        """
        w, h = ctypes.c_int(), ctypes.c_int()
        with self._call() as p:
            self._check(p.showEditor(max(0, int(milliseconds)), w, h))
        return int(w.value), int(h.value)

    # -- processing -----------------------------------------------------------------------

    def _block_sizes(self, block_size: BlockSizes, n: int) -> np.ndarray:
        if block_size is None:
            sizes = np.array([self._max_block], dtype=np.int32)
        elif isinstance(block_size, (int, np.integer)):
            sizes = np.array([int(block_size)], dtype=np.int32)
        elif isinstance(block_size, Sequence) or isinstance(block_size, np.ndarray):
            sizes = np.asarray(block_size, dtype=np.int32).reshape(-1)
        else:
            # An iterator (maybe endless): take as many sizes as it takes to cover n samples.
            taken: list[int] = []
            total = 0
            for size in block_size:
                if total >= n:
                    break
                taken.append(int(size))
                total += max(1, int(size))
            sizes = np.array(taken or [self._max_block], dtype=np.int32)
        if sizes.size == 0:
            raise PluginHostError("block_size: an empty list of block sizes")
        largest = max(self._max_block, self._block_limit)
        bad = sizes[(sizes < 1) | (sizes > largest)]
        if bad.size:
            raise PluginHostError(f"block size {int(bad[0])} is outside 1..{largest} "
                                  "(prepare with a larger block_size)")
        return np.ascontiguousarray(sizes)

    def process(
        self,
        audio: np.ndarray,
        block_size: BlockSizes = None,
        *,
        realtime: bool = False,
        midi_in: Iterable[MidiMessage] = (),
        allow_nonfinite: bool = False,
    ) -> Processed:
        """Run audio (and MIDI) through the plugin, block by block.

        Parameters
        ----------
        audio
            float32 samples, ``(channels, n)`` or ``(n,)`` for one channel; its channel
            count must match :attr:`input_channels` (a plugin with no audio input uses
            only ``n``). C-contiguous float32 input is passed without a copy.
        block_size
            Block size, a list of sizes used in turn, or an iterator of sizes (e.g. random
            sizes as a DAW gives them). Default: the prepared block size. Each must be in
            1..prepared block size.
        realtime
            False (the default, as in pedalboard): the plugin renders offline; it may take
            the time it needs, and a VocalMIDI plugin gives the same output for any block
            sizes. True: a live stream, as from a sound card; blocks are paced at real time
            (see :meth:`set_pacing`).
        midi_in
            MIDI to deliver, sample positions counted from the first sample of ``audio``.
        allow_nonfinite
            Pass NaN/Inf samples on to the plugin instead of refusing them (robustness tests).

        Returns
        -------
        Processed
            ``(audio, midi)``: the output audio, shaped like the input for one channel and
            ``(output_channels, n)`` otherwise, and the MIDI messages the plugin emitted,
            in order, with sample positions counted from the first sample of ``audio``.
        """
        self._plugin()
        if not self._prepared:
            raise PluginHostError("the plugin is not prepared: call prepare(sample_rate, "
                                  "block_size) first")
        x = np.asarray(audio)
        if x.ndim not in (1, 2):
            raise PluginHostError(f"audio must be (channels, n) or (n,), not shape {x.shape}")
        one_d = x.ndim == 1
        x2 = x.reshape(1, -1) if one_d else x
        n = int(x2.shape[1])
        n_in, n_out = self.input_channels, self.output_channels
        if n_in and x2.shape[0] != n_in:
            raise PluginHostError(f"audio has {x2.shape[0]} channel(s) but the plugin was "
                                  f"prepared with {n_in} input channel(s)")
        src = np.ascontiguousarray(x2, dtype=np.float32)
        if not allow_nonfinite and not np.isfinite(src).all():
            raise PluginHostError("audio holds NaN or infinite samples")
        out = np.empty((n_out, n), dtype=np.float32)
        sizes = self._block_sizes(block_size, n)

        events = sorted(midi_in, key=lambda m: m.sample)
        for m in events:
            if not 0 <= m.sample < max(1, n) or not m.data:
                raise PluginHostError(f"MIDI input at sample {m.sample} is outside the audio "
                                      f"(0..{n - 1}) or empty")
        midi = self._render(src if n_in else None, out if n_out else None, n, sizes, events,
                            realtime)
        audio_out = out[0] if (one_d and n_out == 1) else out
        return Processed(audio_out, midi)

    def _render(self, src: np.ndarray | None, out: np.ndarray | None, n: int,
                sizes: np.ndarray, events: list[MidiMessage], realtime: bool) -> list[MidiMessage]:
        """Run the checked buffers through the plugin (one C++ call for all the blocks);
        the MIDI it emitted."""
        import cppyy

        null = cppyy.nullptr
        ev: Any = null
        pool: Any = null
        if events:  # laid out as vocalmidi::host::MidiEvent; the arrays outlive the call
            table = np.zeros(len(events), _MIDI_EVENT)
            table["sample"] = [m.sample for m in events]
            table["size"] = [len(m.data) for m in events]
            table["offset"][1:] = np.cumsum(table["size"][:-1])
            pool = np.frombuffer(b"".join(m.data for m in events), np.uint8)
            ev = cppyy.ll.cast["vocalmidi::host::MidiEvent*"](table.ctypes.data)
        with self._call() as p:
            self._check(p.setNonRealtime(not realtime))
            p.setPacing(self._pacing if realtime else 0.0)
        with self._lock:  # not a control call: hosts on other threads process meanwhile
            count = self._check(p.process(src if src is not None else null,
                                          out if out is not None else null, n, sizes,
                                          int(sizes.size), ev, len(events), pool))
        midi = juce.midi_out(p) if count else []
        self._pump()  # plugins announce some changes (latency, parameters) through messages
        return midi
