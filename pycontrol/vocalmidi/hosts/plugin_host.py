"""Host a VST3 or LV2 plugin headless and see the MIDI it emits.

pedalboard runs plugins well but throws their MIDI output away. :class:`PluginHost` wraps
our own JUCE host library (``libvocalmidi_host.so``, located by
:func:`vocalmidi.native.host_library`) through ctypes: audio goes in and out as float32
numpy arrays without copies, and every MIDI event the plugin emits comes back with the
sample it was emitted at.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vocalmidi import native
from vocalmidi.errors import VocalMidiError
from vocalmidi.hosts.midi import MidiMessage


def _absolute_cache_variable() -> None:
    """Make a relative ``VOCALMIDI_CACHE`` absolute before a plugin reads it.

    The plugin resolves the cache on its own thread while JUCE loads the module, and JUCE
    switches the working folder to the plugin's folder for that: a relative path would
    then point inside the bundle's folder, not where the Python side finds the models.
    """
    value = os.environ.get("VOCALMIDI_CACHE")
    if value and not os.path.isabs(value):
        os.environ["VOCALMIDI_CACHE"] = os.path.abspath(value)

__all__ = [
    "MidiMessage",
    "Parameter",
    "Parameters",
    "PluginHost",
    "PluginHostError",
    "Processed",
]

_STRING_CAPACITY = 4096


class PluginHostError(VocalMidiError):
    """The plugin could not be loaded, prepared or run, or was used in the wrong order."""

    exit_code = 8


class _MidiEvent(ctypes.Structure):
    _fields_ = [("sample", ctypes.c_int64), ("offset", ctypes.c_int32), ("size", ctypes.c_int32)]


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
    """

    index: int
    name: str
    label: str
    value: float
    text: str
    default: float
    num_steps: int

    @property
    def is_discrete(self) -> bool:
        return 1 < self.num_steps < 0x7FFFFFFF


