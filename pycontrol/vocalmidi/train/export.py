"""Export the note model as one streaming ONNX graph, and run it with ONNX Runtime.

``python -m vocalmidi.train.export --untrained OUT.onnx`` writes a randomly initialised
model (the right graph, for wiring the engine before a trained one exists);
``--checkpoint CKPT OUT.onnx`` exports a trained checkpoint. :class:`OnnxNoteModel`
runs an exported file over whole clips (one call) or hop by hop, as the engine does.
"""

from __future__ import annotations

import argparse
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocalmidi.errors import ModelError
from vocalmidi.train.contract import (
    CONTEXT,
    HEAD_CENTS,
    HEAD_NOTES,
    HEAD_ONSET,
    HEAD_SOUNDING,
    HOP,
    INPUT_AUDIO,
    INPUT_CONTEXT,
    INPUT_FEATURES,
    INPUT_HIDDEN,
    INPUT_KEEP,
    LOOKAHEAD_HOPS,
    NOTE_MIN,
    OUTPUT_CONTEXT,
    OUTPUT_HEAD,
    OUTPUT_HIDDEN,
    OUTPUT_NOTE,
    OUTPUT_NOTE_CONF,
    OUTPUT_ONSET,
    OUTPUT_PITCH,
    OUTPUT_SOUNDING,
    SAMPLE_RATE,
    num_frames,
)

if TYPE_CHECKING:
    import onnxruntime

    from vocalmidi.train.front_end_np import NumpyFrontEnd
    from vocalmidi.train.model import ModelConfig, NoteNet

__all__ = ["CONTRACT_ID", "FEATURES_CONTRACT_ID", "OFFLINE_CONTRACT_ID", "OUTPUTS",
           "ModelOutputs", "OnnxNoteModel", "export_onnx", "head_outputs", "main",
           "measure_hop_cost", "measure_take_cost", "metadata_props", "pad_for_frames",
           "quantize_int8", "reexport_onnx", "save_model", "stream_frames"]

CONTRACT_ID = "note-model/1"
# A whole-take model (a backward GRU, see vocalmidi.train.model): the same tensors, but
# each call's outputs depend on the call's later audio too, so it cannot stream and the
# engine refuses it by this id.
OFFLINE_CONTRACT_ID = "note-model-offline/1"
# A streaming model without its front end: it takes the front end's features
# (vocalmidi.train.features, the same numbers) and the GRU state, and the caller keeps the
# audio context. The engine computes the features in C++ (engine/src/dsp/NoteFrontEnd),
# Python in numpy (vocalmidi.train.front_end_np). Same weights, same outputs to float
# rounding; about half the cost per hop in the engine (docs/note-model.md, "Cost").
FEATURES_CONTRACT_ID = "note-features/1"
#: Hops per call of a whole-take model, and the hops after them each call also hears.
OFFLINE_CHUNK_HOPS = 2000
OFFLINE_MARGIN_HOPS = 100
OPSET = 17
OUTPUTS = (OUTPUT_ONSET, OUTPUT_SOUNDING, OUTPUT_NOTE, OUTPUT_NOTE_CONF, OUTPUT_PITCH)
#: A streaming model's state restarts from zero after this many hops in a row below
#: QUIET_DB (a second): the recurrent state drifts in long silence, which training clips
#: never hold (engine: MlPipeline::runNoteFrames, the same rule hop for hop).
QUIET_RESET_HOPS = 200
#: A streaming model's stream starts (and restarts) from the state it reaches after this
#: many hops of digital silence from zero, not from zero (engine: NoteModel::warmUp, the
#: same single call). Why: a zero GRU state is far from any state audio leaves behind (its
#: norm goes 0 -> 12 in 20 hops of silence, then drifts slowly), and a sound starting in a
#: stream's first hops was read badly: steady test tones through the engine, 25 of 96 not
#: one right note from the stream's first sample, 9 after 0.5 s of silence; now 10
#: (session 30, with :func:`stream_frames`). Longer trades F1 for fewer false notes on the
#: dev split (docs/note-model.md, "Streaming ONNX graph").
REST_HOPS = 40
QUIET_DB = -70.0


def quiet_restarts(padded: np.ndarray) -> list[int]:
    """Hops (indices into ``padded``, whole hops of model-rate audio) after which the state
    restarts: each completes :data:`QUIET_RESET_HOPS` quiet hops since the last restart."""
    from vocalmidi.train.decode import frame_levels_db

    out, quiet = [], 0
    for k, level in enumerate(frame_levels_db(padded)):
        quiet = quiet + 1 if level < QUIET_DB else 0
        if quiet >= QUIET_RESET_HOPS:
            out.append(k)
            quiet = 0
    return out


