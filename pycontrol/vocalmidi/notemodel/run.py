"""Run the note model over a whole take of any sample rate (ONNX Runtime, no torch).

The session and the streaming loop are :class:`vocalmidi.train.export.OnnxNoteModel`
(one implementation for the trainer, the tests and users); this adds what a take from
disk needs: resampling to the model rate, a check for non-finite samples, a clear error
for a missing or foreign file, and the per-frame input level the decoders use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalmidi.errors import ModelError
from vocalmidi.notemodel.fine_pitch import refine_pitch
from vocalmidi.train import contract as C
from vocalmidi.train.decode import frame_levels_db
from vocalmidi.train.export import ModelOutputs, OnnxNoteModel

__all__ = ["CHUNK_HOPS", "FrameOutputs", "NoteModelRunner", "frame_outputs", "resample_to_model"]

#: Hops per model call over a take. One call over a whole take makes every front-end
#: tensor (a 1,024-sample window per 80-sample hop) far larger than the caches; 250-hop
#: calls are ~1.2x faster and give the same outputs (stream contract; differences ~1e-6).
CHUNK_HOPS = 250


@dataclass
class FrameOutputs:
    """The model's outputs for label frames 0..n-1 of a take (arrays of length n)."""

    onset: np.ndarray
    sounding: np.ndarray
    note: np.ndarray
    note_conf: np.ndarray
    pitch: np.ndarray  # fine pitch (MIDI); refined by the audio for bends (fine_pitch.py)
    level_db: np.ndarray  # RMS level of each frame's hop of the input, dBFS
    # The 16 kHz take the outputs are of, when known: the whole-take decoder checks each
    # note's pitch against its period (fine_pitch.note_from_audio).
    audio16: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.onset.shape[0])


def frame_outputs(out: ModelOutputs, audio16: np.ndarray, bends: bool = False) -> FrameOutputs:
    """The decoders' inputs from the model's outputs over ``audio16`` (the 16 kHz take from
    its first sample): the frame levels and, with ``bends``, the fine pitch refined by the
    period the audio shows near it (:mod:`vocalmidi.notemodel.fine_pitch`). Only pitch
    bends read the pitch, and the refinement costs ~7 % of the model's time over a take,
    so a decoder without bends goes without it."""
    n = len(out.onset)
    levels = frame_levels_db(audio16).astype(np.float32)
    pitch = refine_pitch(audio16, out.pitch) if bends else out.pitch
    return FrameOutputs(out.onset, out.sounding, out.note, out.note_conf, pitch, levels[:n],
                        audio16)


def resample_to_model(audio: np.ndarray, sr: float) -> np.ndarray:
    """Mono float32 audio at ``sr`` → the model's 16 kHz (soxr, high quality)."""
    mono = np.ascontiguousarray(audio, dtype=np.float32)
    if int(round(sr)) == C.SAMPLE_RATE:
        return mono
    import soxr

    return np.ascontiguousarray(soxr.resample(mono, sr, C.SAMPLE_RATE, quality="HQ"),
                                dtype=np.float32)


class NoteModelRunner:
    """A note model ready to analyse takes.

    Parameters
    ----------
    path : path
        The streaming ONNX file (contract ``note-model/1``, docs/note-model.md).
    threads : int
        Intra-op threads (1 keeps parallel jobs fair).
    device : {"cpu", "cuda"}
        Resolved device (:func:`vocalmidi.device.use_device`); ``cuda`` falls back to the
        CPU with a warning where this ONNX Runtime cannot run it.

    Raises
    ------
    ModelError
        When the file is missing, corrupt or not a note model.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 1,
                 device: str = "cpu") -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"note model not found: {self.path}")
        self.model = OnnxNoteModel(self.path, threads=threads, device=device)

    def offline_config(self):  # -> OfflineConfig
        """The whole-take decoder's thresholds for this model: a whole-take model carries
        its own (tuned on its dev split, metadata ``vocalmidi.decoder``); a streaming
        model's metadata holds its live decoder's, so it gets the defaults."""
        import json

        from vocalmidi.notemodel.offline import OfflineConfig

        shipped = self.model.metadata.get("vocalmidi.decoder")
        if self.model.causal or not shipped:
            return OfflineConfig()
        try:
            return OfflineConfig.from_dict(json.loads(shipped))
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{self.path}: bad whole-take decoder metadata: {exc}") from exc

    @property
    def device(self) -> str:
        """Where the model runs: ``cpu`` or ``cuda``."""
        return self.model.device

    def analyse(self, audio: np.ndarray, sr: float, bends: bool = False) -> FrameOutputs:
        """The model's per-frame outputs for a whole take (mono float32 at ``sr``); with
        ``bends`` the fine pitch that pitch bends read (:func:`frame_outputs`)."""
        audio16 = resample_to_model(audio, sr)
        if audio16.size and not np.all(np.isfinite(audio16)):
            raise ModelError("the audio holds NaN or infinite samples")
        return frame_outputs(self.model.run(audio16, hops_per_call=CHUNK_HOPS), audio16, bends)
