"""Run the streaming note model over a whole take with ONNX Runtime.

The graph (docs/note-model.md) takes any number of hops per call, so a take is analysed
in a few large calls with the state carried between them; the result is the same as one
hop per call (the export's parity test checks this).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.errors import ModelError
from vocalmidi.train import contract as C

__all__ = ["FrameOutputs", "NoteModelRunner", "resample_to_model"]

_CHUNK_HOPS = 2000  # 10 s per call: bounded memory for long takes


@dataclass
class FrameOutputs:
    """The model's outputs for label frames 0..n-1 of a take (float32 arrays of length n)."""

    onset: np.ndarray
    sounding: np.ndarray
    note: np.ndarray
    note_conf: np.ndarray
    pitch: np.ndarray
    level_db: np.ndarray  # frame RMS level of the input, dBFS

    def __len__(self) -> int:
        return int(self.onset.shape[0])


def resample_to_model(audio: np.ndarray, sr: float) -> np.ndarray:
    """Mono float32 audio at ``sr`` → the model's 16 kHz (soxr, high quality)."""
    mono = np.ascontiguousarray(audio, dtype=np.float32)
    if int(round(sr)) == C.SAMPLE_RATE:
        return mono
    import soxr

    return np.ascontiguousarray(soxr.resample(mono, sr, C.SAMPLE_RATE, quality="HQ"),
                                dtype=np.float32)


def frame_levels_db(audio16: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS level (dBFS) of each label frame's hop."""
    padded = np.zeros(n_frames * C.HOP, dtype=np.float32)
    padded[: min(len(audio16), padded.size)] = audio16[: padded.size]
    rms = np.sqrt(np.mean(padded.reshape(n_frames, C.HOP) ** 2, axis=1) + 1e-12)
    return (20.0 * np.log10(rms)).astype(np.float32)


class NoteModelRunner:
    """An ONNX Runtime session of a note model, ready to analyse takes.

    Parameters
    ----------
    path : path
        The streaming ONNX file (contract ``note-model/1``).
    threads : int
        Intra-op threads (1 keeps several runners in parallel processes fair).
    providers : list of str, optional
        ONNX Runtime execution providers (default: CPU).

    Raises
    ------
    ModelError
        When the file is missing, corrupt or does not follow the contract.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 1,
                 providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"note model not found: {self.path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(self.path), opts, providers=providers or ["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for corrupt files
            raise ModelError(f"{self.path} is not a loadable ONNX model: {exc}") from None
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        want_in = {C.INPUT_AUDIO, C.INPUT_CONTEXT, C.INPUT_HIDDEN}
        want_out = {C.OUTPUT_ONSET, C.OUTPUT_SOUNDING, C.OUTPUT_NOTE, C.OUTPUT_NOTE_CONF,
                    C.OUTPUT_PITCH, C.OUTPUT_CONTEXT, C.OUTPUT_HIDDEN}
        if not want_in <= set(inputs) or not want_out <= outputs:
            raise ModelError(
                f"{self.path} is not a VocalMIDI note model: inputs {sorted(inputs)}, "
                f"outputs {sorted(outputs)} (see docs/note-model.md)")
        hshape = inputs[C.INPUT_HIDDEN].shape
        if not all(isinstance(d, int) for d in hshape):
            raise ModelError(f"{self.path}: {C.INPUT_HIDDEN} needs a fixed shape, has {hshape}")
        self._hidden_shape = tuple(int(d) for d in hshape)

    def initial_state(self) -> dict[str, np.ndarray]:
        """Zero state: silence before the stream."""
        return {C.INPUT_CONTEXT: np.zeros((1, C.CONTEXT), np.float32),
                C.INPUT_HIDDEN: np.zeros(self._hidden_shape, np.float32)}

    def step(self, audio16: np.ndarray, state: dict[str, np.ndarray]
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One call: ``audio16`` holds a whole number of hops. Returns (outputs, new state)."""
        feeds: dict[str, Any] = {C.INPUT_AUDIO: audio16.reshape(1, -1), **state}
        names = [C.OUTPUT_ONSET, C.OUTPUT_SOUNDING, C.OUTPUT_NOTE, C.OUTPUT_NOTE_CONF,
                 C.OUTPUT_PITCH, C.OUTPUT_CONTEXT, C.OUTPUT_HIDDEN]
        res = self._session.run(names, feeds)
        outs = {n: r.reshape(-1) for n, r in zip(names[:5], res[:5], strict=True)}
        return outs, {C.INPUT_CONTEXT: res[5], C.INPUT_HIDDEN: res[6]}

    def analyse(self, audio: np.ndarray, sr: float) -> FrameOutputs:
        """The model's per-frame outputs for a whole take (mono float32 at ``sr``)."""
        audio16 = resample_to_model(audio, sr)
        if audio16.size and not np.all(np.isfinite(audio16)):
            raise ModelError("the audio holds NaN or infinite samples")
        n = C.num_frames(len(audio16))
        # Frame k's output comes LOOKAHEAD_HOPS calls later: feed that much silence after.
        total = (n + C.LOOKAHEAD_HOPS) * C.HOP
        buf = np.zeros(total, np.float32)
        buf[: len(audio16)] = audio16
        state = self.initial_state()
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, total, _CHUNK_HOPS * C.HOP):
            outs, state = self.step(buf[start:start + _CHUNK_HOPS * C.HOP], state)
            for k, v in outs.items():
                parts.setdefault(k, []).append(v)
        cat = {k: np.concatenate(v)[C.LOOKAHEAD_HOPS:C.LOOKAHEAD_HOPS + n]
               for k, v in parts.items()}
        return FrameOutputs(cat[C.OUTPUT_ONSET], cat[C.OUTPUT_SOUNDING], cat[C.OUTPUT_NOTE],
                            cat[C.OUTPUT_NOTE_CONF], cat[C.OUTPUT_PITCH],
                            frame_levels_db(audio16, n))