def pad_for_frames(audio: np.ndarray) -> tuple[np.ndarray, int]:
    """Pad model-rate audio so a stream of it yields every label frame of the clip.

    Label frame ``k`` needs audio up to ``(k + 1 + LOOKAHEAD_HOPS) * HOP``; the stream's
    first ``LOOKAHEAD_HOPS`` outputs stand for frames before 0 and are dropped.

    Returns
    -------
    padded : numpy.ndarray
        float32, a whole number of hops.
    frames : int
        Label frames of the clip.
    """
    frames = num_frames(len(audio))
    padded = np.zeros((frames + LOOKAHEAD_HOPS) * HOP, dtype=np.float32)
    padded[:len(audio)] = audio
    return padded, frames


HALF_MIN_VALUES = 1024  # smaller tensors (biases, the feature normalisation) stay float32


def half_rounded(net: NoteNet) -> NoteNet:
    """A copy of ``net`` whose parameters are rounded to the nearest float16 values: what a
    ``half_weights`` model's file holds, so torch and the file agree (parity tests)."""
    import copy

    import torch

    out = copy.deepcopy(net)
    with torch.no_grad():
        for p in out.parameters():
            p.copy_(p.half().float())
    return out


def _stored_as(net: NoteNet, half_weights: bool | None) -> NoteNet:
    """``net`` with its config's weight storage set (None: left as it is)."""
    from dataclasses import replace

    if half_weights is not None:
        net.config = replace(net.config, half_weights=half_weights)
    return net


def _store_half(proto: Any) -> None:
    """Store each float32 initializer that float16 holds exactly (and that is not tiny) as
    float16, read through a Cast to float32 under its old name. Lossless by construction:
    the DFT constants of the front end, which float16 would round, stay float32."""
    from onnx import TensorProto, helper, numpy_helper

    graph = proto.graph
    casts = []
    for init in list(graph.initializer):
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32 or a.size < HALF_MIN_VALUES:
            continue
        half = a.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), a):
            continue
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(half, init.name + "_f16"))
        casts.append(helper.make_node("Cast", [init.name + "_f16"], [init.name],
                                      to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)  # a Cast before every node that reads its output
    del graph.node[:]
    graph.node.extend(nodes)


def export_onnx(net: NoteNet, path: str | Path, metadata: dict[str, str] | None = None,
                features_in: bool = False) -> Path:
    """Write ``net`` with its front end as the streaming graph of the contract, or with
    ``features_in`` (a causal ``net`` only) without it (``note-features/1``).

    Parameters
    ----------
    net : NoteNet
        The trained (or fresh) network; exported on CPU in eval mode. With
        ``config.half_weights`` the file holds :func:`half_rounded` weights as float16.
    path : path
        Output ``.onnx`` file (written atomically).
    metadata : dict, optional
        Extra metadata props (e.g. the decoder thresholds as JSON).
    """
    import onnx
    import torch

    from vocalmidi.train.model import FeaturesNoteModel, StreamingNoteModel, WholeTakeNoteModel

    net = net.to("cpu").eval()
    if net.config.half_weights:
        net = half_rounded(net)
    audio = torch.zeros(1, 4 * HOP)
    ctx = torch.zeros(1, CONTEXT)
    h = net.initial_state(1)
    outputs = [*OUTPUTS, OUTPUT_CONTEXT, OUTPUT_HIDDEN]
    streamed = INPUT_AUDIO
    if features_in:
        if not net.config.causal:
            raise ValueError("a whole-take model has no features-in graph")
        model: torch.nn.Module = FeaturesNoteModel(net).eval()
        args: tuple[torch.Tensor, ...] = (torch.zeros(1, 4, net.config.features), h)
        inputs = [INPUT_FEATURES, INPUT_HIDDEN]
        outputs = [OUTPUT_HEAD, OUTPUT_HIDDEN]
        streamed = INPUT_FEATURES
    elif net.config.causal:
        model = StreamingNoteModel(net).eval()
        args = (audio, ctx, h)
        inputs = [INPUT_AUDIO, INPUT_CONTEXT, INPUT_HIDDEN]
    else:
        model = WholeTakeNoteModel(net).eval()
        args = (audio, ctx, h, torch.tensor([2], dtype=torch.int64))
        inputs = [INPUT_AUDIO, INPUT_CONTEXT, INPUT_HIDDEN, INPUT_KEEP]
    frames_axis = {1: "frames"}
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated but is the one with a GRU rule and
        # custom-function symbolics; its GRU batch-size and Slice-folding notes do not
        # apply (batch 1, state as inputs).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, args, buf,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={streamed: {1: "samples" if streamed == INPUT_AUDIO else "frames"},
                          **{o: frames_axis for o in outputs
                             if o not in (OUTPUT_CONTEXT, OUTPUT_HIDDEN)}},
            opset_version=OPSET, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    if net.config.half_weights:
        _store_half(proto)
    contract = (FEATURES_CONTRACT_ID if features_in
                else CONTRACT_ID if net.config.causal else OFFLINE_CONTRACT_ID)
    return save_model(proto, path, {**(metadata or {}), **metadata_props(net.config, contract)})


