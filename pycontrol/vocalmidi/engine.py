"""Python binding of the C++ engine (``libvocalmidi.so``) through ctypes.

Audio passes zero-copy: a C-contiguous float32 numpy array is handed to the engine as a
``float*``. Events come back with absolute sample positions in the stream.

Examples
--------
>>> from vocalmidi.engine import transcribe_array
>>> notes = transcribe_array(audio, 48000, "model.onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vocalmidi.errors import AudioInputError, ModelError, NotBuiltError, UsageError
from vocalmidi.native import engine_library
from vocalmidi.notes import Note

__all__ = [
    "BendMode",
    "EarlyCorrection",
    "Engine",
    "EngineEvent",
    "EventType",
    "LatencyMode",
    "MODEL_KINDS",
    "PARAM_NAMES",
    "Scale",
    "VelocityMode",
    "events_to_notes",
    "onnxruntime_info",
    "transcribe_array",
]

MODEL_KINDS = ("swiftf0", "crepe-tiny", "pesto", "basic-pitch", "vocalnote")
PARAM_NAMES = (
    "input_gain_db",
    "sensitivity",
    "min_note_ms",
    "bend_mode",
    "bend_range_semitones",
    "key_root",
    "scale",
    "velocity_mode",
    "velocity_curve",
    "fixed_velocity",
    "midi_channel",
    "note_min",
    "note_max",
    "latency_mode",
    "early_correction",
    "aligned_timing",  # 1: events held one block + 5 ms, and reported (sample-exact recordings)
)
_EVENT_CAPACITY = 4096


class EventType(IntEnum):
    NOTE_ON = 0
    NOTE_OFF = 1
    PITCH_BEND = 2


class BendMode(IntEnum):
    OFF = 0
    SINGLE = 1
    CONTINUOUS = 2


class VelocityMode(IntEnum):
    FIXED = 0
    LOUDNESS = 1


class LatencyMode(IntEnum):
    FAST = 0
    ACCURATE = 1
    INSTANT = 2  # the note model's own lookahead only; Fast on a pitch model


class EarlyCorrection(IntEnum):
    """What the note model does when a note's pitch settles elsewhere in its first ms."""

    RETRIGGER = 0
    BEND = 1


class Scale(IntEnum):
    CHROMATIC = 0
    MAJOR = 1
    MINOR = 2
    DORIAN = 3
    PHRYGIAN = 4
    LYDIAN = 5
    MIXOLYDIAN = 6
    LOCRIAN = 7
    HARMONIC_MINOR = 8
    MAJOR_PENTATONIC = 9
    MINOR_PENTATONIC = 10
    BLUES = 11


class _VmEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_uint8),
        ("channel", ctypes.c_uint8),
        ("note", ctypes.c_uint8),
        ("velocity", ctypes.c_uint8),
        ("bend", ctypes.c_int16),
        ("sample_offset", ctypes.c_int32),
    ]


@dataclass(frozen=True)
class EngineEvent:
    """One MIDI event from the engine.

    Parameters
    ----------
    type : EventType
        Note-on, note-off or pitch bend.
    position : int
        Absolute sample position in the stream (host rate) where the event goes out.
    channel : int
        MIDI channel 1..16.
    note : int
        MIDI note (note events).
    velocity : int
        Velocity (note-on).
    bend : int
        Pitch bend -8192..8191 (pitch-bend events).
    """

    type: EventType
    position: int
    channel: int
    note: int = 0
    velocity: int = 0
    bend: int = 0


