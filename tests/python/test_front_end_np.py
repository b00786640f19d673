"""The note model without its front end (``note-features/1``): the numpy front end against
the torch one inside the exported graphs, and a features graph against the audio graph of
the same weights, in Python and through the engine (which runs its C++ front end)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from vocalmidi.errors import ModelError
from vocalmidi.train import contract
from vocalmidi.train.export import FEATURES_CONTRACT_ID, OnnxNoteModel, reexport_onnx

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
GOLDEN = REPO / "tests" / "engine" / "golden"


def sung_clip(name: str = "oohs-fluidr3") -> np.ndarray:
    """A rendered sung clip at 16 kHz, the engine's golden audio (make_note_golden.py):
    FluidR3 Voice Oohs, or ``synth-timgm`` (TimGM6mb Synth Voice)."""
    raw = (GOLDEN / f"{name}.golden.bin").read_bytes()
    count, _ = struct.unpack_from("<ii", raw, 8)
    return np.frombuffer(raw, "<i2", count, 16).astype(np.float32) / 32767.0


@pytest.mark.parametrize("blocks", [
    {}, {"mid_window": contract.MID_WINDOW},
    {"mid_window": contract.MID_WINDOW, "lag_window": contract.LAG_WINDOW},
    {"mid_window": contract.MID_WINDOW, "lag_window": contract.LAG_WINDOW, "lag_peak": True},
])
def test_the_numpy_front_end_gives_the_torch_front_ends_features(blocks) -> None:
    """Every block, every frame of a sung clip (onsets, silence, a 40 dB quieter copy)."""
    from vocalmidi.train.features import FrontEnd
    from vocalmidi.train.front_end_np import NumpyFrontEnd

    clip = sung_clip()
    audio = np.concatenate([clip, 0.01 * clip])
    hops = len(audio) // contract.HOP
    buf = np.concatenate([np.zeros(contract.CONTEXT, np.float32), audio[:hops * contract.HOP]])
    want = FrontEnd(**blocks)(torch.from_numpy(buf)[None])[0].numpy()
    got = NumpyFrontEnd(**blocks)(buf)
    assert got.shape == want.shape == (hops, contract.feature_count(**blocks))
    # torch's DFT sums in float32: at the -100 dB floor its log10 is a little off
    np.testing.assert_allclose(got, want, atol=0.01, rtol=0)
    loud = want > -8.0
    np.testing.assert_allclose(got[loud], want[loud], atol=2e-3, rtol=0)
    with pytest.raises(ValueError, match="takes 944 \\+ n \\* 80 samples"):
        NumpyFrontEnd(**blocks)(buf[:-1])


@pytest.fixture(scope="module")
def both_graphs(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped weights as a note-model/1 graph (front end inside) and as a
    note-features/1 graph."""
    out = tmp_path_factory.mktemp("graphs")
    audio = reexport_onnx(SHIPPED, out / "audio.onnx")
    feats = reexport_onnx(SHIPPED, out / "features.onnx", features_in=True)
    return audio, feats


def test_a_features_graph_gives_the_audio_graphs_outputs(both_graphs) -> None:
    """Whole clip and hop by hop, as the engine runs it: same outputs to float rounding."""
    audio_graph, features_graph = both_graphs
    ref, fast = OnnxNoteModel(audio_graph), OnnxNoteModel(features_graph)
    assert fast.metadata["vocalmidi.contract"] == FEATURES_CONTRACT_ID
    assert fast.front_end is not None and ref.front_end is None
    clip = sung_clip()
    want = ref.run(clip)
    for per in (None, 1):
        got = fast.run(clip, hops_per_call=per)
        for name in ("onset", "sounding", "note_conf"):
            np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=3e-3,
                                       err_msg=f"{name}, {per} hops per call")
        assert np.mean(got.note != want.note) <= 0.01
        same = got.note == want.note
        np.testing.assert_allclose(got.pitch[same], want.pitch[same], atol=0.01)
    assert features_graph.stat().st_size < audio_graph.stat().st_size  # no DFT constants


def test_a_features_graph_reads_back_for_a_fine_tune(both_graphs) -> None:
    """``init_from`` may name a features graph: its network reads back whole."""
    from vocalmidi.train.from_onnx import net_from_onnx

    audio_graph, features_graph = both_graphs
    a, b = net_from_onnx(audio_graph), net_from_onnx(features_graph)
    assert a.config == b.config
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_a_features_graph_whose_front_end_does_not_fit_is_refused(both_graphs, tmp_path) -> None:
    """Metadata naming another front end than the graph's input width: a clear error from
    Python and from the engine, not a garbled stream."""
    from vocalmidi.engine import Engine

    proto = onnx.load(str(both_graphs[1]))
    for prop in proto.metadata_props:
        if prop.key == "vocalmidi.model":
            prop.value = json.dumps({**json.loads(prop.value), "lag_window": 0})
    bad = tmp_path / "bad.onnx"
    onnx.save(proto, str(bad))
    with pytest.raises(ModelError, match="takes 613 features.*gives 512"):
        OnnxNoteModel(bad)
    with Engine() as engine, \
            pytest.raises(ModelError, match=r"input features must be \[1, n, 512\]"):
        engine.load_model(bad, "vocalnote")


def test_the_engine_runs_a_features_graph_like_the_audio_graph(both_graphs) -> None:
    """The engine's C++ front end before a features graph sends the notes the same
    weights with the front end inside the graph send, at the same times."""
    from vocalmidi.engine import transcribe_array

    gap = np.zeros(8000, np.float32)
    clip = np.concatenate([sung_clip(), gap, sung_clip("synth-timgm"), gap])
    ref, got = (transcribe_array(clip, 16000, g, kind="vocalnote") for g in both_graphs)
    assert len(ref) >= 6
    assert [n.pitch for n in got] == [n.pitch for n in ref]
    np.testing.assert_allclose([n.start for n in got], [n.start for n in ref], atol=1e-3)