def save_model(proto: Any, path: str | Path, props: dict[str, str]) -> Path:
    """Write an exported graph with exactly these metadata props, atomically (a reader of
    ``path`` sees the old file or the new one, never a part)."""
    import onnx

    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    onnx.save(proto, str(tmp))
    tmp.replace(path)
    return path


def metadata_props(config: ModelConfig, contract: str) -> dict[str, str]:
    """The metadata every exported note model carries: its contract, the hop, rate and
    lookahead the engine checks, and the network's config (its front end)."""
    return {"vocalmidi.contract": contract, "vocalmidi.hop": str(HOP),
            "vocalmidi.sample_rate": str(SAMPLE_RATE),
            "vocalmidi.lookahead_hops": str(LOOKAHEAD_HOPS),
            "vocalmidi.model": json.dumps(config.as_dict())}


def head_outputs(head: np.ndarray) -> dict[str, np.ndarray]:
    """A note-features/1 graph's raw head ``[n, HEAD_SIZE]`` -> the five outputs ``[n]``
    (contract.py, "The raw head"; the engine's NoteModel::readFrames does the same)."""
    head = np.asarray(head, np.float32)
    notes = head[:, HEAD_NOTES]
    # softmax of the top class: 1 / sum(exp(z - z_max))
    conf = 1.0 / np.sum(np.exp(notes - notes.max(axis=-1, keepdims=True)), axis=-1)
    note = (np.argmax(notes, axis=-1) + NOTE_MIN).astype(np.float32)
    return {OUTPUT_ONSET: 1.0 / (1.0 + np.exp(-head[:, HEAD_ONSET])),
            OUTPUT_SOUNDING: 1.0 / (1.0 + np.exp(-head[:, HEAD_SOUNDING])),
            OUTPUT_NOTE: note, OUTPUT_NOTE_CONF: conf.astype(np.float32),
            OUTPUT_PITCH: note + head[:, HEAD_CENTS]}


@dataclass
class ModelOutputs:
    """Per label frame outputs of a clip (arrays of length ``frames``)."""

    onset: np.ndarray
    sounding: np.ndarray
    note: np.ndarray
    note_conf: np.ndarray
    pitch: np.ndarray


def stream_frames(name: str, stream: np.ndarray, frames: int) -> np.ndarray:
    """A stream's outputs of one name as label frames 0..frames-1: the first
    ``LOOKAHEAD_HOPS`` outputs stand for frames before the stream and are dropped, except
    that an onset there is frame 0's. Why: before the stream is silence (the contract), so
    an onset the model puts there is a sound that starts at the stream's first sample;
    dropped, it left frame 0 with the peak's tail, and a steady tone from the first sample
    came out through the engine as a wrong guess, then the right note (session 30). The
    engine does the same (MlPipeline::runNoteFrames)."""
    out = stream[LOOKAHEAD_HOPS:LOOKAHEAD_HOPS + frames].copy()
    if name == OUTPUT_ONSET and len(out):
        out[0] = max(out[0], float(np.max(stream[:LOOKAHEAD_HOPS])))
    return out


def _join(parts: dict[str, list[np.ndarray]], frames: int) -> ModelOutputs:
    """The outputs of successive calls as label frames 0..frames-1 (:func:`stream_frames`)."""
    cat = {n: stream_frames(n, np.concatenate(parts[n]), frames) for n in OUTPUTS}
    return ModelOutputs(cat[OUTPUT_ONSET], cat[OUTPUT_SOUNDING], cat[OUTPUT_NOTE],
                        cat[OUTPUT_NOTE_CONF], cat[OUTPUT_PITCH])


