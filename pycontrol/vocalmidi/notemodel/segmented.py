"""The whole take as segments side by side in one batch: measured, and not the default.

The shipped graph (docs/note-model.md) streams one take at batch 1, so its GRU steps
through every frame as matrix-vector products. This module runs a take as ``K`` segments
in one batch instead (the GRU then multiplies matrices): each segment after the first
starts ``warmup_hops`` before the frames it keeps, with the true preceding audio as its
context (so its front end is exact) and the GRU state a stream starts from. The
batch-dynamic graph is derived at load time from the shipped file (:func:`batch_dynamic`:
batch dimensions made symbolic, nodes and weights untouched), so one file stays the single
source under the manifest's checksum; a probe checks it row by row against the streaming
graph and falls back to the sequential run if a future export pins batch 1 in a shape (or,
with a warning, where the ``onnx`` package of the ``dev`` extra is missing).

Why the whole-take route (:meth:`vocalmidi.notemodel.run.NoteModelRunner.analyse`) does
not use it (measured 2026-12-04 on the evaluation set v2 with vocalnote-s, 1 thread):

- vocalnote-s's GRU does not forget a zero start: 3 s after one, some hidden units still
  differ by 0.5, and the outputs by up to 0.5-0.6 in probability. With 10 s segments and
  1 s of warm-up, the note lists of 47 of 54 clips differ from the sequential run's (note
  F1@50 between the two 0.976; against the truth 0.624 instead of 0.626); no warm-up up
  to 2 s made them equal;
- once the take is fed in chunks of ``CHUNK_HOPS`` (exact), the GRU is a third of the
  time and the front end most of the rest, so batching gains 0-8 %: the model alone on a
  60 s take, CPU RTF 0.0035 vs 0.0038; the whole route on a 2 min take 0.0042 vs 0.0041
  (``benchmarks/test_offline_speed_bench.py``).

A model trained to forget its start (e.g. with state resets in training) would change
the first point; the benchmark compares both routes in one run to tell.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from vocalmidi.notemodel.run import CHUNK_HOPS
from vocalmidi.train.contract import (
    CONTEXT,
    HOP,
    INPUT_AUDIO,
    INPUT_CONTEXT,
    INPUT_HIDDEN,
    OUTPUT_CONTEXT,
    OUTPUT_HIDDEN,
    OUTPUT_NOTE,
    OUTPUT_NOTE_CONF,
    OUTPUT_ONSET,
    OUTPUT_PITCH,
    OUTPUT_SOUNDING,
)
from vocalmidi.train.export import (
    OUTPUTS,
    ModelOutputs,
    OnnxNoteModel,
    pad_for_frames,
    stream_frames,
)

__all__ = ["SEGMENT_HOPS", "WARMUP_HOPS", "SegmentedNoteModel", "batch_dynamic"]

#: Hops each segment keeps (10 s): long enough that the warm-up costs little.
SEGMENT_HOPS = 2000
#: Hops each later segment runs before the frames it keeps (1 s), for the GRU to settle.
WARMUP_HOPS = 200

_BATCH = "batch"


def batch_dynamic(path: str | Path) -> bytes:
    """The streaming graph at ``path`` with a symbolic batch dimension (serialised).

    Inputs ``audio``/``ctx_in`` and outputs lose their fixed leading 1, ``h_in``/``h_out``
    their fixed second dimension; shapes inferred at export (``value_info``) are dropped
    so that none of them pins batch 1. The weights and nodes are untouched.
    """
    import onnx

    proto = onnx.load(str(path))
    graph = proto.graph
    for value in [*graph.input, *graph.output]:
        axis = 1 if value.name in (INPUT_HIDDEN, OUTPUT_HIDDEN) else 0
        dims = value.type.tensor_type.shape.dim
        if len(dims) > axis:
            dims[axis].ClearField("dim_value")
            dims[axis].dim_param = _BATCH
    del graph.value_info[:]
    return proto.SerializeToString()


class SegmentedNoteModel:
    """Whole-take outputs of a note model, computed as a batch of overlapping segments.

    Parameters
    ----------
    model : OnnxNoteModel
        The loaded sequential model (its file, threads and providers are reused).
    path : path
        Its ``.onnx`` file.
    segment_hops, warmup_hops : int
        See :data:`SEGMENT_HOPS`, :data:`WARMUP_HOPS`.
    chunk_hops : int
        Hops per call (:data:`vocalmidi.notemodel.run.CHUNK_HOPS`).
    """

    def __init__(self, model: OnnxNoteModel, path: str | Path,
                 segment_hops: int = SEGMENT_HOPS, warmup_hops: int = WARMUP_HOPS,
                 chunk_hops: int = CHUNK_HOPS) -> None:
        import onnxruntime as ort

        if segment_hops < 1 or warmup_hops < 0 or chunk_hops < 1:
            raise ValueError("segment_hops and chunk_hops must be >= 1, warmup_hops >= 0")
        self.model = model
        self.segment_hops, self.warmup_hops, self.chunk_hops = (segment_hops, warmup_hops,
                                                                chunk_hops)
        src = model.session.get_session_options()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = src.intra_op_num_threads
        opts.inter_op_num_threads = 1
        self.session = None
        if model.front_end is not None:
            warnings.warn("a features-in note model (note-features/1) computes its front end "
                          "outside the graph, so its segments cannot run as one batch; whole "
                          "takes run sequentially (the same weights as a note-model/1 graph: "
                          "python -m vocalmidi.train.export --onnx FILE OUT)",
                          RuntimeWarning, stacklevel=2)
            return
        try:
            session = ort.InferenceSession(batch_dynamic(path), opts,
                                           providers=model.session.get_providers())
            if self._probe(session):
                self.session = session
        except Exception as exc:  # ORT raises its own untyped errors
            warnings.warn(f"the batched note model could not be built ({exc}); "
                          "whole takes run sequentially", RuntimeWarning, stacklevel=2)

    def _probe(self, session: object) -> bool:
        """Two different rows in one batch give what each gives alone at batch 1."""
        rng = np.random.default_rng(0)
        audio = (0.1 * rng.standard_normal((2, 3 * HOP))).astype(np.float32)
        ctx = (0.1 * rng.standard_normal((2, CONTEXT))).astype(np.float32)
        h = np.zeros((self.model.hidden_shape[0], 2, self.model.hidden_shape[2]), np.float32)
        h[:, 1] = 0.5
        batched = self._call(session, audio, ctx, h)
        for row in range(2):
            alone = self._call(self.model.session, audio[row:row + 1], ctx[row:row + 1],
                               h[:, row:row + 1])
            for b, a in zip(batched, alone, strict=True):
                got = b[:, row] if b.ndim == 3 else b[row]
                if not np.allclose(got, a[:, 0] if a.ndim == 3 else a[0], atol=1e-5):
                    warnings.warn("the batched note model differs from the streaming one; "
                                  "whole takes run sequentially", RuntimeWarning,
                                  stacklevel=3)
                    return False
        return True

    @staticmethod
    def _call(session: object, audio: np.ndarray, ctx: np.ndarray,
              h: np.ndarray) -> list[np.ndarray]:
        return session.run([*OUTPUTS, OUTPUT_CONTEXT, OUTPUT_HIDDEN],  # type: ignore[attr-defined]
                           {INPUT_AUDIO: audio, INPUT_CONTEXT: ctx, INPUT_HIDDEN: h})

    @property
    def batched(self) -> bool:
        """Whether takes run as a batch (False: the derived graph was refused)."""
        return self.session is not None

    def run(self, audio: np.ndarray) -> ModelOutputs:
        """Label-frame outputs of a whole 16 kHz clip (as :meth:`OnnxNoteModel.run`)."""
        if self.session is None:
            return self.model.run(audio, hops_per_call=self.chunk_hops)
        padded, frames = pad_for_frames(np.asarray(audio, np.float32))
        total = len(padded) // HOP  # stream hops; stream output i is label frame i - 1
        seg, warm = self.segment_hops, self.warmup_hops
        # Row k starts at hop k*seg and runs seg + warm hops; row 0 keeps all of them,
        # row k > 0 keeps its last seg (the first warm only settle its GRU state).
        rows = max(1, -(-(total - warm) // seg))
        if rows == 1:  # one segment: the sequential run, chunked
            seg, warm = total, 0
        else:  # equal segments, so the last row is not mostly padding
            seg = -(-(total - warm) // rows)
        span = seg + warm
        buf = np.zeros(CONTEXT + (rows * seg + warm) * HOP, np.float32)
        buf[CONTEXT:CONTEXT + len(padded)] = padded
        starts = np.arange(rows) * seg * HOP
        audio_rows = np.stack([buf[CONTEXT + s:CONTEXT + s + span * HOP] for s in starts])
        ctx = np.stack([buf[s:s + CONTEXT] for s in starts])
        # Every row from the state a stream starts from (silence before it).
        h = np.repeat(self.model.initial_state()[INPUT_HIDDEN], rows, axis=1)
        parts: dict[str, list[np.ndarray]] = {n: [] for n in OUTPUTS}
        for c0 in range(0, span, self.chunk_hops):
            c1 = min(span, c0 + self.chunk_hops)
            res = self._call(self.session, audio_rows[:, c0 * HOP:c1 * HOP], ctx, h)
            ctx, h = res[-2], res[-1]
            for n, r in zip(OUTPUTS, res, strict=False):
                parts[n].append(r)
        cat: dict[str, np.ndarray] = {}
        for n in OUTPUTS:
            grid = np.concatenate(parts[n], axis=1)  # [rows, span]
            stream = np.concatenate([grid[0], grid[1:, warm:].reshape(-1)])[:total]
            cat[n] = stream_frames(n, stream, frames)
        return ModelOutputs(cat[OUTPUT_ONSET], cat[OUTPUT_SOUNDING], cat[OUTPUT_NOTE],
                            cat[OUTPUT_NOTE_CONF], cat[OUTPUT_PITCH])
