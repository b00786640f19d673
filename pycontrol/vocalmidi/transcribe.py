"""Offline transcription: audio (array or file) in, notes out.

A note model (adapter ``vocalnote``, the default) is decoded over the whole take by
default (:mod:`vocalmidi.notemodel.offline`): a file has no latency budget, so onsets sit
on the attack and the pitch is read from the settled note. ``live=True`` gives what the
plugin would have sent instead: the engine library, frame by frame. Pitch models (swiftf0
and the others) always run through the engine. Either engine route can also run inside
the built plugin in our headless JUCE host (``through_plugin=True``), which checks the
plugin end to end. Results are cached under ``<cache root>/results/``, keyed by the audio's
SHA-256, the model file's SHA-256, the settings, the route and the native build, so a
re-run of the same take is instant.

Examples
--------
>>> import vocalmidi
>>> notes = vocalmidi.transcribe("take.wav", sensitivity=0.6)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vocalmidi.errors import ModelError, UsageError
from vocalmidi.notes import Note

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ResolvedModel",
    "ResultCache",
    "Settings",
    "resolve_model",
    "cached_result",
    "transcribe",
    "transcribe_file",
]

#: Bumped when the cached result format or the note conversion changes (2: the
#: whole-take decoder checks each note against the audio's period, session 29; 3: a
#: streaming model starts from the rest state and frame -1's onset counts, session 30).
RESULT_FORMAT = 3
#: Block size for feeding audio; offline output does not depend on it.
DEFAULT_BLOCK = 4096

ParamValue = float | int | str


@dataclass(frozen=True)
class ResolvedModel:
    """A verified model file the engine can load.

    Attributes
    ----------
    id : str
        Model id in the manifest (or the file name for a model given as a path).
    adapter : str
        The engine's model kind (``swiftf0``, ``basic-pitch``, ...).
    path : Path
        The ONNX file.
    sha256 : str
        Its SHA-256, checked against the manifest.
    """

    id: str
    adapter: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Settings:
    """Everything that changes a transcription's result.

    Attributes
    ----------
    model : str or None
        Model id, or a path to an ``.onnx`` file (then ``kind`` says its adapter).
        None: the preset's model, else the manifest's default for files (the whole-take
        model), or its live default with ``live`` or ``through_plugin``.
    preset : str or None
        A manifest preset (its model and settings; explicit ``params`` win).
    params : dict
        Engine parameters by name (``vocalmidi.engine.PARAM_NAMES``).
    through_plugin : bool
        Render through the built VST3 plugin in our host instead of the engine.
    kind : str or None
        Adapter of a model given as a path.
    live : bool
        With a note model: decode frame by frame as the plugin does, not the whole take.
    bends : bool
        Whole-take route: attach pitch-bend curves to the notes.
    device : str
        ``auto``, ``cpu`` or ``cuda`` (:mod:`vocalmidi.device`; ``cuda`` falls back to the
        CPU with a warning where it cannot run).
    """

    model: str | None = None
    preset: str | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    through_plugin: bool = False
    kind: str | None = None
    live: bool = False
    bends: bool = False
    device: str = "auto"

    def for_files(self) -> bool:
        """Whether no model named means the manifest's model for files (the whole-take
        route), not the live default: neither ``live`` nor ``through_plugin``."""
        return not (self.live or self.through_plugin)

    def route(self, model: ResolvedModel) -> str:
        """``offline`` (whole-take note decoding), ``engine`` or ``plugin``."""
        if model.adapter == "vocalnote-offline":
            if self.through_plugin or self.live:
                raise UsageError(f"{model.id} is a whole-take model: it cannot run live or "
                                 "in the plugin (use vocalnote-s there)")
            return "offline"
        if self.through_plugin:
            return "plugin"
        return "offline" if model.adapter == "vocalnote" and not self.live else "engine"


def resolve_model(
    model: str | None = None, preset: str | None = None, kind: str | None = None,
    files: bool = False,
) -> tuple[ResolvedModel, dict[str, ParamValue]]:
    """Find a model's verified ONNX file in the model cache.

    Parameters
    ----------
    model : str or None
        Model id, or a path to an ``.onnx`` file.
    preset : str or None
        Preset whose model (its f0 stage, else its notes stage) and settings are used.
    kind : str or None
        Adapter of a model given as a path (default ``swiftf0``).
    files : bool
        With neither ``model`` nor ``preset``: the manifest's ``default_file_model``
        (for a whole file; :meth:`Settings.for_files`) instead of its ``default_model``.

    Returns
    -------
    model : ResolvedModel
    preset_settings : dict
        Engine parameters the preset sets (empty without a preset).

    Raises
    ------
    ModelError
        Unknown model or preset, model not pulled, or a file whose hash does not match.
    """
    from vocalmidi.models.cache import ModelCache
    from vocalmidi.models.hashing import sha256_file

    if model is not None and (model.endswith(".onnx") or os.sep in model):
        path = Path(model)
        if not path.is_file():
            raise ModelError(f"no such model file: {path}")
        return ResolvedModel(path.name, kind or "swiftf0", path.resolve(), sha256_file(path)), {}

    cache = ModelCache()
    manifest = cache.read_manifest()
    if manifest is None:
        from vocalmidi.models.manifest import load_manifest

        manifest = load_manifest()
    settings: dict[str, ParamValue] = {}
    if preset is not None:
        stages = manifest.preset_models(preset)
        if model is None and stages:
            model = stages[0]
        settings = dict(manifest.presets[preset].get("settings", {}))
    if model is None and files:
        model = manifest.default_file_model
    entry = manifest.model(model)
    onnx = entry.onnx_file
    check = cache.check_file(entry, onnx.name)
    if check.state == "missing":
        raise ModelError(
            f"model {entry.id} is not downloaded: run `vocalmidi models pull {entry.id}`"
        )
    if not check.ok:
        raise ModelError(
            f"model {entry.id} in the cache is damaged ({check.state}: {check.detail}): "
            f"run `vocalmidi models pull {entry.id}` again"
        )
    return ResolvedModel(entry.id, entry.adapter, check.path, onnx.sha256), settings


class ResultCache:
    """Transcription results on disk: ``<root>/results/<key[:2]>/<key>.json``.

    Parameters
    ----------
    root : Path or None
        Cache root (default: the model cache root, ``$VOCALMIDI_CACHE``).
    """

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            from vocalmidi.models.cache import cache_root

            root = cache_root()
        self.dir = Path(root) / "results"

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Note] | None:
        """Cached notes, or None when absent or unreadable."""
        try:
            path = self.path(key)
            doc = json.loads(path.read_text())
            notes = [Note.from_dict(d) for d in doc["notes"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        from vocalmidi.result_gc import mark_used

        mark_used(path)  # least-recently-used eviction (`vocalmidi cache gc`)
        return notes

    def put(self, key: str, notes: list[Note], meta: Mapping[str, Any]) -> None:
        """Store notes atomically; a cache that cannot be written is skipped silently
        (the result is still returned to the caller)."""
        target = self.path(key)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"meta": dict(meta), "notes": [n.to_dict() for n in notes]}))
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)


def _stamp(path: Path) -> str:
    """Identity of a native build output: a rebuilt library invalidates cached results."""
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def result_key(audio_digest: str, model: ResolvedModel, params: Mapping[str, ParamValue],
               route: str, bends: bool = False, device: str = "cpu") -> str:
    """The result cache key of one transcription (``route`` from :meth:`Settings.route`,
    ``device`` the one actually used: results from a GPU are kept apart)."""
    from vocalmidi import native

    if route == "offline":
        from vocalmidi.notemodel.offline import OfflineConfig

        natives = [OfflineConfig().as_dict(), bends]  # the decoder's settings, not a build
    else:
        natives = [_stamp(native.engine_library())]
    if route == "plugin":
        natives += [_stamp(native.host_library()), _stamp(native.vst3_path())]
    doc = {
        "format": RESULT_FORMAT,
        "audio": audio_digest,
        "model": model.sha256,
        "adapter": model.adapter,
        "params": {k: params[k] for k in sorted(params)},
        "route": route,
        "native": natives,
    }
    if device != "cpu":
        doc["device"] = device
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _run_engine(audio: np.ndarray, sr: float, model: ResolvedModel,
                params: Mapping[str, ParamValue]) -> list[Note]:
    from vocalmidi.engine import transcribe_array

    return transcribe_array(audio, sr, model.path, kind=model.adapter, block_size=DEFAULT_BLOCK,
                            **params)


def transcribe(
    audio: np.ndarray | str | os.PathLike[str],
    sr: float | None = None,
    *,
    model: str | None = None,
    preset: str | None = None,
    through_plugin: bool = False,
    use_cache: bool = True,
    kind: str | None = None,
    live: bool = False,
    bends: bool = False,
    device: str = "auto",
    **params: ParamValue,
) -> list[Note]:
    """Transcribe a take to notes.

    Parameters
    ----------
    audio : numpy.ndarray, str or path-like
        Samples (1-D mono, or 2-D ``(frames, channels)``, downmixed) or an audio file.
    sr : float, optional
        Sample rate of an array (required then); ignored for files.
    model : str, optional
        Model id in the model cache, or a path to an ``.onnx`` file. Default: the
        manifest's model for files (``default_file_model``: the whole-take note model);
        with ``live`` or ``through_plugin``, the plugin's default model.
    preset : str, optional
        Manifest preset (e.g. ``live-accurate``); explicit parameters override its settings.
    through_plugin : bool
        Render through the built plugin in the headless host (same notes, slower).
    use_cache : bool
        Read and write the result cache.
    kind : str, optional
        Adapter of a model given as a path (default ``swiftf0``).
    live : bool
        With a note model: what the plugin would send live (frame-by-frame decoding in
        the engine) instead of the whole-take decoding.
    bends : bool
        Whole-take decoding: attach the performed pitch as bend curves.
    device : {"auto", "cpu", "cuda"}
        Where the model runs: ``auto`` uses a GPU when one and ONNX Runtime's CUDA
        provider are there; ``cuda`` warns and falls back to the CPU where it cannot run.
    **params
        Engine parameters, e.g. ``sensitivity=0.6``, ``min_note_ms=80``, ``scale="major"``.

    Returns
    -------
    list of Note
        Sorted by start; times in seconds from the start of the take.

    Raises
    ------
    AudioInputError
        Unreadable, empty or NaN-filled audio.
    ModelError
        Unknown or missing model.
    NotBuiltError
        The engine (or plugin/host) is not built.
    """
    from vocalmidi.audio_io import audio_digest, check_audio, file_digest, read_audio

    if isinstance(audio, (str, os.PathLike)):
        path = Path(audio)
        samples, rate = read_audio(path)
        digest = file_digest(path)
        what = str(path)
    else:
        if sr is None:
            raise UsageError("transcribe(array) needs sr=<sample rate in Hz>")
        samples, rate, what = check_audio(audio, sr), float(sr), "audio"
        digest = audio_digest(samples, rate)
    settings = Settings(model, preset, dict(params), through_plugin, kind, live, bends, device)
    return _transcribe_samples(samples, rate, digest, settings, use_cache, what)


def cached_result(path: str | os.PathLike[str], settings: Settings) -> list[Note] | None:
    """The cached notes of a file for ``settings``, or None (hashes the file, decodes nothing)."""
    from vocalmidi.audio_io import file_digest

    model, merged = _resolve(settings)
    return ResultCache().get(result_key(file_digest(path), model, merged,
                                        settings.route(model), settings.bends,
                                        _device(settings)))


def transcribe_file(path: str | os.PathLike[str], settings: Settings,
                    use_cache: bool = True) -> tuple[list[Note], bool]:
    """Transcribe one file; returns ``(notes, from_cache)``.

    The file's bytes are hashed first, so a cached result is returned without decoding.
    """
    from vocalmidi.audio_io import file_digest, read_audio

    digest = file_digest(path)
    model, merged = _resolve(settings)
    key = result_key(digest, model, merged, settings.route(model), settings.bends,
                     _device(settings))
    cache = ResultCache()
    if use_cache and (hit := cache.get(key)) is not None:
        return hit, True
    samples, rate = read_audio(path)
    notes = _render(samples, rate, model, merged, settings)
    if use_cache:
        cache.put(key, notes, {"model": model.id, "input": str(path)})
    return notes, False


def _device(settings: Settings) -> str:
    """Tell the engine the device (before it opens a session) and return the one used."""
    from vocalmidi.device import use_device

    return use_device(settings.device).device


def _resolve(settings: Settings) -> tuple[ResolvedModel, dict[str, ParamValue]]:
    model, preset_params = resolve_model(settings.model, settings.preset, settings.kind,
                                         files=settings.for_files())
    merged = {**preset_params, **dict(settings.params)}
    return model, merged


def _transcribe_samples(samples: np.ndarray, rate: float, digest: str, settings: Settings,
                        use_cache: bool, what: str) -> list[Note]:
    model, merged = _resolve(settings)
    key = result_key(digest, model, merged, settings.route(model), settings.bends,
                     _device(settings))
    cache = ResultCache()
    if use_cache and (hit := cache.get(key)) is not None:
        return hit
    notes = _render(samples, rate, model, merged, settings)
    if use_cache:
        cache.put(key, notes, {"model": model.id, "input": what})
    return notes


def _run_offline(samples: np.ndarray, rate: float, model: ResolvedModel,
                 params: Mapping[str, ParamValue], bends: bool, device: str) -> list[Note]:
    """The whole-take route: the note model over the take (on the resolved ``device``),
    then the whole-take decoder; the note range and key/scale settings apply as in the
    engine."""
    from vocalmidi.notemodel.offline import decode_offline
    from vocalmidi.notemodel.run import NoteModelRunner
    from vocalmidi.notemodel.settings import apply_note_settings

    runner = NoteModelRunner(model.path, device=device)
    notes = decode_offline(runner.analyse(samples, rate, bends), runner.offline_config(),
                           bends=bends)
    return apply_note_settings(notes, params)


def _render(samples: np.ndarray, rate: float, model: ResolvedModel,
            params: Mapping[str, ParamValue], settings: Settings) -> list[Note]:
    route = settings.route(model)
    if route == "offline":
        notes = _run_offline(samples, rate, model, params, settings.bends,
                             _device(settings))
    else:
        notes = (_run_plugin if route == "plugin" else _run_engine)(samples, rate, model,
                                                                    params)
    # The cached form (microsecond times) is the result, so a re-run returns equal notes.
    return [Note.from_dict(n.to_dict()) for n in notes]


#: Engine parameter names -> the plugin's parameter names (plugin/processor ParameterLayout).
PLUGIN_PARAM_NAMES = {
    "input_gain_db": "Input Gain",
    "sensitivity": "Sensitivity",
    "min_note_ms": "Min Note Length",
    "bend_mode": "Pitch Bend",
    "bend_range_semitones": "Bend Range",
    "key_root": "Key",
    "scale": "Scale",
    "velocity_mode": "Velocity Mode",
    "velocity_curve": "Velocity Curve",
    "fixed_velocity": "Fixed Velocity",
    "midi_channel": "MIDI Channel",
    "note_min": "Lowest Note",
    "note_max": "Highest Note",
    "latency_mode": "Latency Mode",
    "early_correction": "Early Correction",
    "aligned_timing": "MIDI Timing",
}
#: Parameters that are choices: the engine value is the choice index.
_PLUGIN_CHOICES = ("bend_mode", "key_root", "scale", "velocity_mode", "latency_mode",
                   "early_correction", "aligned_timing")
#: Order of the plugin's "model" choice parameter (by adapter; vocalnote is vocalnote-s).
PLUGIN_MODEL_CHOICES = ("swiftf0", "crepe-tiny", "pesto", "basic-pitch", "vocalnote")


def midi_to_events(midi: Any) -> list[Any]:
    """Turn the host's MIDI output (objects with ``sample`` and ``data``) into engine events."""
    from vocalmidi.engine import EngineEvent, EventType

    events = []
    for msg in midi:
        sample, data = int(msg.sample), bytes(msg.data)
        if len(data) < 3:
            continue
        status, a, b = data[0] & 0xF0, data[1], data[2]
        channel = (data[0] & 0x0F) + 1
        if status == 0x90 and b > 0:
            events.append(EngineEvent(EventType.NOTE_ON, sample, channel, a, b))
        elif status == 0x80 or (status == 0x90 and b == 0):
            events.append(EngineEvent(EventType.NOTE_OFF, sample, channel, a))
        elif status == 0xE0:
            events.append(EngineEvent(EventType.PITCH_BEND, sample, channel,
                                      bend=((b << 7) | a) - 8192))
    return events