class OnnxNoteModel:
    """An exported note model under ONNX Runtime.

    Parameters
    ----------
    path : path
        The ``.onnx`` file.
    threads : int
        Intra-op threads (the engine uses 1).
    device : {"cpu", "cuda"}
        A device resolved by :func:`vocalmidi.device.use_device`. ``cuda`` runs on ONNX
        Runtime's CUDA provider when this ``onnxruntime`` module has one and it starts;
        otherwise the CPU, with a ``RuntimeWarning`` that says why.

    Attributes
    ----------
    device : str
        Where the session runs: ``cpu`` or ``cuda``.
    """

    def __init__(self, path: str | Path, threads: int = 1, device: str = "cpu") -> None:
        import onnxruntime as ort

        from vocalmidi.device import CUDA_PROVIDER, onnx_providers

        providers, why = onnx_providers(device)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session: onnxruntime.InferenceSession = ort.InferenceSession(
                str(path), opts, providers=providers)
        except Exception as exc:  # ORT raises its own untyped errors
            raise ModelError(f"cannot load note model {path}: {exc}") from exc
        # ONNX Runtime drops a CUDA provider that fails to start (a missing CUDA library)
        # with only a log line: what the session kept is what runs.
        self.device = "cuda" if CUDA_PROVIDER in self.session.get_providers() else "cpu"
        if device == "cuda" and self.device == "cpu":
            why = why or "ONNX Runtime could not start its CUDA provider (see its log)"
            warnings.warn(f"--device cuda: {why}; the note model runs on the CPU",
                          RuntimeWarning, stacklevel=2)
        meta = self.session.get_modelmeta().custom_metadata_map
        contracts = (CONTRACT_ID, FEATURES_CONTRACT_ID, OFFLINE_CONTRACT_ID)
        if meta.get("vocalmidi.contract") not in contracts:
            raise ModelError(f"{path} is not a {', '.join(contracts)} note model "
                             f"(contract {meta.get('vocalmidi.contract')!r})")
        #: False for a whole-take model: :meth:`run` then never cuts a take where a
        #: frame's later audio would be missing.
        self.causal = meta["vocalmidi.contract"] != OFFLINE_CONTRACT_ID
        self.metadata: dict[str, str] = dict(meta)
        #: A one-frame graph (vocalmidi.train.one_frame) takes one hop per call.
        self.one_frame = False
        #: A features-in graph's front end (numpy), run here before each call.
        self.front_end: NumpyFrontEnd | None = None
        if meta["vocalmidi.contract"] == FEATURES_CONTRACT_ID:
            from vocalmidi.train.front_end_np import NumpyFrontEnd

            self.front_end = NumpyFrontEnd.from_config(json.loads(meta["vocalmidi.model"]))
            shape = next(i.shape for i in self.session.get_inputs() if i.name == INPUT_FEATURES)
            width = shape[-1]
            self.one_frame = shape[1] == 1
            if width != self.front_end.features:
                raise ModelError(f"{path}: input {INPUT_FEATURES} takes {width} features, but "
                                 f"the front end its vocalmidi.model names gives "
                                 f"{self.front_end.features}")
        shape = next(i.shape for i in self.session.get_inputs() if i.name == INPUT_HIDDEN)
        self.hidden_shape = tuple(int(d) for d in shape)
        self._rest: dict[str, np.ndarray] | None = None

    def zero_state(self) -> dict[str, np.ndarray]:
        """All-zero state (the trainer's crops start from it)."""
        return {INPUT_CONTEXT: np.zeros((1, CONTEXT), np.float32),
                INPUT_HIDDEN: np.zeros(self.hidden_shape, np.float32)}

    def initial_state(self) -> dict[str, np.ndarray]:
        """The state a stream starts from: silence before it. A streaming model's is the
        state after :data:`REST_HOPS` hops of silence from zero (one call, as the
        engine's); a whole-take model starts from zero."""
        if not self.causal:
            return self.zero_state()
        if self._rest is None:
            _, self._rest = self.step(np.zeros(REST_HOPS * HOP, np.float32), self.zero_state())
        return {k: v.copy() for k, v in self._rest.items()}

    def step(self, audio: np.ndarray, state: dict[str, np.ndarray], keep: int | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One call: ``audio`` (a whole number of hops) -> (outputs ``[n]`` each, new state).

        A whole-take model takes ``keep`` (``1 <= keep < n``): the new state is the one
        after that many hops."""
        audio = np.ascontiguousarray(audio, np.float32).reshape(1, -1)
        if self.front_end is not None:  # the context is kept here, not in the graph
            buf = np.concatenate([state[INPUT_CONTEXT], audio], axis=1)
            feats, h_out = self.front_end(buf[0])[None], state[INPUT_HIDDEN]
            calls = np.split(feats, feats.shape[1], axis=1) if self.one_frame else [feats]
            heads = []
            for part in calls:
                head, h_out = self.session.run([OUTPUT_HEAD, OUTPUT_HIDDEN],
                                               {INPUT_FEATURES: part, INPUT_HIDDEN: h_out})
                heads.append(head[0])
            return head_outputs(np.concatenate(heads)), {INPUT_CONTEXT: buf[:, -CONTEXT:].copy(),
                                                         INPUT_HIDDEN: h_out}
        feeds = {INPUT_AUDIO: audio, **state}
        if not self.causal:
            feeds[INPUT_KEEP] = np.array([keep], np.int64)
        names = [*OUTPUTS, OUTPUT_CONTEXT, OUTPUT_HIDDEN]
        res = self.session.run(names, feeds)
        outs = {n: r[0] for n, r in zip(OUTPUTS, res[:len(OUTPUTS)], strict=True)}
        return outs, {INPUT_CONTEXT: res[-2], INPUT_HIDDEN: res[-1]}

    def run(self, audio: np.ndarray, hops_per_call: int | None = None) -> ModelOutputs:
        """Label-frame outputs of a whole 16 kHz clip, from :meth:`initial_state` (and again
        after each quiet second, :func:`quiet_restarts`).

        ``hops_per_call=None`` feeds the clip in one call; ``1`` streams it hop by hop as
        the engine does (the outputs are the same). A whole-take model ignores
        ``hops_per_call``: see :meth:`_run_whole_take`.
        """
        padded, frames = pad_for_frames(np.asarray(audio, np.float32))
        if not self.causal:
            return self._run_whole_take(padded, frames)
        total = len(padded) // HOP
        per = total if hops_per_call is None else max(1, hops_per_call)
        parts: dict[str, list[np.ndarray]] = {n: [] for n in OUTPUTS}
        # From the initial state, again after each quiet second (quiet_restarts).
        ends = [k + 1 for k in quiet_restarts(padded)]
        for first, end in zip([0, *ends], [*ends, total], strict=True):
            state = self.initial_state()
            for start in range(first, end, per):
                outs, state = self.step(padded[start * HOP:min(end, start + per) * HOP], state)
                for n in OUTPUTS:
                    parts[n].append(outs[n])
        return _join(parts, frames)


    def _run_whole_take(self, padded: np.ndarray, frames: int) -> ModelOutputs:
        """A whole-take model over a clip, ``OFFLINE_CHUNK_HOPS`` per call: each call also
        hears the next ``OFFLINE_MARGIN_HOPS`` (for the backward GRU) and hands on the
        causal state at the end of its own part, so only the backward half is cut.
        Measured with vocalnote-offline-s on 2 min of the evaluation set: margins of 50,
        100 and 200 hops give the same 238 notes as one call; 100 costs 3 % more CPU than
        50 (real-time factor 0.0045 per core). tests/python/test_whole_take_model.py
        checks it on a sung take."""
        # A call needs a hop after its kept part, so no call is of a single hop: a clip
        # that short gets a zero hop (its output is past the clip and dropped), a
        # single last hop goes with the call before it.
        if len(padded) < 2 * HOP:
            padded = np.concatenate([padded, np.zeros(2 * HOP - len(padded), np.float32)])
        total = len(padded) // HOP
        starts = list(range(0, total, OFFLINE_CHUNK_HOPS))
        if len(starts) > 1 and total - starts[-1] == 1:
            starts.pop()
        state = self.initial_state()
        parts: dict[str, list[np.ndarray]] = {n: [] for n in OUTPUTS}
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else total
            hi = min(total, end + OFFLINE_MARGIN_HOPS)
            keep = min(end - start, hi - start - 1)
            outs, state = self.step(padded[start * HOP:hi * HOP], state, keep)
            for n in OUTPUTS:
                parts[n].append(outs[n][:end - start])
        return _join(parts, frames)


def measure_hop_cost(path: str | Path, calls: int = 4000, repeats: int = 5,
                     pause_s: float = 0.0) -> dict[str, float]:
    """CPU cost of the streaming model as the engine runs it: one hop per call, 1 thread.

    Returns the median over ``repeats`` of the mean thread CPU time per call (ms), and
    that as a share of one core at 200 hops/s (the engine's rate at any host rate, since
    it resamples to 16 kHz first). Thread CPU time rather than wall time, so other load
    on a shared machine counts less.

    ``pause_s`` sleeps between calls, as the engine's ML thread waits a hop (0.005) for
    the next one. Why: on this shared machine a call after a 5 ms pause costs 3-5 times
    a back-to-back one (caches gone cold); that paced figure is what a host sees.
    """
    import time

    model = OnnxNoteModel(path, threads=1)
    rng = np.random.default_rng(0)
    hops = (0.1 * rng.standard_normal((64, HOP))).astype(np.float32)
    state = model.initial_state()
    for i in range(200):
        _, state = model.step(hops[i % 64], state)
    per_call = []
    for _ in range(repeats):
        spent = 0.0
        for i in range(calls):
            t0 = time.thread_time()
            _, state = model.step(hops[i % 64], state)
            spent += time.thread_time() - t0
            if pause_s:
                time.sleep(pause_s)
        per_call.append(spent / calls)
    ms = 1000.0 * float(np.median(per_call))
    return {"ms_per_hop": round(ms, 4),
            "core_percent": round(ms / 1000.0 * (SAMPLE_RATE / HOP) * 100.0, 2)}


def measure_take_cost(path: str | Path, seconds: float = 60.0,
                      repeats: int = 3) -> dict[str, float]:
    """CPU cost of a whole-take model over a take, as ``vocalmidi transcribe`` runs it
    (:meth:`OnnxNoteModel.run`, 1 thread): the median thread CPU time over ``repeats``
    runs divided by the audio's duration (real-time factor per core; model only, from
    16 kHz audio)."""
    import time

    model = OnnxNoteModel(path, threads=1)
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)
    model.run(audio[:SAMPLE_RATE])
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        model.run(audio)
        times.append(time.thread_time() - t0)
    return {"rtf_per_core": round(float(np.median(times)) / seconds, 5)}


def quantize_int8(src: str | Path, dst: str | Path) -> Path:
    """ONNX Runtime dynamic int8 quantisation (weights int8, activations quantised per call)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return Path(dst)


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--untrained", action="store_true",
                     help="export a freshly initialised model (graph wiring only)")
    src.add_argument("--checkpoint", type=Path, help="trainer checkpoint (.pt) to export")
    src.add_argument("--onnx", type=Path,
                     help="an exported streaming model: write its weights and metadata "
                          "again with this version's graph (same outputs, see "
                          "docs/note-model.md)")
    p.add_argument("--half-weights", action=argparse.BooleanOptionalAction, default=None,
                   help="store the weights as float16 (half the file, same cost per call; "
                        "outputs move by < 1e-3) or float32; default: as the model's config")
    p.add_argument("--features-in", action="store_true",
                   help="write the note-features/1 graph: no front end inside, the engine "
                        "computes the features (faster per hop; docs/note-model.md)")
    p.add_argument("out", type=Path, help="output .onnx file")
    p.add_argument("--seed", type=int, default=0, help="initialisation seed (--untrained)")


