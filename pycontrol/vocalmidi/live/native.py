"""ctypes binding of ``libvocalmidi_live`` (C API in live/include/vocalmidi/vocalmidi_live.h)."""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocalmidi.errors import BackendUnavailableError, ModelError, NotBuiltError, UsageError

__all__ = ["LiveClient", "LiveEvent", "live_library"]

_POLL_CAPACITY = 512


class _VmlEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_uint8),
        ("channel", ctypes.c_uint8),
        ("note", ctypes.c_uint8),
        ("velocity", ctypes.c_uint8),
        ("bend", ctypes.c_int16),
        ("reserved", ctypes.c_int16),
        ("frame", ctypes.c_int64),
    ]


@dataclass(frozen=True)
class LiveEvent:
    """One event as it left the JACK MIDI port.

    Attributes
    ----------
    type : int
        0 note-on, 1 note-off, 2 pitch bend.
    channel : int
        MIDI channel 1..16.
    note, velocity : int
    bend : int
        -8192..8191 for pitch bends.
    frame : int
        JACK frame time of the event.
    """

    type: int
    channel: int
    note: int
    velocity: int
    bend: int
    frame: int

    def midi_bytes(self) -> list[int]:
        """The raw 3-byte MIDI message."""
        ch = (self.channel - 1) & 0x0F
        if self.type == 0:
            return [0x90 | ch, self.note, self.velocity]
        if self.type == 1:
            return [0x80 | ch, self.note, 0]
        value = max(0, min(16383, self.bend + 8192))
        return [0xE0 | ch, value & 0x7F, value >> 7]


def live_library() -> Path:
    """Path of ``libvocalmidi_live.so`` in the native folder.

    Raises
    ------
    NotBuiltError
        When it was not built (JACK development files missing at build time).
    """
    from vocalmidi.native import native_dir

    path = native_dir() / "libvocalmidi_live.so"
    if not path.exists():
        raise NotBuiltError(
            f"the live client library is missing ({path}): install libjack-jackd2-dev "
            "and run `make build`"
        )
    return path


_lib_cache: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _lib_cache
    if _lib_cache is not None:
        return _lib_cache
    lib = ctypes.CDLL(str(live_library()))
    p = ctypes.c_void_p
    s = ctypes.c_char_p
    sigs: dict[str, tuple[list[Any], Any]] = {
        "vml_last_error": ([p], s),
        "vml_create": ([s, s], p),
        "vml_destroy": ([p], None),
        "vml_load_model": ([p, s, s], ctypes.c_int),
        "vml_set_param": ([p, s, ctypes.c_double], ctypes.c_int),
        "vml_start": ([p], ctypes.c_int),
        "vml_stop": ([p], ctypes.c_int),
        "vml_input_port": ([p], s),
        "vml_output_port": ([p], s),
        "vml_connect": ([p, s, s], ctypes.c_int),
        "vml_sample_rate": ([p], ctypes.c_int),
        "vml_buffer_size": ([p], ctypes.c_int),
        "vml_latency_samples": ([p], ctypes.c_int),
        "vml_frame_time": ([p], ctypes.c_int64),
        "vml_poll": ([p, ctypes.POINTER(_VmlEvent), ctypes.c_int], ctypes.c_int),
        "vml_stats_json": ([p, s, ctypes.c_int], ctypes.c_int),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    _lib_cache = lib
    return lib


class LiveClient:
    """A JACK client running the engine in its real-time callback.

    Parameters
    ----------
    name : str
        JACK client name (JACK appends a number when it is taken).
    server : str or None
        JACK server name; None uses ``$JACK_DEFAULT_SERVER`` or the default server.

    Raises
    ------
    BackendUnavailableError
        When no JACK server is running.
    """

    def __init__(self, name: str = "vocalmidi", server: str | None = None) -> None:
        self._lib = _lib()
        self._events = (_VmlEvent * _POLL_CAPACITY)()
        self._handle = self._lib.vml_create(name.encode(), server.encode() if server else None)
        if not self._handle:
            raise BackendUnavailableError(self._error(None))

    def _error(self, handle: Any) -> str:
        msg = self._lib.vml_last_error(handle)
        return msg.decode(errors="replace") if msg else "unknown live client error"

    def close(self) -> None:
        """Stop (note-offs out) and close the JACK client."""
        if getattr(self, "_handle", None):
            self._lib.vml_destroy(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load_model(self, path: str | Path, kind: str = "swiftf0") -> None:
        """Load the ONNX model (off the audio thread)."""
        if self._lib.vml_load_model(self._handle, kind.encode(), str(path).encode()) != 0:
            raise ModelError(self._error(self._handle))

    def set_param(self, name: str, value: float) -> None:
        """Set an engine parameter (names as ``vocalmidi.engine.PARAM_NAMES``)."""
        if self._lib.vml_set_param(self._handle, name.encode(), float(value)) != 0:
            raise UsageError(self._error(self._handle))

    def start(self) -> None:
        """Prepare the engine at the server's rate and activate the client."""
        if self._lib.vml_start(self._handle) != 0:
            raise BackendUnavailableError(self._error(self._handle))

    def stop(self) -> int:
        """End sounding notes on the MIDI port and deactivate; returns note-offs sent."""
        return int(self._lib.vml_stop(self._handle))

    def connect(self, source: str, destination: str) -> None:
        """Connect two JACK ports (full names)."""
        if self._lib.vml_connect(self._handle, source.encode(), destination.encode()) != 0:
            raise UsageError(self._error(self._handle))

    @property
    def input_port(self) -> str:
        return str(self._lib.vml_input_port(self._handle).decode())

    @property
    def output_port(self) -> str:
        return str(self._lib.vml_output_port(self._handle).decode())

    @property
    def sample_rate(self) -> int:
        return int(self._lib.vml_sample_rate(self._handle))

    @property
    def buffer_size(self) -> int:
        return int(self._lib.vml_buffer_size(self._handle))

    @property
    def latency_samples(self) -> int:
        """Engine latency plus one JACK period."""
        return int(self._lib.vml_latency_samples(self._handle))

    @property
    def frame_time(self) -> int:
        return int(self._lib.vml_frame_time(self._handle))

    def poll(self) -> list[LiveEvent]:
        """Events the callback emitted since the last poll, oldest first."""
        out: list[LiveEvent] = []
        while True:
            n = self._lib.vml_poll(self._handle, self._events, _POLL_CAPACITY)
            for i in range(max(0, n)):
                e = self._events[i]
                out.append(LiveEvent(e.type, e.channel, e.note, e.velocity, e.bend, e.frame))
            if n < _POLL_CAPACITY:
                return out

    def stats(self) -> dict[str, Any]:
        """Level, pitch, JACK CPU load, callback timing, xruns, latency, engine stats."""
        need = self._lib.vml_stats_json(self._handle, None, 0)
        buf = ctypes.create_string_buffer(max(need, 1) + 256)
        self._lib.vml_stats_json(self._handle, buf, len(buf))
        result: dict[str, Any] = json.loads(buf.value.decode())
        return result
