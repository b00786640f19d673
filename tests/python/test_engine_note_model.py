"""The Python binding with our note model: kind ``vocalnote``, Instant latency, the
early-correction parameter, and a clear error for a file of another kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_transcribe import sing

from vocalmidi.engine import Engine, EventType, LatencyMode
from vocalmidi.errors import ModelError, UsageError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def note_model() -> Path:
    found = sorted((REPO / "models" / "trained" / "vocalnote-s").glob("*.onnx"))
    if not found:
        pytest.skip("the trained note model is not in models/trained/vocalnote-s")
    return found[0]


def test_note_model_reports_its_lookahead_plus_the_modes_budget(note_model: Path) -> None:
    with Engine(note_model, "vocalnote") as eng:
        eng.prepare(48000, 128, realtime=False)
        # Instant: 7.5 ms of lookahead from the stamped onset plus the resampler, under 9 ms;
        # Fast and Accurate add their decision budget (15 / 40 ms).
        for mode, budget in (("fast", 15), ("accurate", 40), ("instant", 0)):
            eng.set_param("latency_mode", mode)
            assert 7.5 + budget <= eng.latency_samples / 48 < 9.0 + budget
            assert eng.stats()["latency"]["mode"] == mode
        assert eng.get_param("latency_mode") == LatencyMode.INSTANT


def test_note_model_sings_notes_and_takes_the_correction_choice(note_model: Path) -> None:
    audio = sing(48000)
    with Engine(note_model, "vocalnote") as eng:
        eng.set_param("early_correction", "bend")
        assert eng.get_param("early_correction") == 1
        with pytest.raises(UsageError, match="early_correction"):
            eng.set_param("early_correction", "wobble")
        eng.prepare(48000, 512, realtime=False)
        events = eng.process(audio) + eng.flush()
    ons = [e for e in events if e.type == EventType.NOTE_ON]
    assert len(ons) >= 3
    assert {57, 60, 64, 62} & {e.note for e in ons}


def test_pitch_model_file_is_not_a_note_model(model_cache: Path) -> None:
    from vocalmidi.models import get_model_path

    with Engine() as eng, pytest.raises(ModelError, match="note-model/1"):
        eng.load_model(get_model_path("swiftf0"), "vocalnote")