_lib_cache: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _lib_cache
    if _lib_cache is not None:
        return _lib_cache
    lib = ctypes.CDLL(str(engine_library()))
    p = ctypes.c_void_p
    lib.vm_version.restype = ctypes.c_char_p
    lib.vm_onnxruntime_info_json.argtypes = [ctypes.c_char_p, ctypes.c_int]
    lib.vm_onnxruntime_info_json.restype = ctypes.c_int
    lib.vm_engine_create.restype = p
    lib.vm_engine_destroy.argtypes = [p]
    lib.vm_engine_last_error.argtypes = [p]
    lib.vm_engine_last_error.restype = ctypes.c_char_p
    lib.vm_engine_load_model.argtypes = [p, ctypes.c_char_p, ctypes.c_char_p]
    lib.vm_engine_prepare.argtypes = [p, ctypes.c_double, ctypes.c_int, ctypes.c_int]
    lib.vm_engine_release.argtypes = [p]
    lib.vm_engine_reset.argtypes = [p]
    lib.vm_engine_set_param.argtypes = [p, ctypes.c_char_p, ctypes.c_double]
    lib.vm_engine_get_param.argtypes = [p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_double)]
    lib.vm_engine_process.argtypes = [
        p,
        ctypes.POINTER(ctypes.c_float),
        ctypes.c_int,
        ctypes.POINTER(_VmEvent),
        ctypes.c_int,
    ]
    lib.vm_engine_flush.argtypes = [p, ctypes.POINTER(_VmEvent), ctypes.c_int]
    lib.vm_engine_latency_samples.argtypes = [p]
    lib.vm_engine_stats_json.argtypes = [p, ctypes.c_char_p, ctypes.c_int]
    for name in (
        "vm_engine_load_model",
        "vm_engine_prepare",
        "vm_engine_set_param",
        "vm_engine_get_param",
        "vm_engine_process",
        "vm_engine_flush",
        "vm_engine_latency_samples",
        "vm_engine_stats_json",
    ):
        getattr(lib, name).restype = ctypes.c_int
    # Newer than some built libraries: bound only when there (profile_report says otherwise).
    if hasattr(lib, "vm_engine_profile_report_json"):
        lib.vm_engine_profile_report_json.argtypes = [p, ctypes.c_char_p, ctypes.c_int]
        lib.vm_engine_profile_report_json.restype = ctypes.c_int
    _lib_cache = lib
    return lib


def onnxruntime_info() -> dict[str, Any]:
    """ONNX Runtime version and execution providers the engine sees."""
    lib = _lib()
    need = lib.vm_onnxruntime_info_json(None, 0)
    buf = ctypes.create_string_buffer(max(need, 1))
    lib.vm_onnxruntime_info_json(buf, len(buf))
    result: dict[str, Any] = json.loads(buf.value.decode())
    return result


def _enum_value(name: str, value: Any) -> float:
    if isinstance(value, str):
        enums: Mapping[str, type[IntEnum]] = {
            "bend_mode": BendMode,
            "velocity_mode": VelocityMode,
            "latency_mode": LatencyMode,
            "early_correction": EarlyCorrection,
            "scale": Scale,
        }
        enum = enums.get(name)
        if enum is None:
            raise UsageError(f"parameter {name} takes a number, got {value!r}")
        try:
            return float(enum[value.upper().replace("-", "_")])
        except KeyError:
            choices = ", ".join(m.name.lower() for m in enum)
            raise UsageError(f"{name} must be one of {choices}, got {value!r}") from None
    return float(value)


