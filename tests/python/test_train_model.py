"""Train the tiny recipe on generated clips, export it, and check the export round-trips.

The tiny recipe (models/recipes/vocalnote-tiny.toml) trains in seconds on a CPU: it must
lower the loss, and its ONNX export must give the same numbers as torch (within 1e-4 on
real clips) and the same numbers streamed one hop per call as in one whole-clip call.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from vocalmidi.errors import ModelError, UsageError  # noqa: E402
from vocalmidi.train import contract  # noqa: E402
from vocalmidi.train.dataset import read_clips  # noqa: E402
from vocalmidi.train.export import (  # noqa: E402
    OUTPUTS,
    OnnxNoteModel,
    export_onnx,
    pad_for_frames,
    stream_frames,
)
from vocalmidi.train.model import StreamingNoteModel  # noqa: E402
from vocalmidi.train.trainer import Recipe, load_checkpoint, train  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "models" / "recipes" / "vocalnote-tiny.toml"
SHIPPED = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recipe, dict]:
    from vocalmidi.train.generate import generate

    root = tmp_path_factory.mktemp("notedata")
    generate(root / "train", hours=0.006, seed=3, split="train", progress=False)
    generate(root / "dev", hours=0.003, seed=3, split="dev", progress=False)
    recipe = Recipe.load(TINY)
    recipe.train_data, recipe.dev_data, recipe.out = [root / "train"], [root / "dev"], root / "run"
    return recipe, train(recipe, quiet=True)


@pytest.mark.slow
def test_tiny_recipe_lowers_the_loss_and_reports_user_metrics(tiny_run) -> None:
    recipe, summary = tiny_run
    losses = [h["train_loss"]["total"] for h in summary["history"]]
    assert len(losses) == recipe.train.epochs
    assert losses[-1] < 0.8 * losses[0]
    dev = summary["dev"]
    for key in ("f1_50", "emission_median_ms", "false_per_min", "recall_50"):
        assert key in dev
    assert any(k.startswith("voice=") for k in summary["dev_groups"])
    written = json.loads((recipe.out / "metrics.json").read_text())
    assert written["best_epoch"] == summary["best_epoch"]
    assert (recipe.out / "curves.png").stat().st_size > 1000
    meta = OnnxNoteModel(recipe.out / "best.onnx").metadata
    assert json.loads(meta["vocalmidi.decoder"]) == summary["decoder"]
    # The last epoch's file decodes with the thresholds its history line was scored with.
    from vocalmidi.train.decode import DecoderConfig
    last = OnnxNoteModel(recipe.out / "last.onnx").metadata
    judged_by = DecoderConfig.from_dict(recipe.decoder).as_dict()
    assert json.loads(last["vocalmidi.decoder"]) == judged_by


@pytest.mark.slow
def test_resume_continues_after_the_last_epoch(tiny_run) -> None:
    recipe, summary = tiny_run
    recipe.train.epochs += 1
    try:
        again = train(recipe, resume=True, quiet=True)
    finally:
        recipe.train.epochs -= 1
    assert [h["epoch"] for h in again["history"]] == [*range(1, recipe.train.epochs + 2)]
    assert again["history"][:-1] == summary["history"]


@pytest.mark.slow
def test_ship_last_epoch_ships_the_last_epoch_with_its_own_dev_figures(
        tiny_run, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `python -m vocalmidi.train.ship --epoch last`: when the dev split cannot see what
    # decides (a voice it lacks), the run's last epoch ships, described as that epoch.
    from vocalmidi.train.export import FEATURES_CONTRACT_ID
    from vocalmidi.train.from_onnx import net_from_onnx
    from vocalmidi.train.ship import ship

    recipe, _ = tiny_run
    text = TINY.read_text()
    for old, new in ((r'"build/train-data/tiny-train"', json.dumps(str(recipe.train_data[0]))),
                     (r'"build/train-data/tiny-dev"', json.dumps(str(recipe.dev_data[0]))),
                     (r'"build/train-runs/vocalnote-tiny"', json.dumps(str(recipe.out)))):
        text = text.replace(old, new)
    (tmp_path / "tiny.toml").write_text(text)
    m = ship(tmp_path / "tiny.toml", tmp_path / "shipped", "tiny", allow_int8=False,
             epoch="last")
    last = json.loads((recipe.out / "metrics.json").read_text())["history"][-1]
    assert (m["best_epoch"], m["shipped_epoch"], m["dev"]) == (last["epoch"], "last",
                                                                last["dev"])

    # The shipped file is the features-in graph of the last epoch's network.
    shipped = tmp_path / "shipped" / "tiny.onnx"
    # ... and beside it the one-frame int8 graph the engine runs, made from it.
    engine = tmp_path / "shipped" / "tiny-int8.onnx"
    assert m["engine_file"]["file"] == engine.name and OnnxNoteModel(engine).one_frame
    assert OnnxNoteModel(engine).metadata["vocalmidi.decoder"] == \
        OnnxNoteModel(shipped).metadata["vocalmidi.decoder"]
    a, b = net_from_onnx(shipped).state_dict(), net_from_onnx(recipe.out / "last.onnx").state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    meta = OnnxNoteModel(shipped).metadata
    assert meta["vocalmidi.contract"] == FEATURES_CONTRACT_ID
    assert json.loads(meta["vocalmidi.dev_metrics"]) == last["dev"]
    assert json.loads(meta["vocalmidi.decoder"]) == m["decoder"]
    # A streaming model over the size limit is refused, with the way out.
    monkeypatch.setattr(contract, "MAX_FILE_BYTES", shipped.stat().st_size - 1)
    with pytest.raises(UsageError, match="half_weights = true"):
        ship(tmp_path / "tiny.toml", tmp_path / "again", "tiny", allow_int8=False)


def torch_frames(streaming: StreamingNoteModel, onnx_model: OnnxNoteModel,
                 audio: np.ndarray) -> dict[str, np.ndarray]:
    """Torch's streaming outputs over ``audio`` as label frames, from the state the ONNX
    model's streams start from (silence: export.REST_HOPS)."""
    padded, frames = pad_for_frames(audio)
    start = onnx_model.initial_state()
    with torch.no_grad():
        ref = streaming(torch.from_numpy(padded)[None],
                        torch.from_numpy(start[contract.INPUT_CONTEXT]),
                        torch.from_numpy(start[contract.INPUT_HIDDEN]))
    return {name: stream_frames(name, ref[i][0].numpy(), frames)
            for i, name in enumerate(OUTPUTS)}


