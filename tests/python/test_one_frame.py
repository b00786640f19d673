"""The engine's one-frame form of a note model (vocalmidi.train.one_frame): the GRU
written out, its products int8. It must be the float model's function (exactly, without
int8), hear the same notes (with int8), stream alike in one call and hop by hop, and be
what the repository ships."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_front_end_np import sung_clip

from vocalmidi.errors import UsageError
from vocalmidi.models.hashing import sha256_file
from vocalmidi.train.export import OnnxNoteModel
from vocalmidi.train.one_frame import INT8_KEY, export_one_frame, one_frame_from_file

pytest.importorskip("torch")
pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
FLOAT = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
SHIPPED = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s-int8.onnx"


def two_clips() -> np.ndarray:
    gap = np.zeros(8000, np.float32)
    return np.concatenate([sung_clip("oohs-fluidr3"), gap, sung_clip("synth-timgm"), gap])


@pytest.fixture(scope="module")
def float_net():
    from vocalmidi.train.from_onnx import net_from_onnx

    return net_from_onnx(FLOAT)


def test_without_int8_the_one_frame_graph_is_the_float_model(float_net, tmp_path) -> None:
    """Issue 13's parity rule (1e-4) on a real sung clip, streamed from the same state."""
    path = export_one_frame(float_net, tmp_path / "f32.onnx", int8="none")
    ref, got = OnnxNoteModel(FLOAT), OnnxNoteModel(path)
    assert got.one_frame and not ref.one_frame
    audio = sung_clip("oohs-fluidr3")
    a, b = ref.run(audio), got.run(audio)
    for name in ("onset", "sounding", "note_conf", "pitch"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-4, rtol=0)


def test_a_one_frame_graph_streams_in_one_call_and_hop_by_hop_alike() -> None:
    model = OnnxNoteModel(SHIPPED)
    audio = sung_clip("synth-timgm")
    whole, hops = model.run(audio), model.run(audio, hops_per_call=1)
    for name in ("onset", "sounding", "note", "pitch"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(hops, name))


def test_the_shipped_file_is_what_one_frame_writes_from_the_float_graph(tmp_path) -> None:
    """The manifest's file is the one-frame int8 form of the float graph beside it, with
    the float graph's decoder thresholds: remade here, it gives the same outputs."""
    manifest = json.loads((REPO / "models" / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["id"] == "vocalnote-s")
    assert entry["files"][0]["sha256"] == sha256_file(SHIPPED)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(FLOAT)).metadata_props}
    remade = OnnxNoteModel(one_frame_from_file(FLOAT, tmp_path / "int8.onnx"))
    shipped = OnnxNoteModel(SHIPPED)
    assert shipped.metadata[INT8_KEY] == "input+gru"
    assert shipped.metadata == remade.metadata
    for key in ("vocalmidi.decoder", "vocalmidi.decoder.accurate"):
        assert shipped.metadata[key] == meta[key]
    audio = sung_clip("oohs-fluidr3")
    a, b = shipped.run(audio), remade.run(audio)
    np.testing.assert_allclose(b.onset, a.onset, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(b.note, a.note)


def test_the_engine_sends_the_float_graphs_notes_with_the_int8_graph() -> None:
    """Through the engine (its C++ front end, a backlog run hop by hop): each note the
    float graph sends, the int8 graph sends too, same pitch, within a hop of it; a blip
    of the float graph may be missing."""
    from vocalmidi.engine import transcribe_array

    clip = two_clips()
    ref, got = (transcribe_array(clip, 16000, str(g), kind="vocalnote") for g in (FLOAT, SHIPPED))
    assert len(ref) >= 6

    def matched(a, b) -> int:
        return sum(any(n.pitch == m.pitch and abs(n.start - m.start) <= 0.005 for m in b)
                   for n in a)

    assert matched(got, ref) == len(got)  # nothing the float graph did not send
    lasting = [n for n in ref if n.end - n.start >= 0.1]
    assert matched(lasting, got) == len(lasting)


def test_a_fine_tune_cannot_start_from_the_int8_graph() -> None:
    from vocalmidi.train.from_onnx import net_from_onnx

    with pytest.raises(UsageError, match="float graph it was made from"):
        net_from_onnx(SHIPPED)


def test_only_the_known_int8_choices_are_written(float_net, tmp_path) -> None:
    with pytest.raises(ValueError, match="int8 must be one of"):
        export_one_frame(float_net, tmp_path / "x.onnx", int8="all")
    assert not (tmp_path / "x.onnx").exists()
