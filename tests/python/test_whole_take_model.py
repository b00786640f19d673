"""The whole-take note model (vocalnote-offline-s): a backward GRU over vocalnote-s's
causal one, for files. It starts exactly from the causal model, its ONNX graph matches
torch and gives the same notes in the overlapping calls a long take needs as in one call,
the engine and ``--live`` refuse it with a clear error, and it transcribes a sung take.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from test_transcribe import MELODY, onsets, sing  # noqa: E402

from vocalmidi.errors import UsageError  # noqa: E402
from vocalmidi.train import contract  # noqa: E402
from vocalmidi.train import export as E  # noqa: E402
from vocalmidi.train.model import ModelConfig, WholeTakeNoteModel, build_model  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CAUSAL = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
WHOLE = REPO / "models" / "trained" / "vocalnote-offline-s" / "vocalnote-offline-s.onnx"


def causal_net():
    from vocalmidi.train.from_onnx import net_from_onnx

    return net_from_onnx(CAUSAL)


def whole_take_config(causal) -> ModelConfig:
    """The causal model's sizes plus a backward GRU of 16."""
    return ModelConfig(**{**causal.config.as_dict(), "backward": 16})


def whole_take_net(seed: int = 0):
    """vocalnote-s plus a backward GRU of 16 whose head weights are random (so it counts)."""
    causal = causal_net()
    net = build_model(whole_take_config(causal), seed)
    net.load_causal(causal)
    with torch.no_grad():
        net.head.weight[:, causal.config.hidden:].normal_(
            0.0, 0.05, generator=torch.Generator().manual_seed(seed))
    return net.eval()


def test_it_starts_from_the_causal_model_exactly(tmp_path: Path) -> None:
    causal_weights = causal_net()
    net = build_model(whole_take_config(causal_weights))
    net.load_causal(causal_weights)
    path = E.export_onnx(net, tmp_path / "w.onnx")
    # The shipped file takes features (note-features/1, a numpy front end here): compare
    # like with like, the same weights with the torch front end inside the graph.
    same_front = E.reexport_onnx(CAUSAL, tmp_path / "causal.onnx")
    whole, causal = E.OnnxNoteModel(path), E.OnnxNoteModel(same_front)
    assert whole.metadata["vocalmidi.contract"] == E.OFFLINE_CONTRACT_ID and not whole.causal
    audio = sing(contract.SAMPLE_RATE)
    causal.initial_state = causal.zero_state  # a whole-take model starts from zero
    a, b = whole.run(audio), causal.run(audio)
    for name in E.OUTPUTS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-5, err_msg=name)
    hidden = causal_weights.config.hidden
    with pytest.raises(ValueError, match=f"causal model with hidden {hidden}"):
        net.load_causal(build_model(ModelConfig(hidden=64)))
    with pytest.raises(ValueError, match="mid_window"):  # another front end
        net.load_causal(build_model(ModelConfig(hidden=hidden)))


def test_onnx_matches_torch_in_one_call_and_in_overlapping_calls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = whole_take_net()
    model = E.OnnxNoteModel(E.export_onnx(net, tmp_path / "w.onnx"))
    audio = sing(contract.SAMPLE_RATE)
    padded, frames = E.pad_for_frames(audio)
    hops = len(padded) // contract.HOP
    with torch.no_grad():
        ref = WholeTakeNoteModel(net)(torch.from_numpy(padded)[None],
                                      torch.zeros(1, contract.CONTEXT), net.initial_state(1),
                                      torch.tensor([hops - 1]))
    one = model.run(audio)
    # Calls of 150 hops hearing 120 more: the causal state is handed on exactly, the
    # backward GRU hears 0.6 s past each call's part.
    monkeypatch.setattr(E, "OFFLINE_CHUNK_HOPS", 150)
    monkeypatch.setattr(E, "OFFLINE_MARGIN_HOPS", 120)
    assert hops > 3 * 150
    pieces = model.run(audio)
    for i, name in enumerate(E.OUTPUTS):
        t = E.stream_frames(name, ref[i][0].numpy(), frames)
        if name == "note":  # argmax: equal where the top two classes are not tied
            assert np.mean(one.note == t) > 0.999 and np.mean(pieces.note == t) > 0.99
            continue
        # 5e-4: vocalnote-s itself differs up to 2e-4 between torch and ONNX Runtime here
        # (float32 sums in the 1,024-point DFT and two GRU layers, measured).
        np.testing.assert_allclose(getattr(one, name), t, atol=5e-4, err_msg=name)
        np.testing.assert_allclose(getattr(pieces, name), t, atol=2e-2, err_msg=name)
    # Clips of 0, 1 and 2 hops and one hop past a whole number of calls all work.
    for n in (0, 1, 80, 160, (150 + 1 - contract.LOOKAHEAD_HOPS) * contract.HOP):
        assert len(model.run(np.zeros(n, np.float32)).onset) == contract.num_frames(n)


def test_its_onnx_is_not_read_back_as_a_causal_model() -> None:
    from vocalmidi.train.from_onnx import net_from_onnx

    with pytest.raises(UsageError, match="whole-take model: fine-tune it from its run's best.pt"):
        net_from_onnx(WHOLE)


def test_the_engine_refuses_a_whole_take_model(tmp_path: Path) -> None:
    from vocalmidi.engine import Engine
    from vocalmidi.errors import ModelError

    path = E.export_onnx(whole_take_net(), tmp_path / "w.onnx")
    with pytest.raises(ModelError, match="note-model/1"):
        Engine(path, "vocalnote")


def test_the_shipped_model_gives_the_same_notes_in_pieces(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The margin a call hears past its part (OFFLINE_MARGIN_HOPS) is enough: the shipped
    model in calls of 150 hops gives the notes it gives in one call."""
    from vocalmidi.notemodel.offline import decode_offline
    from vocalmidi.notemodel.run import NoteModelRunner

    runner = NoteModelRunner(WHOLE)
    audio = sing(48000)
    one = decode_offline(runner.analyse(audio, 48000), runner.offline_config())
    monkeypatch.setattr(E, "OFFLINE_CHUNK_HOPS", 150)
    pieces = decode_offline(runner.analyse(audio, 48000), runner.offline_config())
    assert [n.to_dict() for n in pieces] == [n.to_dict() for n in one]
    assert [n.pitch for n in one] == [p for p, _ in MELODY]


def test_transcribe_uses_it_for_files_and_refuses_it_live(model_cache: Path) -> None:
    """No model named: a file gets the whole-take model (notes on their attacks), the
    live route the plugin's default; naming the whole-take model for live is an error."""
    import vocalmidi
    from vocalmidi.transcribe import Settings, resolve_model

    assert resolve_model(files=True)[0].id == "vocalnote-offline-s"
    assert resolve_model(files=Settings(live=True).for_files())[0].id == "vocalnote-s"
    notes = vocalmidi.transcribe(sing(44100), sr=44100, use_cache=False)
    assert [n.pitch for n in notes] == [p for p, _ in MELODY]
    for n, t in zip(notes, onsets(), strict=True):
        assert abs(n.start - t) <= 0.02, (n, t)
    with pytest.raises(UsageError, match="whole-take model: it cannot run live"):
        vocalmidi.transcribe(sing(44100), sr=44100, model="vocalnote-offline-s", live=True,
                             use_cache=False)
