"""The note-model bound: no decoder of the model sends a note's right number sooner.

On a sung take, the bound (:mod:`vocalmidi.eval.note_bound`) must sit at or below the
reference decoder's emission for every note both find: otherwise it is no bound, and
the bench would blame the decoder for what the model does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from vocalmidi.errors import UsageError  # noqa: E402
from vocalmidi.eval.latency import EARLY_S  # noqa: E402
from vocalmidi.eval.note_bound import first_named, note_model_bound  # noqa: E402
from vocalmidi.notes import Note  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
LIVE = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s.onnx"
WHOLE = REPO / "models" / "trained" / "vocalnote-offline-s" / "vocalnote-offline-s.onnx"


def truth_of_sing() -> list[Note]:
    from test_transcribe import MELODY, onsets

    return [Note(t, t + dur, pitch, 100) for t, (pitch, dur) in zip(onsets(), MELODY, strict=True)]


def test_the_bound_is_never_later_than_the_reference_decoder() -> None:
    from test_transcribe import sing

    from vocalmidi.notemodel.run import resample_to_model
    from vocalmidi.train.decode import DecoderConfig, decode, events_to_notes, frame_levels_db
    from vocalmidi.train.export import OnnxNoteModel

    sr = 48000
    audio, truth = sing(sr), truth_of_sing()
    stats = note_model_bound(truth, audio, sr, LIVE)
    assert stats.n_truth == 4 and stats.matched == 4  # every note of the take is named
    assert all(0.0 < x < 100.0 for x in stats.latencies_ms)

    model = OnnxNoteModel(LIVE)
    heard = resample_to_model(audio, sr)
    out = model.run(heard)
    cfg = DecoderConfig.from_dict(json.loads(model.metadata["vocalmidi.decoder"]))
    notes, emitted = events_to_notes(decode(out.onset, out.sounding, out.note, out.note_conf,
                                            frame_levels_db(heard), cfg))
    bound = first_named(truth, out.note, out.sounding)
    checked = 0
    for true, earliest in zip(truth, bound, strict=True):
        sent = [t for n, t in zip(notes, emitted, strict=True)
                if n.pitch == true.pitch and n.start > true.start - EARLY_S
                and n.start < true.end]
        if sent:
            assert earliest is not None and earliest <= min(sent) + 1e-9, (true, earliest, sent)
            checked += 1
    assert checked >= 3


def test_a_note_never_named_has_no_latency() -> None:
    named = np.full(400, 60.0)
    stats = first_named([Note(0.5, 1.0, 60, 100), Note(1.2, 1.6, 67, 100)], named)
    assert stats[0] is not None and stats[1] is None


def test_the_whole_take_model_is_refused() -> None:
    with pytest.raises(UsageError, match="not a streaming note model"):
        note_model_bound(truth_of_sing(), np.zeros(16000, np.float32), 16000, WHOLE)


def test_a_note_named_only_in_silence_is_not_heard() -> None:
    """The note head names some note in silence too; only frames where the model hears a
    note sounding can start one, in any decoder the trainer tunes."""
    from vocalmidi.eval.note_bound import SOUNDING_FLOOR
    from vocalmidi.train.trainer import TUNE_GRID

    assert SOUNDING_FLOOR <= min(TUNE_GRID["sounding_on"])
    named = np.full(400, 60.0)
    sounding = np.zeros(400)
    sounding[110:200] = 0.9  # the note sounds from 0.55 s
    (at,) = first_named([Note(0.5, 1.0, 60, 100)], named, sounding)
    assert at is not None and at > 0.55
    assert first_named([Note(0.5, 1.0, 60, 100)], named, np.zeros(400)) == [None]