def reexport_onnx(src: str | Path, out: str | Path, half_weights: bool | None = None,
                  features_in: bool = False) -> Path:
    """Write an exported streaming model's weights and its own metadata (decoder
    settings, provenance) again with the current graph: a shipped model gains a faster
    front end without retraining. ``half_weights`` True / False stores the weights as
    float16 / float32 (None: as the source does); ``features_in`` writes the
    ``note-features/1`` graph (no front end). The caller checks parity (tests do)."""
    import onnx

    from vocalmidi.train.from_onnx import net_from_onnx

    net = _stored_as(net_from_onnx(src), half_weights)
    # export_onnx writes the graph's own keys (contract, hop, model...) over these.
    meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    return export_onnx(net, out, meta, features_in=features_in)


def main(args: argparse.Namespace) -> int:
    from vocalmidi.train.model import build_model

    if args.onnx:
        path = reexport_onnx(args.onnx, args.out, args.half_weights, args.features_in)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
        return 0
    meta: dict[str, Any] = {}
    if args.untrained:
        net = build_model(seed=args.seed)
    else:
        from vocalmidi.train.trainer import load_checkpoint

        net, meta = load_checkpoint(args.checkpoint)
    path = export_onnx(_stored_as(net, args.half_weights), args.out,
                       {k: str(v) for k, v in meta.items()}, features_in=args.features_in)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m vocalmidi.train.export",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    raise SystemExit(main(parser.parse_args()))