@pytest.mark.slow
def assert_onnx_streams_like_torch(net, path: Path, takes: list[np.ndarray]) -> None:
    """The ONNX file gives torch's streaming outputs on each take, whole, hop by hop and
    with a backlog of 13 hops per call."""
    onnx_model = OnnxNoteModel(path)
    streaming = StreamingNoteModel(net).eval()
    for audio in takes:
        whole = onnx_model.run(audio)
        hop_by_hop = onnx_model.run(audio, hops_per_call=1)
        backlog = onnx_model.run(audio, hops_per_call=13)
        ref = torch_frames(streaming, onnx_model, audio)
        for name in OUTPUTS:
            t = ref[name]
            w = getattr(whole, name)
            assert len(w) == len(t) == pad_for_frames(audio)[1]
            if name == "note":  # argmax: equal where the top two classes are not tied
                assert np.mean(w == t) > 0.999
                continue
            np.testing.assert_allclose(w, t, atol=1e-4, err_msg=name)
            np.testing.assert_allclose(getattr(hop_by_hop, name), w, atol=1e-4, err_msg=name)
            np.testing.assert_allclose(getattr(backlog, name), w, atol=1e-4, err_msg=name)


def test_export_matches_torch_and_streams_like_a_whole_clip(tiny_run, tmp_path) -> None:
    recipe, _ = tiny_run
    net, _meta = load_checkpoint(recipe.out / "best.pt")
    path = export_onnx(net, tmp_path / "m.onnx")
    onnx_model = OnnxNoteModel(path)
    assert onnx_model.metadata["vocalmidi.contract"] == "note-model/1"
    assert int(onnx_model.metadata["vocalmidi.hop"]) == contract.HOP
    assert path.stat().st_size <= contract.MAX_FILE_BYTES
    clips = [c for c in read_clips(recipe.dev_data[0]) if not c.negative][:2]
    assert clips
    assert all(c.frames == pad_for_frames(c.audio)[1] for c in clips)
    assert_onnx_streams_like_torch(net, path, [c.audio for c in clips])