class Engine:
    """One engine instance: load a model, prepare, feed audio, read events.

    Parameters
    ----------
    model_path : str or Path, optional
        ONNX model to load right away.
    kind : str
        Model adapter: ``swiftf0``, ``crepe-tiny``, ``pesto``, ``basic-pitch`` or
        ``vocalnote`` (our note model, docs/note-model.md).

    Notes
    -----
    Not thread-safe: drive one instance from one thread. ``stats`` may be called any time.
    """

    def __init__(self, model_path: str | Path | None = None, kind: str = "swiftf0") -> None:
        self._lib = _lib()
        self._handle = self._lib.vm_engine_create()
        if not self._handle:
            raise ModelError("could not create an engine instance (out of memory?)")
        self._events = (_VmEvent * _EVENT_CAPACITY)()
        self._position = 0
        self._sample_rate = 0.0
        self._realtime = False
        if model_path is not None:
            self.load_model(model_path, kind)

    def close(self) -> None:
        """Free the engine (also done when the object is garbage collected)."""
        if getattr(self, "_handle", None):
            self._lib.vm_engine_destroy(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self) -> str:
        msg: bytes | None = self._lib.vm_engine_last_error(self._handle)
        return msg.decode(errors="replace") if msg else "unknown engine error"

    def load_model(self, path: str | Path, kind: str = "swiftf0") -> None:
        """Load and warm up an ONNX model; it replaces the current one atomically.

        Raises
        ------
        ModelError
            When the kind is unknown or the file is missing, corrupt or of another kind.
        """
        if kind not in MODEL_KINDS:
            raise ModelError(f"unknown model kind {kind!r}: use one of {', '.join(MODEL_KINDS)}")
        rc = self._lib.vm_engine_load_model(self._handle, kind.encode(), str(path).encode())
        if rc != 0:
            raise ModelError(self._error())

    def prepare(self, sample_rate: float, max_block: int = 4096, realtime: bool = False) -> None:
        """Get ready for a stream at ``sample_rate``; offline (``realtime=False``) output is
        deterministic and identical for any block size. Restarts positions at 0."""
        rc = self._lib.vm_engine_prepare(
            self._handle, float(sample_rate), int(max_block), int(bool(realtime))
        )
        if rc != 0:
            raise UsageError(self._error())
        self._position = 0
        self._sample_rate = float(sample_rate)
        self._realtime = bool(realtime)

    def release(self) -> None:
        """Stop the engine's worker thread (prepare again to continue)."""
        self._lib.vm_engine_release(self._handle)

    def reset(self) -> None:
        """Forget queued audio; held notes end with the next ``process`` call."""
        self._lib.vm_engine_reset(self._handle)

    def set_param(self, name: str, value: float | int | str) -> None:
        """Set one parameter (``PARAM_NAMES``); enums also take their names, e.g.
        ``set_param("scale", "major")``.

        Raises
        ------
        UsageError
            Unknown name or value out of range.
        """
        rc = self._lib.vm_engine_set_param(self._handle, name.encode(), _enum_value(name, value))
        if rc != 0:
            raise UsageError(self._error())

    def get_param(self, name: str) -> float:
        """Current value of one parameter."""
        out = ctypes.c_double()
        if self._lib.vm_engine_get_param(self._handle, name.encode(), ctypes.byref(out)) != 0:
            raise UsageError(self._error())
        return out.value

    @property
    def latency_samples(self) -> int:
        """Reported latency at the prepared rate: note events leave this many samples after
        the voice sounded them (model lookahead + note decision budget, docs/engine.md)."""
        return int(self._lib.vm_engine_latency_samples(self._handle))

    @property
    def position(self) -> int:
        """Samples fed since ``prepare``."""
        return self._position

    def _collect(self, count: int, base: int) -> list[EngineEvent]:
        if count < 0:
            raise AudioInputError(self._error())
        out = []
        for i in range(count):
            e = self._events[i]
            out.append(
                EngineEvent(
                    type=EventType(e.type),
                    position=base + int(e.sample_offset),
                    channel=int(e.channel),
                    note=int(e.note),
                    velocity=int(e.velocity),
                    bend=int(e.bend),
                )
            )
        return out

    def process(self, audio: npt.ArrayLike) -> list[EngineEvent]:
        """Feed mono audio; returns the events of this block with absolute positions.

        Parameters
        ----------
        audio : array_like
            1-D mono samples; float32 C-contiguous arrays pass without a copy.

        Raises
        ------
        AudioInputError
            When the audio is not 1-D.
        """
        if self._sample_rate <= 0:
            raise UsageError("call prepare(sample_rate) before process()")
        block = np.ascontiguousarray(audio, dtype=np.float32)
        if block.ndim != 1:
            raise AudioInputError(f"process() takes mono 1-D audio, got shape {block.shape}")
        base = self._position
        ptr = block.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        events: list[EngineEvent] = []
        n = block.shape[0]
        count = self._lib.vm_engine_process(self._handle, ptr, n, self._events, _EVENT_CAPACITY)
        events.extend(self._collect(count, base))
        self._position += n
        return events

    def flush(self) -> list[EngineEvent]:
        """End of stream (offline): events the model's lookahead still held, note-offs last."""
        count = self._lib.vm_engine_flush(self._handle, self._events, _EVENT_CAPACITY)
        return self._collect(count, self._position)

    def _json_call(self, fn: Any) -> dict[str, Any]:
        need = fn(self._handle, None, 0)
        if need < 0:
            raise UsageError(self._error())
        buf = ctypes.create_string_buffer(need + 4096)  # stats may grow between the calls
        fn(self._handle, buf, len(buf))
        result: dict[str, Any] = json.loads(buf.value.decode())
        return result

    def stats(self) -> dict[str, Any]:
        """Profiler, queue, latency and thread statistics."""
        return self._json_call(self._lib.vm_engine_stats_json)

    def profile_report(self) -> dict[str, Any]:
        """The stats as a report: each figure with its target and whether it meets it.

        Returns
        -------
        dict
            ``schema`` (``vocalmidi-profile/1``), ``figures`` (``id``, ``label``,
            ``value``, ``unit``, ``target``, ``ok``), ``warnings``, ``threads`` (which
            thread did what) and the raw ``stats``; the plugin editor saves the same.
        """
        fn = getattr(self._lib, "vm_engine_profile_report_json", None)
        if fn is None:
            raise NotBuiltError("the engine library predates the profile report: rebuild it "
                                "(make build)")
        return self._json_call(fn)


