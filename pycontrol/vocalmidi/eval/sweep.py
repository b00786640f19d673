"""Live measurements: emission latency through the plugin host, and what running costs.

- :func:`host_latency_sweep`: the built VST3 in our headless JUCE host
  (:class:`vocalmidi.hosts.PluginHost`), realtime mode, blocks fed at real-time pace;
  per sample rate and block size, when each note-on leaves the plugin minus the true
  onset, beside the latency the plugin reports to the host, and the live MIDI stream
  scored as a DAW records it (:mod:`vocalmidi.eval.live_stream`; the LV2 in jalv is
  measured the same way there).
- :func:`engine_cost_sweep`: the engine alone, paced the same way; its profiler's
  audio-thread time per block and the ML thread's CPU share per block size.
- :func:`causal_peer_emission`: the same measure for aubio's causal note tracker (the
  one live peer), from when a caller feeding it blocks would get each note;
- :func:`pitch_model_bound`: on the same stream, the earliest any tracker deciding from
  SwiftF0's pitch could emit each note (:mod:`vocalmidi.eval.bound`);
- :func:`offline_cost`: per model, the real-time factor of offline transcription and the
  memory it takes (each model in a fresh process, so peaks do not mix).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.eval.dataset import EvalSet
from vocalmidi.eval.latency import (
    EmissionStats,
    Pacer,
    emission_latencies,
    memory_mb,
    other_threads_cpu,
    thread_cpu_seconds,
)
from vocalmidi.notes import Note

__all__ = [
    "BLOCK_SIZES",
    "RATE",
    "RATES",
    "HostBlockResult",
    "Take",
    "causal_peer_emission",
    "engine_cost_sweep",
    "host_latency_sweep",
    "join_takes",
    "offline_cost",
    "pitch_model_bound",
    "takes_from_set",
]

BLOCK_SIZES = (64, 128, 256, 512)
RATE = 48000
RATES = (44100, 48000, 96000)  # the sample rates issue 14's targets hold at
_GAP_S = 1.0  # silence between takes in the joined stream
_MODEL_WAIT_S = 30.0

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class Take:
    """Audio at :data:`RATE` and its ground truth."""

    id: str
    audio: np.ndarray
    notes: list[Note]


def takes_from_set(eval_set: EvalSet, count: int = 3, condition: str = "clean") -> list[Take]:
    """The first ``count`` clips of one condition, resampled to :data:`RATE` if needed."""
    from vocalmidi.eval.systems import _resample

    out = []
    for clip in eval_set:
        if clip.condition != condition:
            continue
        audio, sr = clip.load_audio()
        out.append(Take(clip.id, _resample(audio, sr, RATE), clip.notes))
        if len(out) == count:
            break
    return out


def join_takes(takes: Sequence[Take], gap_s: float = _GAP_S) -> tuple[np.ndarray, list[Note]]:
    """One stream: the takes one after another with ``gap_s`` of silence after each."""
    parts: list[np.ndarray] = []
    truth: list[Note] = []
    pos = 0
    gap = np.zeros(int(gap_s * RATE), np.float32)
    for take in takes:
        t0 = pos / RATE
        truth += [Note(n.start + t0, n.end + t0, n.pitch, n.velocity) for n in take.notes]
        parts += [take.audio.astype(np.float32), gap]
        pos += take.audio.size + gap.size
    return np.concatenate(parts) if parts else gap, truth


def _percentile_us(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(seconds, q) * 1e6) if len(seconds) else 0.0


@dataclass
class HostBlockResult:
    """One (sample rate, block size) of :func:`host_latency_sweep` (or of the jalv sweep).

    Attributes
    ----------
    block_size : int
    reported_latency_samples : int
        What the plugin reports to the host (``setLatencySamples``) once its model is in.
    emission : EmissionStats
        Note-on time as it leaves the plugin minus the true onset.
    call_us : list of float
        Wall time of each ``process`` call as the host sees it (JUCE wrapper, cppyy and
        Python included: an upper bound on the audio-thread cost).
    worker_cpu_seconds, wall_seconds : float
        CPU used by every thread but the one calling ``process`` (the plugin's ML thread,
        its model loader, ONNX Runtime's threads), and the stream's wall time.
    late_blocks, blocks : int
        Blocks whose processing ran past the next block's deadline, and all blocks.
    sample_rate : int
    host : str
        ``juce`` (our host, VST3) or ``jalv`` (LV2 on JACK's dummy driver).
    stream : dict
        The live MIDI stream scored as a DAW records it
        (:func:`vocalmidi.eval.live_stream.score_stream`): F1@50, false notes.
    xruns : int or None
        Cycles the host reported as late (JACK), None where the host reports none.
    """

    block_size: int
    reported_latency_samples: int
    emission: EmissionStats
    call_us: list[float]
    worker_cpu_seconds: float
    wall_seconds: float
    late_blocks: int
    blocks: int
    sample_rate: int = RATE
    host: str = "juce"
    stream: dict[str, Any] = field(default_factory=dict)
    xruns: int | None = None

    @property
    def reported_latency_ms(self) -> float:
        return 1000.0 * self.reported_latency_samples / self.sample_rate

    @property
    def worker_cpu_share(self) -> float:
        return self.worker_cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        calls = np.asarray(self.call_us) if self.call_us else np.zeros(1)
        return {
            "host": self.host,
            "sample_rate": self.sample_rate,
            "block_size": self.block_size,
            "reported_latency_samples": self.reported_latency_samples,
            "reported_latency_ms": round(self.reported_latency_ms, 2),
            "emission": self.emission.as_dict(),
            "emission_latencies_ms": [round(x, 2) for x in self.emission.latencies_ms],
            "process_call_us_median": round(float(np.median(calls)), 1),
            "process_call_us_p99": round(float(np.percentile(calls, 99)), 1),
            "block_budget_us": round(1e6 * self.block_size / self.sample_rate, 1),
            "worker_cpu_share": round(self.worker_cpu_share, 4),
            "late_blocks": self.late_blocks,
            "xruns": self.xruns,
            "blocks": self.blocks,
            "stream": self.stream,
            "wall_seconds": round(self.wall_seconds, 2),
        }


def _wait_for_model(host: Any, block: int, pacer: Pacer, rate: int = RATE) -> None:
    """Feed paced silence until the plugin has its model (it then reports a latency)."""
    from vocalmidi.hosts import PluginHostError

    silence = np.zeros(block, np.float32)
    deadline = time.monotonic() + _MODEL_WAIT_S
    settled = 0
    while settled < int(0.5 * rate):  # half a second more once the latency is known
        pacer.wait(block)
        host.process(silence, realtime=True)
        if host.latency_samples > 0:
            settled += block
        elif time.monotonic() > deadline:
            raise PluginHostError(
                f"the plugin reported no latency after {_MODEL_WAIT_S:.0f} s: it loaded no "
                "model (fill the model cache: `vocalmidi models pull`)")


def host_latency_sweep(
    takes: Sequence[Take],
    block_sizes: Sequence[int] = BLOCK_SIZES,
    *,
    plugin: str | Path | None = None,
    parameters: Mapping[str, float | str] | None = None,
    progress: Progress = None,
    rates: Sequence[int] = (RATE,),
) -> list[HostBlockResult]:
    """Emission latency of the VST3 in realtime mode, per sample rate and block size.

    The takes are joined into one stream, resampled to each rate (the truth is in
    seconds), and fed, block by block, at the pace of a sound card at that rate. Takes
    without notes (negatives) count false notes (:func:`~vocalmidi.eval.live_stream.score_stream`).
    Needs the model the plugin uses in the model cache (``VOCALMIDI_CACHE`` or the user
    cache).

    Parameters
    ----------
    takes : sequence of Take
        Audio with ground truth.
    block_sizes : sequence of int
        Host block sizes to try.
    plugin : path, optional
        A VST3 bundle (default: the built one).
    parameters : mapping, optional
        Plugin parameters by name (normalised float or the plugin's text, e.g.
        ``{"Latency Mode": "Accurate"}``).
    progress : callable, optional
        Called with one line per block size.
    rates : sequence of int
        Host sample rates to try (default: 48 kHz only).

    Raises
    ------
    PluginHostError
        When the plugin cannot be loaded or never gets its model.
    """
    from vocalmidi import native
    from vocalmidi.eval.live_stream import negative_spans, progress_line, score_stream
    from vocalmidi.eval.systems import _resample
    from vocalmidi.hosts import MidiMessage, PluginHost

    stream48, truth = join_takes(takes)
    negatives = negative_spans(takes)
    results: list[HostBlockResult] = []
    with PluginHost(plugin or native.vst3_path()) as host:
        host.set_pacing(0)  # the Pacer here paces each one-block call, as a sound card would
        for name, value in (parameters or {}).items():
            host.set_parameter(name, value)
        for rate in rates:
            stream = _resample(stream48, RATE, rate)
            for block in block_sizes:
                host.prepare(rate, block, channels=1)
                pacer = Pacer(rate)
                _wait_for_model(host, block, pacer, rate)
                latency = host.latency_samples
                midi_out: list[tuple[float, bytes]] = []
                calls: list[float] = []
                pacer.restart()
                cpu0, t0 = thread_cpu_seconds(), time.perf_counter()
                for start in range(0, stream.size, block):
                    chunk = stream[start:start + block]
                    pacer.wait(chunk.size)
                    t = time.perf_counter()
                    _, midi = host.process(chunk, realtime=True)
                    calls.append(1e6 * (time.perf_counter() - t))
                    pacer.done(block)
                    midi_out += [((start + m.sample) / rate, m.data) for m in midi]
                wall = time.perf_counter() - t0
                worker = other_threads_cpu(cpu0, thread_cpu_seconds())
                ons = [(t, d[1]) for t, d in midi_out if MidiMessage(0, d).is_note_on]
                window = max(0.5, latency / rate + 0.3)
                res = HostBlockResult(
                    block, latency, emission_latencies(truth, ons, window), calls, worker,
                    wall, pacer.late, len(calls), rate, "juce",
                    score_stream(truth, midi_out, latency / rate, stream.size / rate,
                                 negatives))
                results.append(res)
                if progress:
                    progress(progress_line(res))
    return results


def causal_peer_emission(takes: Sequence[Take]) -> dict[str, Any]:
    """Emission latency of aubio's note tracker (``aubio notes`` settings) on the same
    stream: a note counts as emitted at the end of the 256-sample hop (44.1 kHz) that
    reported it, i.e. with a host block of one hop and no processing time.

    Raises
    ------
    BackendUnavailableError
        When aubio is not installed.
    """
    from vocalmidi.eval.systems import AubioNotesSystem

    stream, truth = join_takes(takes)
    peer = AubioNotesSystem(emitted=True)
    notes = peer.transcribe(stream, RATE)
    stats = emission_latencies(truth, [(n.start, n.pitch) for n in notes])
    return {"system": "aubio", "setting": peer.meta, "emission": stats.as_dict(),
            "emission_latencies_ms": [round(x, 2) for x in stats.latencies_ms]}


def pitch_model_bound(takes: Sequence[Take]) -> dict[str, Any]:
    """:func:`vocalmidi.eval.bound.emission_bound` on the stream the sweep feeds: a lower
    bound of the emission latency of any tracker deciding from SwiftF0's pitch.

    Raises
    ------
    BackendUnavailableError
        When swift-f0 is not installed.
    """
    from vocalmidi.eval.bound import AHEAD_S, CONFIDENCE, LABEL, emission_bound

    stream, truth = join_takes(takes)
    stats = emission_bound(truth, stream, RATE)
    return {"system": LABEL, "model": "swiftf0",
            "setting": {"confidence": CONFIDENCE, "ahead_ms": 1000 * AHEAD_S,
                        "context": "whole stream"},
            "emission": stats.as_dict(),
            "emission_latencies_ms": [round(x, 2) for x in stats.latencies_ms]}


def note_model_bound(takes: Sequence[Take], model: str | Path, name: str) -> dict[str, Any]:
    """:func:`vocalmidi.eval.note_bound.note_model_bound` on the stream the sweep feeds:
    how soon any decoder of the streaming note model ``model`` could send each note."""
    from vocalmidi.eval.note_bound import note_model_bound as bound

    stream, truth = join_takes(takes)
    stats = bound(truth, stream, RATE, model)
    return {"system": f"note-model bound ({name})", "model": name,
            "setting": {"context": "streaming, lookahead only", "frames": "first naming"},
            "emission": stats.as_dict(),
            "emission_latencies_ms": [round(x, 2) for x in stats.latencies_ms]}


def engine_cost_sweep(
    model_path: str | Path,
    kind: str,
    audio: np.ndarray,
    block_sizes: Sequence[int] = BLOCK_SIZES,
    params: Mapping[str, float | int | str] | None = None,
    progress: Progress = None,
) -> list[dict[str, Any]]:
    """The engine's own profiler per block size, fed in realtime mode at real-time pace.

    Returns, per block size: the audio-thread time per block (mean / p99 / max, µs, and as
    a share of the block's time budget), the ML thread's CPU share, model inference time
    per call, and the frames the ML thread dropped.
    """
    from vocalmidi.engine import Engine

    out = []
    for block in block_sizes:
        with Engine(model_path, kind) as eng:
            for name, value in (params or {}).items():
                eng.set_param(name, value)
            eng.prepare(RATE, block, realtime=True)
            pacer = Pacer(RATE)
            for start in range(0, audio.size, block):
                chunk = audio[start:start + block]
                pacer.wait(chunk.size)
                eng.process(chunk)
                pacer.done(block)
            time.sleep(0.1)
            st = eng.stats()
            eng.release()
        ab = st["timers"]["audio_block"]
        budget = 1e6 * block / RATE
        row = {
            "block_size": block,
            "audio_block_mean_us": round(ab["mean_us"], 2),
            "audio_block_p99_us": round(ab["p99_us"], 2),
            "audio_block_max_us": round(ab["max_us"], 2),
            "block_budget_us": round(budget, 1),
            "audio_block_load": round(ab["mean_us"] / budget, 5),
            "ml_cpu_share": round(st["ml"]["cpu_share"], 4),
            "inference_mean_us": round(st["timers"]["inference"]["mean_us"], 1),
            "frames_analysed": st["ml"]["frames_analysed"],
            "frames_dropped": st["ml"]["frames_dropped"],
            "late_blocks": pacer.late,
            "algorithmic_latency_ms": round(st["latency"]["algorithmic_ms"], 2),
        }
        out.append(row)
        if progress:
            progress(f"engine, block {block}: audio thread {row['audio_block_mean_us']:.1f} us "
                     f"mean / {row['audio_block_p99_us']:.1f} us p99 per block, ML thread "
                     f"{100 * row['ml_cpu_share']:.1f} % of a core, "
                     f"{row['frames_dropped']} frames dropped")
    return out


def _offline_child(model_path: str, kind: str, audio: np.ndarray, sr: int) -> dict[str, Any]:
    """In a fresh process: memory with the engine library loaded, model load time, then an
    offline transcription (as ``transcribe_array`` does it, load excluded)."""
    from vocalmidi.engine import Engine, _lib, events_to_notes

    _lib()
    base = memory_mb()
    t = time.perf_counter()
    with Engine(model_path, kind) as eng:
        load = time.perf_counter() - t
        eng.prepare(sr, 4096, realtime=False)
        t = time.perf_counter()
        events = [e for i in range(0, audio.size, 4096) for e in eng.process(audio[i:i + 4096])]
        events += eng.flush()
        seconds = time.perf_counter() - t
        notes = events_to_notes(events, sr, eng.latency_samples)
    peak = memory_mb()["peak"]
    return {"seconds": seconds, "load_seconds": load, "notes": len(notes),
            "base_rss_mb": base["rss"], "peak_rss_mb": peak}


def offline_cost(
    models: Sequence[str],
    audio: np.ndarray,
    sr: int,
    progress: Progress = None,
) -> list[dict[str, Any]]:
    """Offline real-time factor, model load time and memory of each cached model (fresh
    process each; the RTF leaves the load out).

    ``model_delta_mb`` is the peak resident memory minus the resident memory with the
    engine and ONNX Runtime loaded but no model: what one more instance would add at most.
    Models that are not in the cache, or that the engine cannot run, get an ``error``.
    """
    from vocalmidi.errors import VocalMidiError
    from vocalmidi.transcribe import resolve_model

    out = []
    ctx = multiprocessing.get_context("spawn")
    for model_id in models:
        row: dict[str, Any] = {"model": model_id}
        try:
            resolved, _ = resolve_model(model_id)
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                r = pool.submit(_offline_child, str(resolved.path), resolved.adapter,
                                audio, sr).result()
        except (VocalMidiError, RuntimeError, OSError) as exc:
            row["error"] = str(exc).splitlines()[0][:200]
        else:
            row.update(
                rtf=round(r["seconds"] / (audio.size / sr), 4), notes=r["notes"],
                load_ms=round(1000 * r["load_seconds"], 1),
                peak_rss_mb=round(r["peak_rss_mb"], 1),
                model_delta_mb=round(r["peak_rss_mb"] - r["base_rss_mb"], 1))
        out.append(row)
        if progress:
            progress(f"offline {model_id}: " + (row.get("error") or
                     f"RTF {row['rtf']:.4f}, load {row['load_ms']:.0f} ms, "
                     f"peak RSS {row['peak_rss_mb']:.0f} MiB "
                     f"(+{row['model_delta_mb']:.0f} MiB for the model)"))
    return out