def test_untrained_export_has_the_contract_tensors(tmp_path) -> None:
    from vocalmidi.train.model import build_model

    model = OnnxNoteModel(export_onnx(build_model(), tmp_path / "u.onnx"))
    ins = {i.name: i.shape for i in model.session.get_inputs()}
    outs = [o.name for o in model.session.get_outputs()]
    assert ins[contract.INPUT_CONTEXT] == [1, contract.CONTEXT]
    assert ins[contract.INPUT_HIDDEN] == [2, 1, 128]
    assert outs == [*OUTPUTS, contract.OUTPUT_CONTEXT, contract.OUTPUT_HIDDEN]
    out, state = model.step(np.zeros(5 * contract.HOP, np.float32), model.initial_state())
    assert all(v.shape == (5,) for v in out.values())
    assert state[contract.INPUT_CONTEXT].shape == (1, contract.CONTEXT)
    assert np.all((out["note"] >= contract.NOTE_MIN) & (out["note"] <= contract.NOTE_MAX))


def test_a_file_that_is_not_a_note_model_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot load note model"):
        OnnxNoteModel(bad)


def test_a_recipe_without_data_is_a_clear_error(tmp_path) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text("[model]\nhidden = 8\n")
    with pytest.raises(UsageError, match="needs \\[data\\]"):
        Recipe.load(recipe)


def test_the_shipped_model_reads_back_and_writes_again_with_its_outputs(tmp_path) -> None:
    """A fresh clone has the shipped model as ONNX only: its weights read back into a
    network (a fine-tune can start there) and written again with this version's graph
    (``python -m vocalmidi.train.export --onnx``) give the same outputs streamed hop by
    hop, and the tuned decoder settings stay in the file."""
    from test_transcribe import sing

    from vocalmidi.train.export import reexport_onnx

    # The shipped file's own contract (note-features/1); tests/python/test_front_end_np.py
    # holds it to the graph with the front end inside.
    again = OnnxNoteModel(reexport_onnx(SHIPPED, tmp_path / "again.onnx", features_in=True))
    shipped = OnnxNoteModel(SHIPPED)
    assert again.metadata["vocalmidi.decoder"] == shipped.metadata["vocalmidi.decoder"]
    audio = sing(contract.SAMPLE_RATE).astype(np.float32)
    want, got = shipped.run(audio), again.run(audio, hops_per_call=1)
    assert np.mean(want.sounding > 0.5) > 0.3  # the clip is sung, the model hears it
    assert np.array_equal(got.note[want.note_conf > 0.6], want.note[want.note_conf > 0.6])
    for name in ("onset", "sounding", "note_conf", "pitch"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=1e-4,
                                   err_msg=name)


def test_a_foreign_onnx_file_cannot_seed_a_fine_tune(tmp_path) -> None:
    import onnx

    from vocalmidi.train.from_onnx import net_from_onnx

    proto = onnx.load(str(SHIPPED))
    del proto.metadata_props[:]  # the same graph without our metadata: not ours to read
    foreign = tmp_path / "x.onnx"
    onnx.save(proto, str(foreign))
    with pytest.raises(UsageError, match="not an exported note model"):
        net_from_onnx(foreign)


