"""The grid-phase spread the bench prints beside the live sweep's recorded F1 rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocalmidi.eval.phase_spread import engine_params_from_plugin, grid_phase_spread

REPO = Path(__file__).resolve().parents[2]


def test_plugin_parameters_map_to_the_engines() -> None:
    got = engine_params_from_plugin({"Model": "vocalnote-s", "Latency Mode": "Accurate",
                                     "MIDI Timing": "Aligned", "Sensitivity": 0.7})
    assert got == {"latency_mode": "accurate", "aligned_timing": 1, "sensitivity": 0.7}
    with pytest.raises(KeyError):
        engine_params_from_plugin({"Monitor Mix": 0.5})  # the engine has no such parameter


def test_a_whole_hop_of_silence_is_the_same_phase(tmp_path: Path) -> None:
    # The grid repeats every hop (240 samples at 48 kHz): shifting the take by whole hops
    # records the same notes, so the spread measures the phase, not the shift.
    from vocalmidi.eval.render import render_demo_melody

    model = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
    audio, sr, truth = render_demo_melody(tmp_path / "demo.wav")
    spread = grid_phase_spread(audio, truth, sr, model, {"latency_mode": "accurate"},
                               shifts=(0, 240, 480))
    assert spread["shifts"] == [0, 240, 480]
    assert len(set(spread["f1_50"])) == 1
    assert 0.5 < spread["mean"] <= 1.0  # the demo take is sung, and found
    assert spread["params"] == {"latency_mode": "accurate"}