def _load_library(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise PluginHostError(f"cannot load the host library {path}: {exc}") from None
    c_int, c_char_p, c_float, c_double, c_int64 = (
        ctypes.c_int, ctypes.c_char_p, ctypes.c_float, ctypes.c_double, ctypes.c_int64)
    vp = ctypes.c_void_p
    sigs: dict[str, tuple[type | None, list[type]]] = {
        "vmh_api_version": (c_int, []),
        "vmh_last_error": (c_char_p, [vp]),
        "vmh_create": (vp, []),
        "vmh_destroy": (None, [vp]),
        "vmh_list_plugins": (c_int, [c_char_p, c_char_p, c_int]),
        "vmh_load": (c_int, [vp, c_char_p, c_char_p]),
        "vmh_plugin_name": (c_int, [vp, c_char_p, c_int]),
        "vmh_plugin_format": (c_int, [vp, c_char_p, c_int]),
        "vmh_accepts_midi": (c_int, [vp]),
        "vmh_produces_midi": (c_int, [vp]),
        "vmh_parameter_count": (c_int, [vp]),
        "vmh_parameter_index": (c_int, [vp, c_char_p]),
        "vmh_parameter_name": (c_int, [vp, c_int, c_char_p, c_int]),
        "vmh_parameter_label": (c_int, [vp, c_int, c_char_p, c_int]),
        "vmh_parameter_get": (c_int, [vp, c_int, ctypes.POINTER(c_float)]),
        "vmh_parameter_default": (c_int, [vp, c_int, ctypes.POINTER(c_float)]),
        "vmh_parameter_num_steps": (c_int, [vp, c_int]),
        "vmh_parameter_text": (c_int, [vp, c_int, c_float, c_char_p, c_int]),
        "vmh_parameter_set": (c_int, [vp, c_int, c_float]),
        "vmh_parameter_set_text": (c_int, [vp, c_int, c_char_p]),
        "vmh_prepare": (c_int, [vp, c_double, c_int, c_int, c_int]),
        "vmh_input_channels": (c_int, [vp]),
        "vmh_output_channels": (c_int, [vp]),
        "vmh_set_non_realtime": (c_int, [vp, c_int]),
        "vmh_set_bypassed": (c_int, [vp, c_int]),
        "vmh_set_transport": (c_int, [vp, c_int, c_int64, c_double]),
        "vmh_transport_position": (c_int64, [vp]),
        "vmh_process": (c_int, [vp, vp, vp, c_int64, vp, c_int, vp, c_int, vp]),
        "vmh_set_pacing": (c_int, [vp, c_double]),
        "vmh_set_block_limit": (c_int, [vp, c_int]),
        "vmh_process_allocations": (c_int, [vp, ctypes.POINTER(c_int64), ctypes.POINTER(c_int64),
                                            ctypes.POINTER(c_int64)]),
        "vmh_midi_out_events": (ctypes.POINTER(_MidiEvent), [vp]),
        "vmh_midi_out_bytes": (ctypes.POINTER(ctypes.c_uint8), [vp]),
        "vmh_midi_out_count": (c_int, [vp]),
        "vmh_latency_samples": (c_int, [vp]),
        "vmh_tail_seconds": (c_int, [vp, ctypes.POINTER(c_double)]),
        "vmh_reset": (c_int, [vp]),
        "vmh_release": (c_int, [vp]),
        "vmh_state_save": (c_int64, [vp]),
        "vmh_state_copy": (c_int, [vp, c_char_p, c_int64]),
        "vmh_state_load": (c_int, [vp, c_char_p, c_int64]),
        "vmh_pump_messages": (c_int, [c_int]),
        "vmh_editor_probe": (c_int, [vp, ctypes.POINTER(c_int), ctypes.POINTER(c_int)]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    if lib.vmh_api_version() != 1:
        raise PluginHostError(f"{path} speaks host API {lib.vmh_api_version()}, expected 1")
    return lib


_LIBRARY: ctypes.CDLL | None = None


def _library() -> ctypes.CDLL:
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _load_library(native.host_library())
    return _LIBRARY


def list_plugins(path: str | Path) -> list[tuple[str, str, str]]:
    """List the plugins a bundle (or LV2 URI) holds.

    Returns
    -------
    list of (format, identifier, name)
        ``identifier`` or ``name`` can be passed to :meth:`PluginHost.load` as ``plugin``.
    """
    lib = _library()
    buf = ctypes.create_string_buffer(64 * 1024)
    rc = lib.vmh_list_plugins(str(path).encode(), buf, len(buf))
    if rc < 0:
        raise PluginHostError(lib.vmh_last_error(None).decode(errors="replace"))
    rows = buf.value.decode(errors="replace").splitlines()
    return [tuple(row.split("\t", 2)) for row in rows]  # type: ignore[misc]


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
        self._lib = _library()
        handle = self._lib.vmh_create()
        if not handle:
            raise PluginHostError(self._lib.vmh_last_error(None).decode(errors="replace"))
        self._h: int | None = handle
        self._prepared = False
        self._max_block = 0
        self._block_limit = 0
        self._pacing = 1.0
        self.sample_rate = 0.0
        self._path: Path | str | None = None
        if path is not None:
            self.load(path, plugin=plugin)

    # -- plumbing -------------------------------------------------------------------------

    def _handle(self) -> int:
        if self._h is None:
            raise PluginHostError("the plugin host is closed")
        return self._h

    def _error(self) -> str:
        msg = self._lib.vmh_last_error(self._h)
        return msg.decode(errors="replace") if msg else "unknown error"

    def _check(self, rc: int) -> int:
        if rc < 0:
            raise PluginHostError(self._error())
        return rc

    def _string(self, fn_name: str, *args: object) -> str:
        buf = ctypes.create_string_buffer(_STRING_CAPACITY)
        self._check(getattr(self._lib, fn_name)(self._handle(), *args, buf, len(buf)))
        return buf.value.decode(errors="replace")

    def _require_loaded(self) -> None:
        if self._path is None:
            raise PluginHostError("no plugin is loaded: call load(path) first")

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Unload the plugin and free the host (idempotent)."""
        if self._h is not None:
            self._lib.vmh_destroy(self._h)
            self._h = None

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
        self._check(self._lib.vmh_load(self._handle(), target.encode(),
                                       plugin.encode() if plugin else None))
        self._path = path if "://" in target else Path(path)
        self._prepared = False

    @property
    def name(self) -> str:
        return self._string("vmh_plugin_name")

    @property
    def format(self) -> str:
        """``"VST3"`` or ``"LV2"``."""
        return self._string("vmh_plugin_format")

    @property
    def programs(self) -> list[str]:
        """Names of the programs (presets) the plugin offers, as a host lists them."""
        lib, h = self._lib, self._handle()
        try:
            count_fn, name_fn = lib.vmh_program_count, lib.vmh_program_name
        except AttributeError:
            raise PluginHostError("this host library predates program names; rebuild it") from None
        count_fn.restype, count_fn.argtypes = ctypes.c_int, [ctypes.c_void_p]
        name_fn.restype = ctypes.c_int
        name_fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        return [self._string("vmh_program_name", i) for i in range(self._check(count_fn(h)))]

    @property
    def accepts_midi(self) -> bool:
        return bool(self._check(self._lib.vmh_accepts_midi(self._handle())))

    @property
    def produces_midi(self) -> bool:
        return bool(self._check(self._lib.vmh_produces_midi(self._handle())))

    # -- parameters -----------------------------------------------------------------------

    def _parameter_count(self) -> int:
        return self._check(self._lib.vmh_parameter_count(self._handle()))

    def _parameter_name(self, index: int) -> str:
        return self._string("vmh_parameter_name", index)

    def _parameter_index(self, name: str) -> int:
        rc = self._lib.vmh_parameter_index(self._handle(), name.encode())
        if rc < 0:
            self._require_loaded()
            names = ", ".join(self._parameter_name(i) for i in range(self._parameter_count()))
            raise PluginHostError(f"{self.name} has no parameter {name!r} (it has: {names})")
        return rc

    def _parameter(self, index: int) -> Parameter:
        h = self._handle()
        value, default = ctypes.c_float(), ctypes.c_float()
        self._check(self._lib.vmh_parameter_get(h, index, ctypes.byref(value)))
        self._check(self._lib.vmh_parameter_default(h, index, ctypes.byref(default)))
        return Parameter(
            index=index,
            name=self._parameter_name(index),
            label=self._string("vmh_parameter_label", index),
            value=float(value.value),
            text=self._string("vmh_parameter_text", index, ctypes.c_float(-1.0)),
            default=float(default.value),
            num_steps=self._check(self._lib.vmh_parameter_num_steps(h, index)),
        )

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
            self._check(self._lib.vmh_parameter_set_text(self._handle(), index, value.encode()))
            return
        v = float(value)
        if not 0.0 <= v <= 1.0:
            raise PluginHostError(f"parameter {name!r}: normalised value {v} is outside 0..1 "
                                  "(pass a string to give a value in the parameter's own units)")
        self._check(self._lib.vmh_parameter_set(self._handle(), index, v))

    def get_parameter(self, name: str) -> float:
        """Normalised value (0..1) of the parameter called ``name``."""
        return self.parameters[name].value

    def parameter_text(self, name: str, value: float | None = None) -> str:
        """The plugin's text for the parameter's current value, or for a normalised ``value``."""
        index = self._parameter_index(name)
        v = -1.0 if value is None else float(value)
        return self._string("vmh_parameter_text", index, ctypes.c_float(v))

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
        # Prepared as for an offline render first: a plugin that loads its model in the
        # background (VocalMIDI) loads it before an offline prepare returns, so the first
        # block, live or offline, finds it ready. A live process() re-prepares live.
        self._check(self._lib.vmh_set_non_realtime(self._handle(), 1))
        self._check(self._lib.vmh_prepare(self._handle(), float(sample_rate), int(block_size),
                                          int(channels), int(out)))
        self.sample_rate = float(sample_rate)
        self._max_block = int(block_size)
        self._prepared = True

    @property
    def input_channels(self) -> int:
        return self._check(self._lib.vmh_input_channels(self._handle()))

    @property
    def output_channels(self) -> int:
        return self._check(self._lib.vmh_output_channels(self._handle()))

    def set_transport(self, playing: bool, position: int = 0, bpm: float = 120.0) -> None:
        """Set what the plugin's play head reports; while playing, the position advances."""
        self._check(self._lib.vmh_set_transport(self._handle(), int(bool(playing)),
                                                int(position), float(bpm)))

    @property
    def transport_position(self) -> int:
        """The play head's sample position now."""
        return int(self._lib.vmh_transport_position(self._handle()))

    def set_bypassed(self, bypassed: bool) -> None:
        """Run the plugin's bypassed processing (its bypass parameter, if it has one)."""
        self._check(self._lib.vmh_set_bypassed(self._handle(), int(bool(bypassed))))

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
        self._handle()
        self._pacing = speed

    def set_block_limit(self, max_block: int) -> None:
        """Allow :meth:`process` blocks up to ``max_block`` although prepared for fewer.

        Some hosts pass larger blocks than they announced; this lets a test do the same.
        0 restores the prepared maximum.
        """
        self._check(self._lib.vmh_set_block_limit(self._handle(), int(max_block)))
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
        rc = self._lib.vmh_process_allocations(self._handle(), ctypes.byref(calls),
                                               ctypes.byref(blocks), ctypes.byref(host_calls))
        return (int(calls.value), int(blocks.value), int(host_calls.value)) if rc == 0 else None

    @property
    def latency_samples(self) -> int:
        """The latency the plugin reports, in samples."""
        return self._check(self._lib.vmh_latency_samples(self._handle()))

    @property
    def tail_seconds(self) -> float:
        out = ctypes.c_double()
        self._check(self._lib.vmh_tail_seconds(self._handle(), ctypes.byref(out)))
        return float(out.value)

    def reset(self) -> None:
        """Clear the plugin's internal state (delay lines, held notes), as on a transport jump."""
        self._check(self._lib.vmh_reset(self._handle()))

    def release(self) -> None:
        """Release the plugin's processing resources; :meth:`prepare` again to process."""
        self._check(self._lib.vmh_release(self._handle()))
        self._prepared = False

    # -- state ----------------------------------------------------------------------------

    def get_state(self) -> bytes:
        """The plugin's full state as the host saves it (a DAW project would store this)."""
        size = self._check(self._lib.vmh_state_save(self._handle()))
        buf = ctypes.create_string_buffer(max(1, size))
        self._check(self._lib.vmh_state_copy(self._handle(), buf, size))
        return buf.raw[:size]

    def set_state(self, state: bytes) -> None:
        """Restore a state from :meth:`get_state`; a foreign blob raises PluginHostError."""
        data = bytes(state)
        self._check(self._lib.vmh_state_load(self._handle(), data, len(data)))

    state = property(get_state, set_state)

    def pump_messages(self, milliseconds: int = 0) -> int:
        """Dispatch pending JUCE messages (plugins' async notifications) for a while."""
        return self._check(self._lib.vmh_pump_messages(int(milliseconds)))

    def editor_size(self) -> tuple[int, int]:
        """Create the plugin's editor, return its (width, height) and close it (needs X)."""
        w, h = ctypes.c_int(), ctypes.c_int()
        self._check(self._lib.vmh_editor_probe(self._handle(), ctypes.byref(w), ctypes.byref(h)))
        return int(w.value), int(h.value)

    def show_editor(self, milliseconds: int) -> tuple[int, int]:
        """Show the plugin's editor at the display's top left for a while, then close it.

        Messages are dispatched meanwhile, so the editor paints and updates; another Python
        thread may look at the screen then (the call releases the GIL). Needs an X display.
        Returns the editor's (width, height).
        """
        fn = getattr(self._lib, "vmh_editor_show", None)
        if fn is None:
            raise PluginHostError("this host library cannot show editors; rebuild it")
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                       ctypes.POINTER(ctypes.c_int)]
        w, h = ctypes.c_int(), ctypes.c_int()
        self._check(fn(self._handle(), int(milliseconds), ctypes.byref(w), ctypes.byref(h)))
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
        self._handle()
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
        """Run the checked buffers through the plugin; the MIDI it emitted."""
        h = self._handle()
        ev_arr = (_MidiEvent * max(1, len(events)))()
        pool = bytearray()
        for i, m in enumerate(events):
            ev_arr[i] = _MidiEvent(m.sample, len(pool), len(m.data))
            pool += m.data
        pool_buf = (ctypes.c_uint8 * max(1, len(pool))).from_buffer_copy(bytes(pool) or b"\0")

        self._check(self._lib.vmh_set_non_realtime(h, int(not realtime)))
        self._check(self._lib.vmh_set_pacing(h, self._pacing if realtime else 0.0))
        count = self._check(self._lib.vmh_process(
            h,
            src.ctypes.data if src is not None else None,
            out.ctypes.data if out is not None else None,
            n,
            sizes.ctypes.data, int(sizes.size),
            ctypes.addressof(ev_arr) if events else None, len(events),
            ctypes.addressof(pool_buf) if events else None,
        ))
        midi: list[MidiMessage] = []
        if count:
            evs = self._lib.vmh_midi_out_events(h)
            raw = self._lib.vmh_midi_out_bytes(h)
            total = max(evs[i].offset + evs[i].size for i in range(count))
            data = ctypes.string_at(raw, total)
            midi = [MidiMessage(int(evs[i].sample), data[evs[i].offset:evs[i].offset + evs[i].size])
                    for i in range(count)]
        # Plugins announce some changes (latency, parameters) through messages.
        self._lib.vmh_pump_messages(0)
        return midi