def test_the_front_end_is_the_power_spectra_and_level_of_each_window() -> None:
    """Each feature is what its docstring says, against numpy's rfft: log10 power of the
    64, 16 and 32 ms Hann windows and the short window's mean square, all ending at the
    frame's right edge (the stacked two-stage DFT must not reorder or mix bins)."""
    from vocalmidi.train.features import (
        FEATURES,
        LONG_BINS,
        MID_BINS,
        POWER_FLOOR,
        SHORT_BINS,
        FrontEnd,
    )

    rng = np.random.default_rng(5)
    hops = 3
    buf = rng.standard_normal(contract.CONTEXT + hops * contract.HOP).astype(np.float32)
    buf *= np.linspace(0.01, 1.0, buf.size, dtype=np.float32)  # frames differ in level
    feats = FrontEnd(contract.MID_WINDOW)(torch.from_numpy(buf)[None])[0].numpy()
    assert feats.shape == (hops, FEATURES + MID_BINS[1] - MID_BINS[0])

    def log_power(end: int, size: int, bins: tuple[int, int]) -> np.ndarray:
        x = buf[end - size:end] * np.hanning(size + 1)[:-1]  # periodic Hann
        return np.log10(np.abs(np.fft.rfft(x)) ** 2 + POWER_FLOOR)[bins[0]:bins[1]]

    n_long = LONG_BINS[1] - LONG_BINS[0]
    n_short = SHORT_BINS[1] - SHORT_BINS[0]
    for j in range(hops):
        end = contract.CONTEXT + (j + 1) * contract.HOP  # frame j's windows end here
        tail = buf[end - contract.SHORT_WINDOW:end]
        want = np.concatenate([
            log_power(end, contract.WINDOW, LONG_BINS),
            log_power(end, contract.SHORT_WINDOW, SHORT_BINS),
            [np.log10(np.mean(tail * tail) + POWER_FLOOR)],
            log_power(end, contract.MID_WINDOW, MID_BINS)])
        np.testing.assert_allclose(feats[j], want, atol=1e-3, err_msg=f"frame {j}")
        assert n_long + n_short + 1 == FEATURES


def assert_same_outputs(warm, grown, tmp_path):
    """A grown model's ONNX gives the trained one's outputs on a sung clip; its path."""
    from test_transcribe import sing

    narrow = export_onnx(warm.eval(), tmp_path / "narrow.onnx")
    path = export_onnx(grown.eval(), tmp_path / "grown.onnx")
    audio = sing(contract.SAMPLE_RATE).astype(np.float32)
    want, got = OnnxNoteModel(narrow).run(audio), OnnxNoteModel(path).run(audio)
    for name in ("onset", "sounding", "note_conf", "pitch"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=1e-4,
                                   err_msg=name)
    return path


@pytest.mark.parametrize("warm_front,grown_front", [
    ({}, {"mid_window": contract.MID_WINDOW}),
    ({"mid_window": contract.MID_WINDOW},
     {"mid_window": contract.MID_WINDOW, "lag_window": contract.LAG_WINDOW}),
    ({"mid_window": contract.MID_WINDOW, "lag_window": contract.LAG_WINDOW},
     {"mid_window": contract.MID_WINDOW, "lag_window": contract.LAG_WINDOW, "lag_peak": True}),
])
def test_adding_front_end_blocks_starts_from_the_trained_model(tmp_path, warm_front,
                                                               grown_front) -> None:
    """A model given the middle window or the lag correlations gives the narrower model's
    outputs until it is trained (the added weights start at zero), and reads back from its
    ONNX. Growing from a model whose front end is not a prefix is refused."""
    from vocalmidi.train.from_onnx import net_from_onnx
    from vocalmidi.train.model import ModelConfig, NoteNet, build_model

    warm = build_model(ModelConfig(mlp=[48], hidden=24, layers=1, **warm_front), seed=3)
    n = warm.config.features
    warm.set_normalisation(torch.full((n,), -3.0), torch.full((n,), 2.0))
    config = ModelConfig(**{**warm.config.as_dict(), **grown_front})
    wide = NoteNet(config)
    wide.load_narrower(warm, torch.zeros(config.features), torch.ones(config.features))
    path = assert_same_outputs(warm, wide, tmp_path)
    assert net_from_onnx(path).config == config
    with pytest.raises(ValueError, match="lacks some of its last blocks"):
        NoteNet(config).load_narrower(wide, torch.zeros(config.features),
                                      torch.ones(config.features))
    with pytest.raises(ValueError, match="lacks some of its last blocks"):  # lag without mid
        NoteNet(ModelConfig(mlp=[48], hidden=24, layers=1, mid_window=contract.MID_WINDOW)
                ).load_narrower(build_model(ModelConfig(mlp=[48], hidden=24, layers=1,
                                                        lag_window=contract.LAG_WINDOW)),
                                torch.zeros(1), torch.ones(1))
    with pytest.raises(ValueError, match="mid_window must be 0 or 512"):
        ModelConfig(mid_window=300)
    with pytest.raises(ValueError, match="lag_window must be 0 or 160"):
        ModelConfig(lag_window=100)


