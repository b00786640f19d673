"""The whole take through the shipped note model in pieces: the route's chunked calls
give the one-call notes, and the batched segments (vocalmidi.notemodel.segmented) are
put together from the right rows, on a real sung take (espeak-ng syllables, WORLD)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocalmidi.notemodel.offline import decode_offline
from vocalmidi.notemodel.run import FrameOutputs, NoteModelRunner, frame_outputs, resample_to_model
from vocalmidi.notemodel.segmented import SegmentedNoteModel
from vocalmidi.train.contract import CONTEXT, HOP, INPUT_CONTEXT
from vocalmidi.train.export import OUTPUTS, ModelOutputs, pad_for_frames

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models/trained/vocalnote-s/vocalnote-s.onnx"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped weights as a note-model/1 graph: segments batch only with the front end
    inside the graph (the shipped file takes features, and is refused: see below)."""
    pytest.importorskip("torch")
    from vocalmidi.train.export import reexport_onnx

    return reexport_onnx(SHIPPED, tmp_path_factory.mktemp("segments") / "audio.onnx")


@pytest.fixture(scope="module")
def runner(model_file: Path) -> NoteModelRunner:
    return NoteModelRunner(model_file, threads=1)


@pytest.fixture(scope="module")
def sung() -> tuple[np.ndarray, int]:
    """The quick evaluation set's sung-syllable take (a validation voice), in a room."""
    from vocalmidi.eval.conditions import apply_condition
    from vocalmidi.eval.dataset import SAMPLE_RATE, plan_takes
    from vocalmidi.eval.melodies import load_melody
    from vocalmidi.eval.perform import STYLES, perform

    plan = next(p for p in plan_takes(quick=True) if p.soundfont == "espeak")
    score, _ = load_melody(plan.melody, voice=plan.voice, max_seconds=plan.seconds,
                           tempo_scale=plan.tempo_scale)
    dry, _ = plan.singer().render(perform(score, STYLES[plan.style], plan.seed),
                                  SAMPLE_RATE, plan.seed)
    audio, _ = apply_condition(dry, SAMPLE_RATE, "room", np.random.default_rng(plan.seed))
    return audio.astype(np.float32), SAMPLE_RATE


def _max_diff(a: ModelOutputs | FrameOutputs, b: ModelOutputs | FrameOutputs) -> float:
    return max(float(np.max(np.abs(getattr(a, n) - getattr(b, n)))) for n in OUTPUTS)


def test_the_route_gives_the_one_call_notes(runner: NoteModelRunner,
                                            sung: tuple[np.ndarray, int]) -> None:
    audio, sr = sung
    audio16 = resample_to_model(audio, sr)
    one_call = frame_outputs(runner.model.run(audio16), audio16, bends=True)
    route = runner.analyse(audio, sr, bends=True)  # 250-hop calls
    assert len(route) == len(one_call)
    assert _max_diff(route, one_call) < 1e-5
    notes, expected = decode_offline(route, bends=True), decode_offline(one_call, bends=True)
    assert len(notes) >= 5
    assert [(n.start, n.end, n.pitch, n.velocity) for n in notes] == [
        (n.start, n.end, n.pitch, n.velocity) for n in expected]
    for n, e in zip(notes, expected, strict=True):  # bends carry the pitch output's 1e-6
        np.testing.assert_allclose(np.array(n.bend), np.array(e.bend), atol=1e-4)


def test_batched_segments_are_the_streams_they_stand_for(runner: NoteModelRunner,
                                                         sung: tuple[np.ndarray, int],
                                                         model_file: Path) -> None:
    audio16 = resample_to_model(*sung)
    model = runner.model
    whole = SegmentedNoteModel(model, model_file)  # a 6 s take fits one 10 s segment
    assert whole.batched
    assert _max_diff(whole.run(audio16), model.run(audio16)) < 1e-5

    seg, warm = 300, 100
    out = SegmentedNoteModel(model, model_file, segment_hops=seg, warmup_hops=warm).run(audio16)
    padded, frames = pad_for_frames(audio16)
    total = len(padded) // HOP
    rows = -(-(total - warm) // seg)
    seg = -(-(total - warm) // rows)  # what the runner balances them to
    assert rows >= 3
    reference = model.run(audio16)
    # Stream output i is label frame i - 1; row 0 is the sequential stream.
    for name in OUTPUTS:
        np.testing.assert_allclose(getattr(out, name)[:seg + warm - 1],
                                   getattr(reference, name)[:seg + warm - 1], atol=1e-5)
    # Row k: a stream from hop k*seg with the true context and the GRU state a stream starts from.
    buf = np.concatenate([np.zeros(CONTEXT, np.float32), padded])
    for k in range(1, rows):
        start, keep = k * seg, k * seg + warm
        stop = min(total, keep + seg)
        state = model.initial_state()
        state[INPUT_CONTEXT] = buf[start * HOP:start * HOP + CONTEXT][None]
        alone, _ = model.step(padded[start * HOP:stop * HOP], state)
        for name in OUTPUTS:
            np.testing.assert_allclose(getattr(out, name)[keep - 1:stop - 1],
                                       alone[name][keep - start:], atol=1e-5)
    assert frames == len(out.onset)


def test_a_refused_batch_graph_falls_back_to_the_stream(runner: NoteModelRunner,
                                                        tmp_path: Path, model_file: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not an onnx file")
    with pytest.warns(RuntimeWarning, match="run sequentially"):
        fallback = SegmentedNoteModel(runner.model, bad)
    assert not fallback.batched
    audio16 = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    assert _max_diff(fallback.run(audio16), runner.model.run(audio16)) < 1e-5
    with pytest.raises(ValueError, match="segment_hops"):
        SegmentedNoteModel(runner.model, model_file, segment_hops=0)
    # The shipped file takes features (its front end outside the graph): sequential.
    from vocalmidi.train.export import OnnxNoteModel

    with pytest.warns(RuntimeWarning, match="note-features/1.*run sequentially"):
        assert not SegmentedNoteModel(OnnxNoteModel(SHIPPED), SHIPPED).batched
