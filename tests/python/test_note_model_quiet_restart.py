"""A long silence before singing does not change the notes: the note model's state
restarts after a quiet second, in the engine and in the Python stream alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocalmidi.dawtest import oracles
from vocalmidi.dawtest.signals import phrase
from vocalmidi.engine import Engine, EventType
from vocalmidi.train.contract import HOP, SAMPLE_RATE
from vocalmidi.train.export import QUIET_RESET_HOPS, quiet_restarts

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"


def test_restarts_fall_after_each_quiet_second() -> None:
    loud = np.full(HOP * 10, 0.1, np.float32)
    quiet = np.zeros(HOP * (2 * QUIET_RESET_HOPS + 50), np.float32)
    audio = np.concatenate([loud, quiet, loud, quiet[: HOP * (QUIET_RESET_HOPS - 1)], loud])
    # Two full quiet seconds in the first gap (hops 10..409), one hop short in the second.
    assert quiet_restarts(audio) == [10 + QUIET_RESET_HOPS - 1, 10 + 2 * QUIET_RESET_HOPS - 1]


def engine_notes(audio: np.ndarray, sr: int, block: int) -> tuple[list[int], list[int]]:
    """(every note-on's pitch, the pitches without corrected early guesses)."""
    with Engine(MODEL, "vocalnote") as eng:
        eng.prepare(sr, block)
        events = []
        for start in range(0, audio.size, block):
            events += eng.process(audio[start:start + block])
        events += eng.flush()
    midi = [(e.position, bytes([0x90 if e.type == EventType.NOTE_ON else 0x80, e.note,
                                e.velocity])) for e in events
            if e.type in (EventType.NOTE_ON, EventType.NOTE_OFF)]
    return ([e.note for e in events if e.type == EventType.NOTE_ON],
            [p for _, p in oracles.sung_notes(midi, sr)])


@pytest.mark.parametrize("lead_s", [10.0, 30.0])
def test_a_long_silence_before_the_phrase_keeps_its_notes(lead_s: float) -> None:
    """Before the restart (stage 10), 10 s of digital silence made dawtest's A3-C4-E4
    phrase [58, 57, 60, 64] instead of [57, 60, 64], and 30 s made it [57, 60, 65, 64].
    Now the note-ons with a lead-in are those without, and they settle on the sung notes
    (stage 12 guesses 58 for 15 ms and corrects it, with or without a lead-in)."""
    sr = 48000
    sung = phrase(sr).audio
    led = np.concatenate([np.zeros(int(lead_s * sr), np.float32), sung])
    alone = engine_notes(sung, sr, 256)
    assert engine_notes(led, sr, 256) == alone
    assert alone[1] == [57, 60, 64]
    # The same for any block size (the restart falls on the same hop).
    assert engine_notes(led, sr, 4096)[1] == [57, 60, 64]


def test_the_python_stream_restarts_where_the_engine_does() -> None:
    from vocalmidi.notemodel.run import NoteModelRunner

    sung = phrase(SAMPLE_RATE).audio
    led = np.concatenate([np.zeros(SAMPLE_RATE * 12, np.float32), sung])
    runner = NoteModelRunner(MODEL)
    alone, after = runner.analyse(sung, SAMPLE_RATE), runner.analyse(led, SAMPLE_RATE)
    lead = len(after) - len(alone)
    # After the restart the state has heard ~the same silence as the phrase alone: the
    # outputs over the phrase agree (not bit for bit: a few hundred ms more silence).
    np.testing.assert_allclose(after.sounding[lead:], alone.sounding, atol=0.05)
    assert np.array_equal(after.note[lead:][alone.sounding > 0.5],
                          alone.note[alone.sounding > 0.5])