def test_the_lag_correlations_are_the_band_limited_cross_correlation() -> None:
    """Each lag feature is, against numpy's FFT, the correlation of the frame's last 10 ms
    with the stretch one period earlier (band-limited to LAG_BINS, fractional periods by
    the DFT's own interpolation), over the root of both stretches' energies (the earlier
    one floored at a share of the recent one), clipped."""
    from vocalmidi.train.features import (
        FEATURES,
        LAG_BINS,
        LAG_CLIP,
        LAG_COUNT,
        LAG_FFT,
        LAG_FLOOR,
        LAG_SPAN,
        POWER_FLOOR,
        FrontEnd,
        lag_periods,
    )

    rng = np.random.default_rng(7)
    hops = 3
    buf = rng.standard_normal(contract.CONTEXT + hops * contract.HOP).astype(np.float32)
    feats = FrontEnd(lag_window=contract.LAG_WINDOW)(torch.from_numpy(buf)[None])[0].numpy()
    assert feats.shape == (hops, FEATURES + LAG_COUNT)
    periods = lag_periods().numpy()
    k = np.arange(*LAG_BINS)
    start = LAG_SPAN - contract.LAG_WINDOW
    for j in range(hops):
        end = contract.CONTEXT + (j + 1) * contract.HOP
        span = buf[end - LAG_SPAN:end].astype(np.float64)
        recent = np.where(np.arange(LAG_SPAN) >= start, span, 0.0)
        cross = (np.fft.rfft(recent, LAG_FFT) * np.conj(np.fft.rfft(span, LAG_FFT)))[k]
        corr = 2.0 / LAG_FFT * np.real(cross[:, None]
                                       * np.exp(2j * np.pi * np.outer(k, periods) / LAG_FFT)
                                       ).sum(0)
        first = np.round(start - periods).astype(int)
        before = np.array([np.sum(span[f:f + contract.LAG_WINDOW] ** 2) for f in first])
        e_recent = np.sum(recent ** 2)
        want = np.clip(corr / np.sqrt(e_recent * (before + LAG_FLOOR * e_recent) + POWER_FLOOR),
                       -LAG_CLIP, LAG_CLIP)
        np.testing.assert_allclose(feats[j, FEATURES:], want, atol=2e-3, err_msg=f"frame {j}")


