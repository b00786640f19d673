"""The note model's eval systems: ``vocalnote`` (notes stamped at their onset frame) and
``vocalnote-live`` (the MIDI stream as a DAW records it, each note when it left)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")

from test_transcribe import MELODY, onsets, sing  # noqa: E402

from vocalmidi.eval.systems import get_system  # noqa: E402
from vocalmidi.train.contract import HOP, LOOKAHEAD_HOPS, SAMPLE_RATE  # noqa: E402

MODEL = Path(__file__).resolve().parents[2] / "models/trained/vocalnote-s/vocalnote-s.onnx"
SR = 44100


def test_the_live_stream_holds_each_sung_note_no_earlier_than_its_onset_frame() -> None:
    audio = sing(SR)
    stamped_sys = get_system("vocalnote", model=str(MODEL))
    live_sys = get_system("vocalnote-live", model=str(MODEL))
    stamped, live = stamped_sys.transcribe(audio, SR), live_sys.transcribe(audio, SR)
    # Every sung note is found by both, on its pitch.
    for (pitch, _), onset in zip(MELODY, onsets(), strict=True):
        assert any(n.pitch == pitch and abs(n.start - onset) < 0.1 for n in stamped), pitch
        assert any(n.pitch == pitch and 0 <= n.start - onset < 0.2 for n in live), pitch
    # A live note starts when it left: never before the note it stands for was sung, and
    # its emission time is its start plus the lookahead the host compensated.
    for n in live:
        twin = [s for s in stamped if s.pitch == n.pitch and s.start <= n.start + 1e-9]
        assert twin or n.end - n.start < 0.1, n  # a short wrong note a retrigger corrected
    lookahead = LOOKAHEAD_HOPS * HOP / SAMPLE_RATE
    assert live_sys.emissions == [(n.start + lookahead, n.pitch) for n in live]
