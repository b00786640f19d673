"""Metrics give known values on hand-made transcriptions."""

from __future__ import annotations

import pytest

from vocalmidi.eval.metrics import score_clip, summarize
from vocalmidi.notes import Note

REF = [Note(0.5 + 0.5 * i, 0.9 + 0.5 * i, 60 + (i % 5), 100) for i in range(10)]
DUR = 6.0


def summary(est: list[Note]):  # noqa: ANN201
    return summarize([score_clip(REF, est, DUR)])


def test_perfect_transcription_scores_one() -> None:
    s = summary(list(REF))
    assert s.f1_50 == s.f1_100 == s.f1_offset == s.onset_f1_50 == 1.0
    assert s.pitch_accuracy == 1.0
    assert s.lag_median_ms == pytest.approx(0.0, abs=1e-6)


def test_late_notes_fail_at_50ms_but_pass_at_100ms() -> None:
    s = summary([n.shifted(0.07) for n in REF])
    assert s.f1_50 == 0.0
    assert s.f1_100 == 1.0
    assert s.lag_median_ms == pytest.approx(70.0, abs=1e-6)
    assert s.lag_p95_ms == pytest.approx(70.0, abs=1e-6)


def test_octave_errors_count_as_wrong_pitch() -> None:
    s = summary([Note(n.start, n.end, n.pitch + 12) for n in REF])
    assert s.f1_50 == 0.0
    assert s.onset_f1_50 == 1.0  # the onsets themselves are right
    assert s.pitch_accuracy == 0.0


def test_missing_and_extra_notes() -> None:
    half = REF[::2]
    s = summary(half)
    assert s.precision_50 == 1.0
    assert s.recall_50 == 0.5
    assert s.f1_50 == pytest.approx(2 / 3)
    doubled = summary(list(REF) + [Note(n.start + 0.2, n.end, 40) for n in REF])
    assert doubled.recall_50 == 1.0 and doubled.precision_50 == 0.5


def test_offsets_only_matter_for_the_offset_score() -> None:
    s = summary([Note(n.start, n.start + 0.1, n.pitch) for n in REF])
    assert s.f1_50 == 1.0
    assert s.f1_offset == 0.0


def test_false_notes_per_minute_on_negative_clips() -> None:
    neg = score_clip([], [Note(1, 2, 60), Note(3, 4, 62), Note(5, 6, 64)], 30.0, negative=True)
    quiet = score_clip([], [], 30.0, negative=True)
    s = summarize([score_clip(REF, list(REF), DUR), neg, quiet])
    assert s.false_per_min == pytest.approx(3.0)  # 3 notes in one minute of negatives
    assert s.f1_50 == 1.0  # negatives do not dilute the positive clips' F1
    assert summarize([quiet]).false_per_min == 0.0


def test_empty_transcription_scores_zero() -> None:
    s = summary([])
    assert s.f1_50 == 0.0 and s.recall_50 == 0.0
    assert s.pitch_accuracy is None and s.lag_median_ms is None