def test_the_lag_correlations_name_a_new_note_within_10_ms_and_a_period() -> None:
    """At a legato change A2 -> B2 on a harmonic tone, the correlation at B2's period
    passes A2's 10 ms plus one B2 period after the change, while the 32 ms middle window's
    spectrum still holds mostly A2 (why the block exists)."""
    from vocalmidi.train.features import FEATURES, LAG_COUNT, FrontEnd, lag_periods

    sr = contract.SAMPLE_RATE
    t = np.arange(sr // 2) / sr
    change = sr // 4

    def tone(f0: float) -> np.ndarray:
        return sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 8))

    a2, b2 = 110.0, 110.0 * 2 ** (2 / 12)
    audio = np.where(np.arange(t.size) < change, tone(a2), tone(b2)).astype(np.float32) * 0.1
    buf = np.concatenate([np.zeros(contract.CONTEXT, np.float32), audio])
    feats = FrontEnd(lag_window=contract.LAG_WINDOW)(torch.from_numpy(buf)[None])[0].numpy()
    assert feats.shape[1] == FEATURES + LAG_COUNT
    notes = np.linspace(36, 86, LAG_COUNT)
    col_a, col_b = int(np.argmin(abs(notes - 45))), int(np.argmin(abs(notes - 47)))
    # output j's audio ends at sample (j + 1) * HOP of the take
    ready = change + contract.LAG_WINDOW + int(np.ceil(sr / b2))
    j = -(-ready // contract.HOP) - 1
    lags = feats[:, FEATURES:]
    assert lags[j - 8, col_a] > 0.9 > lags[j - 8, col_b]  # before the change: A2
    assert lags[j, col_b] > 0.9 and lags[j, col_b] > lags[j, col_a] + 0.3
    assert abs(lag_periods()[col_b].item() - sr / b2) < 1e-6


@pytest.mark.parametrize("midi", [40.0, 45.25, 57.4, 64.7, 76.1])
def test_the_lag_peak_reads_a_held_tone_distance_from_the_semitone_grid(midi) -> None:
    """On a harmonic tone, the peak block's angle is the pitch's distance from the nearest
    semitone (from 10 ms plus a period after the tone starts: median within 3 cents,
    95 % of frames within 10, every one within 15), its height ~1, whichever period
    (octave) the peak sits at; silence reads 0."""
    from vocalmidi.train.features import PEAK_COUNT, FrontEnd

    sr = contract.SAMPLE_RATE
    t = np.arange(sr // 4) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    tone = 0.1 * sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 8))
    buf = np.concatenate([np.zeros(contract.CONTEXT + sr // 10), tone]).astype(np.float32)
    front = FrontEnd(contract.MID_WINDOW, contract.LAG_WINDOW, lag_peak=True)
    peak = front(torch.from_numpy(buf)[None])[0].numpy()[:, -PEAK_COUNT:]
    assert front.features == peak.shape[1] + FrontEnd(contract.MID_WINDOW,
                                                        contract.LAG_WINDOW).features
    start = sr // 10 // contract.HOP  # the tone's first output frame
    np.testing.assert_array_equal(peak[:start - 1], 0.0)
    ready = start + 1 + -(-(contract.LAG_WINDOW + int(sr / f0)) // contract.HOP)
    held = peak[ready:]
    assert np.all(held[:, 2] > 0.75)
    angle = np.angle(held[:, 0] + 1j * held[:, 1]) / (2 * np.pi)  # semitones from the grid
    off = (angle - (midi - round(midi)) + 0.5) % 1.0 - 0.5
    assert np.median(np.abs(off)) < 0.03
    assert np.percentile(np.abs(off), 95) < 0.10 and np.max(np.abs(off)) < 0.15


def test_a_model_with_the_lag_peak_exports_and_streams_like_torch(tmp_path) -> None:
    """With weights on every front-end block (the peak's argmax and gather included),
    the ONNX file gives torch's outputs whole, hop by hop and from a backlog."""
    from test_transcribe import sing

    from vocalmidi.train.model import ModelConfig, build_model

    config = ModelConfig(mlp=[48], hidden=24, layers=1, mid_window=contract.MID_WINDOW,
                         lag_window=contract.LAG_WINDOW, lag_peak=True)
    net = build_model(config, seed=5).eval()
    with torch.no_grad():  # the peak's three columns matter as much as the others
        net.mlp[0].weight[:, -3:] *= 20.0
    path = export_onnx(net, tmp_path / "peak.onnx")
    assert_onnx_streams_like_torch(net, path, [sing(contract.SAMPLE_RATE).astype(np.float32)])


def test_a_model_given_more_gru_units_starts_from_the_trained_model(tmp_path) -> None:
    """Widening the GRU keeps the trained model's outputs until training (the added units
    are read with zeros), yet the added units learn: one step moves the head's zero
    columns. Growing from a model that is not narrower is refused."""
    from vocalmidi.train.features import FEATURES
    from vocalmidi.train.model import ModelConfig, NoteNet, build_model

    warm = build_model(ModelConfig(mlp=[48], hidden=24, layers=2), seed=3)
    warm.set_normalisation(torch.full((FEATURES,), -3.0), torch.full((FEATURES,), 2.0))
    wide = NoteNet(ModelConfig(mlp=[48], hidden=32, layers=2))
    wide.load_wider(warm)
    assert_same_outputs(warm, wide, tmp_path)
    feats = torch.randn(1, 20, FEATURES)
    raw, _ = wide.train()(feats, wide.initial_state())
    raw.square().mean().backward()
    assert wide.head.weight.grad[:, 24:].abs().sum() > 0  # the added units have a say
    with pytest.raises(ValueError, match="fewer than 24 hidden units"):
        NoteNet(ModelConfig(mlp=[48], hidden=24, layers=2)).load_wider(wide)


def test_half_weights_halve_the_file_and_match_the_rounded_network(tmp_path) -> None:
    """``[model] half_weights``: the file stores the weights as float16, torch with the
    same rounding gives the file's outputs (within 1e-4), a fine-tune reads the weights
    back exactly, and a float32 model grows into a wider float16 one."""
    from test_transcribe import sing

    from vocalmidi.train.export import half_rounded
    from vocalmidi.train.features import FEATURES
    from vocalmidi.train.from_onnx import net_from_onnx
    from vocalmidi.train.model import ModelConfig, NoteNet, build_model

    warm = build_model(ModelConfig(mlp=[96], hidden=48, layers=2), seed=5)
    warm.set_normalisation(torch.full((FEATURES,), -3.0), torch.full((FEATURES,), 2.0))
    net = NoteNet(ModelConfig(mlp=[96], hidden=64, layers=2, half_weights=True))
    net.load_wider(warm)
    full = export_onnx(NoteNet(ModelConfig(mlp=[96], hidden=64, layers=2)), tmp_path / "f.onnx")
    half = export_onnx(net, tmp_path / "h.onnx")
    assert half.stat().st_size < 0.7 * full.stat().st_size
    rounded = half_rounded(net).eval()
    back = net_from_onnx(half)
    assert back.config.half_weights
    assert all(torch.equal(back.state_dict()[k], v) for k, v in rounded.state_dict().items())
    audio = sing(contract.SAMPLE_RATE).astype(np.float32)
    onnx_model = OnnxNoteModel(half)
    got = onnx_model.run(audio, hops_per_call=1)
    ref = torch_frames(StreamingNoteModel(rounded), onnx_model, audio)
    for name in OUTPUTS:
        if name != "note":
            np.testing.assert_allclose(getattr(got, name), ref[name], atol=1e-4, err_msg=name)


def test_the_first_frames_of_a_legato_note_weigh_more_in_the_note_loss() -> None:
    """Early-note weights: the first frames after every onset get early_note_weight; those
    of a note that starts while the previous one sounds get legato_note_weight times more;
    the rest 1."""
    from vocalmidi.train.trainer import TrainConfig, _early_weights

    onset = torch.zeros(1, 12)
    sounding = torch.zeros(1, 12)
    onset[0, [1, 5, 9]] = 1  # fresh start at 1, legato change at 5, fresh again at 9
    sounding[0, 1:8] = 1
    sounding[0, 9:] = 1
    cfg = TrainConfig(early_note_weight=3.0, early_note_frames=2, legato_note_weight=4.0)
    got = _early_weights(onset, sounding, cfg)[0].tolist()
    assert got == [1, 3, 3, 1, 1, 12, 12, 1, 1, 3, 3, 1]


def test_negative_boost_draws_the_note_free_clips_that_much_more_often() -> None:
    # One negative clip among four of the same length: a quarter of the crops, half with
    # negative_boost 3 (3 / (3 + 3)); the crops of a negative hold no sounding frame.
    from vocalmidi.train.dataset import Clip
    from vocalmidi.train.trainer import CropSampler

    frames = 400

    def clip(name: str, sounding: bool) -> Clip:
        labels = {k: np.zeros(frames, np.float32) for k in contract.LABEL_KEYS}
        labels["note"][:] = 60 if sounding else -1
        labels["sounding"][:] = 1 if sounding else 0
        return Clip(name, np.zeros(frames * contract.HOP, np.float32), labels,
                    features=np.zeros((frames, 4), np.float32))

    clips = [clip("speech", False), *(clip(f"sung{i}", True) for i in range(3))]
    for boost, share in ((1.0, 0.25), (3.0, 0.5)):
        sampler = CropSampler(clips, np.random.default_rng(0), negative_boost=boost)
        batch = sampler.batch(4000, 100)
        drawn = float(np.mean(~batch["sounding"].any(axis=1)))
        assert drawn == pytest.approx(share, abs=0.03)


@pytest.mark.parametrize("path", sorted((REPO / "models" / "recipes").glob("vocalnote*.toml")),
                         ids=lambda p: p.stem)
def test_every_committed_recipe_loads_as_its_commands_say(path: Path) -> None:
    # The data cards and docs tell users to run these files: each must load, name its run
    # after its file, and hold a model and decoder the trainer accepts.
    from vocalmidi.notemodel.offline import OfflineConfig
    from vocalmidi.train.decode import DecoderConfig
    from vocalmidi.train.model import ModelConfig

    recipe = Recipe.load(path)
    assert recipe.name == path.stem
    assert recipe.train_data and recipe.dev_data
    model = ModelConfig.from_dict(recipe.model)
    (DecoderConfig if model.causal else OfflineConfig).from_dict(recipe.decoder)
    assert f"--config models/recipes/{path.name}" in recipe.text or path.stem == "vocalnote-tiny"


def test_a_soup_of_the_shipped_model_with_itself_is_the_shipped_model(tmp_path) -> None:
    """``python -m vocalmidi.train.soup`` (how stages 25 and 26 became the shipped file):
    averaging a model with itself changes nothing a user hears, keeps the decoder
    settings of every latency mode, and drops dev figures that no longer hold."""
    from test_transcribe import sing

    from vocalmidi.train.soup import main

    out = tmp_path / "soup.onnx"
    assert main([str(SHIPPED), str(SHIPPED), "-o", str(out), "--weight", "0.3"]) == 0
    shipped, mixed = OnnxNoteModel(SHIPPED), OnnxNoteModel(out)
    for key in ("vocalmidi.decoder", "vocalmidi.decoder.accurate"):
        assert mixed.metadata[key] == shipped.metadata[key]
    assert "vocalmidi.dev_metrics" in shipped.metadata
    assert "vocalmidi.dev_metrics" not in mixed.metadata
    audio = sing(contract.SAMPLE_RATE).astype(np.float32)
    want, got = shipped.run(audio), mixed.run(audio)
    assert np.array_equal(got.note, want.note)
    np.testing.assert_allclose(got.onset, want.onset, atol=1e-3)


@pytest.mark.parametrize("weight", ["1.5", "-0.1"])
def test_a_soup_weight_outside_0_to_1_is_refused(tmp_path, weight: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from vocalmidi.train.soup import main

    with pytest.raises(SystemExit) as exc:
        main([str(SHIPPED), str(SHIPPED), "-o", str(tmp_path / "x.onnx"), "--weight", weight])
    assert exc.value.code == 2
    assert "--weight must be within 0..1" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.slow
def test_a_soup_of_two_different_networks_is_refused(tiny_run, tmp_path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    recipe, _ = tiny_run
    from vocalmidi.train.soup import main

    with pytest.raises(SystemExit):
        main([str(SHIPPED), str(recipe.out / "best.onnx"), "-o", str(tmp_path / "x.onnx")])
    assert "are different networks" in capsys.readouterr().err


@pytest.mark.slow
def test_a_recipe_with_a_teacher_trains_a_pruned_student(tiny_run, tmp_path) -> None:
    # `[train] teacher` + `teacher_init` (train/distill.py): a 24-unit student of the
    # shipped model, started from its most useful units, trains on the tiny data and
    # exports; a teacher whose front end differs from the recipe's model is refused.
    from dataclasses import replace

    from vocalmidi.train.from_onnx import net_from_onnx

    recipe, _ = tiny_run
    shipped = net_from_onnx(SHIPPED).config
    student = Recipe(name="student", train_data=recipe.train_data, dev_data=recipe.dev_data,
                     out=tmp_path / "student", model={**shipped.as_dict(), "hidden": 24},
                     train=replace(recipe.train, epochs=1, steps_per_epoch=3,
                                   teacher=str(SHIPPED), teacher_init=True),
                     decoder=recipe.decoder)
    summary = train(student, quiet=True)
    assert {"d_onset", "d_sounding", "d_note", "d_cents"} <= set(
        summary["history"][0]["train_loss"])
    net, _ = load_checkpoint(student.out / "best.pt")
    assert net.config.hidden == 24 and net.config.mlp == shipped.mlp
    bad = replace(student, model=recipe.model, out=tmp_path / "bad")
    with pytest.raises(UsageError, match="teacher .* reads 613 features"):
        train(bad, quiet=True)