def events_to_notes(
    events: Iterable[EngineEvent], sample_rate: float, latency_samples: int = 0
) -> list[Note]:
    """Pair note-ons with note-offs into notes (times in seconds, latency subtracted)."""
    open_notes: dict[tuple[int, int], tuple[int, int]] = {}
    notes: list[Note] = []
    last = 0
    for e in events:
        last = max(last, e.position)
        key = (e.channel, e.note)
        if e.type == EventType.NOTE_ON:
            if key in open_notes:
                start, vel = open_notes.pop(key)
                notes.append(_note(start, e.position, e.note, vel, sample_rate, latency_samples))
            open_notes[key] = (e.position, e.velocity)
        elif e.type == EventType.NOTE_OFF and key in open_notes:
            start, vel = open_notes.pop(key)
            notes.append(_note(start, e.position, e.note, vel, sample_rate, latency_samples))
    for (_, pitch), (start, vel) in open_notes.items():
        notes.append(_note(start, last, pitch, vel, sample_rate, latency_samples))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def _note(start: int, end: int, pitch: int, vel: int, sr: float, latency: int) -> Note:
    s = max(0.0, (start - latency) / sr)
    e = max(s, (end - latency) / sr)
    return Note(s, e, pitch, max(1, vel))


def transcribe_array(
    audio: npt.ArrayLike,
    sr: float,
    model_path: str | Path,
    kind: str = "swiftf0",
    block_size: int = 4096,
    **params: float | int | str,
) -> list[Note]:
    """Transcribe mono (or channels-last, downmixed) audio to notes, offline.

    Parameters
    ----------
    audio : array_like
        Samples, 1-D mono or 2-D ``(frames, channels)``.
    sr : float
        Sample rate in Hz.
    model_path : str or Path
        ONNX model file.
    kind : str
        Model adapter (see ``MODEL_KINDS``).
    block_size : int
        Block size used to feed the engine (the result does not depend on it).
    **params
        Engine parameters by name (``PARAM_NAMES``), e.g. ``sensitivity=0.7, scale="major"``.

    Returns
    -------
    list of Note
        Notes with start/end in seconds, the engine's latency already subtracted.

    Raises
    ------
    AudioInputError
        Empty audio, bad shape or a non-finite sample rate.
    ModelError
        The model could not be loaded.
    """
    signal = np.asarray(audio, dtype=np.float32)
    if signal.ndim == 2:
        signal = signal.mean(axis=1, dtype=np.float32)
    if signal.ndim != 1 or signal.size == 0:
        raise AudioInputError(
            f"audio must be non-empty mono or (frames, channels), got shape {signal.shape}"
        )
    if not (isinstance(sr, (int, float)) and math.isfinite(sr) and 8000 <= sr <= 768000):
        raise AudioInputError(f"sample rate must be 8000..768000 Hz, got {sr}")
    signal = np.ascontiguousarray(signal)
    with Engine(model_path, kind) as engine:
        for name, value in params.items():
            engine.set_param(name, value)
        engine.prepare(sr, block_size, realtime=False)
        events: list[EngineEvent] = []
        for start in range(0, signal.size, block_size):
            events.extend(engine.process(signal[start : start + block_size]))
        events.extend(engine.flush())
        return events_to_notes(events, sr, engine.latency_samples)