def _set_plugin_param(host: Any, name: str, value: float) -> None:
    """Set a plugin parameter from an engine value: choices by index, sensitivity 0..1
    as is (its range is 0..1), everything else as text in the parameter's own units."""
    param = host.parameters[name]
    if name == "Model" or name in (PLUGIN_PARAM_NAMES[k] for k in _PLUGIN_CHOICES):
        steps = max(2, int(param.num_steps))
        host.set_parameter(name, float(value) / (steps - 1))
    elif name == "Sensitivity":
        host.set_parameter(name, float(value))
    else:
        host.set_parameter(name, f"{float(value):g}")


def _run_plugin(samples: np.ndarray, rate: float, model: ResolvedModel,
                params: Mapping[str, ParamValue]) -> list[Note]:
    """Render through the built VST3 in the headless host, offline, and read its MIDI out.

    The plugin finds its model in the same cache by adapter, so a model given as a path
    (outside the cache) cannot be used here.
    """
    import numpy as np

    from vocalmidi import native
    from vocalmidi.engine import _enum_value, events_to_notes
    from vocalmidi.hosts import PluginHost

    if model.adapter not in PLUGIN_MODEL_CHOICES:
        raise ModelError(f"the plugin cannot run {model.adapter} models")
    host = PluginHost()
    host.load(native.vst3_path())
    _set_plugin_param(host, "Model", PLUGIN_MODEL_CHOICES.index(model.adapter))
    for name, value in params.items():
        if name not in PLUGIN_PARAM_NAMES:
            raise UsageError(f"unknown parameter {name!r}")
        _set_plugin_param(host, PLUGIN_PARAM_NAMES[name], _enum_value(name, value))
    host.prepare(rate, DEFAULT_BLOCK, 1)
    # Padding lets the plugin's lookahead emit the last note-offs: a plugin has no flush.
    tail = np.zeros(int(host.latency_samples) + DEFAULT_BLOCK, dtype=np.float32)
    _, midi = host.process(np.concatenate([samples, tail]), block_size=DEFAULT_BLOCK,
                           realtime=False)
    notes = events_to_notes(midi_to_events(midi), rate, int(host.latency_samples))
    # Notes still sounding when the take ends end with it, as the engine's flush does.
    duration = samples.size / rate
    return [n if n.end <= duration else Note(min(n.start, duration), duration, n.pitch,
                                             n.velocity) for n in notes if n.start < duration]


class _CallableModule(types.ModuleType):
    """Importing ``vocalmidi.transcribe`` (the module) makes it the package attribute of
    that name; making the module callable keeps ``vocalmidi.transcribe(...)`` working."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[Note]:
        return transcribe(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
