"""Transcription metrics (mir_eval), per clip and pooled per condition.

Per clip, :func:`score_clip` counts matches; :func:`summarize` pools the counts of many
clips (micro average: every note weighs the same) into:

- ``f1_50``, ``f1_100``: note F1 with onsets within 50 / 100 ms and pitch within
  50 cents, offsets ignored (mir_eval "onset-only" transcription F-measure);
- ``f1_offset``: as ``f1_50`` and the offset within 20 % of the note length (>= 50 ms);
- ``onset_f1_50``: onset detection F1 at 50 ms, pitch ignored;
- ``pitch_accuracy``: of the notes matched by onset alone (100 ms), the share with the
  right pitch (octave errors count as wrong);
- ``lag_median_ms``, ``lag_p95_ms``: estimated minus true onset of notes matched by
  onset and pitch within 200 ms (positive = late);
- ``false_per_min``: notes reported per minute of negative (note-free) clips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import mir_eval
import numpy as np

from vocalmidi.notes import Note, notes_to_arrays

__all__ = ["ClipScore", "Summary", "score_clip", "summarize"]

PITCH_TOLERANCE_CENTS = 50.0
LAG_WINDOW = 0.2


@dataclass
class ClipScore:
    """Match counts of one clip."""

    n_ref: int
    n_est: int
    duration: float
    negative: bool
    hits_50: int = 0
    hits_100: int = 0
    hits_offset: int = 0
    onset_hits_50: int = 0
    onset_matched_100: int = 0
    pitch_correct_100: int = 0
    lags: list[float] = field(default_factory=list)


def _match(ref: Sequence[Note], est: Sequence[Note], onset_tol: float,
           offset_ratio: float | None, pitch: bool = True) -> list[tuple[int, int]]:
    ri, rp = notes_to_arrays(ref)
    ei, ep = notes_to_arrays(est)
    if not pitch:
        return mir_eval.transcription.match_note_onsets(ri, ei, onset_tolerance=onset_tol)
    return mir_eval.transcription.match_notes(
        ri, rp, ei, ep, onset_tolerance=onset_tol, pitch_tolerance=PITCH_TOLERANCE_CENTS,
        offset_ratio=offset_ratio, offset_min_tolerance=0.05)


def _clean(notes: Sequence[Note]) -> list[Note]:
    """mir_eval wants positive durations: give zero-length notes one millisecond."""
    return [n if n.end > n.start else Note(n.start, n.start + 1e-3, n.pitch, n.velocity)
            for n in notes]


def score_clip(ref: Sequence[Note], est: Sequence[Note], duration: float,
               negative: bool = False) -> ClipScore:
    """Count matches of an estimate against the ground truth of one clip.

    Parameters
    ----------
    ref, est : sequence of Note
        Ground truth and transcription.
    duration : float
        Clip length in seconds (for false notes per minute).
    negative : bool
        A clip that holds no notes.
    """
    ref, est = _clean(ref), _clean(est)
    s = ClipScore(len(ref), len(est), duration, negative)
    if not ref or not est:
        return s
    s.hits_50 = len(_match(ref, est, 0.05, None))
    s.hits_100 = len(_match(ref, est, 0.10, None))
    s.hits_offset = len(_match(ref, est, 0.05, 0.2))
    s.onset_hits_50 = len(_match(ref, est, 0.05, None, pitch=False))
    by_onset = _match(ref, est, 0.10, None, pitch=False)
    s.onset_matched_100 = len(by_onset)
    s.pitch_correct_100 = sum(
        abs(1200 * np.log2(est[j].pitch_hz / ref[i].pitch_hz)) <= PITCH_TOLERANCE_CENTS
        for i, j in by_onset)
    s.lags = [est[j].start - ref[i].start for i, j in _match(ref, est, LAG_WINDOW, None)]
    return s


def _f1(hits: int, n_ref: int, n_est: int) -> float:
    if n_ref == 0 and n_est == 0:
        return 1.0
    p = hits / n_est if n_est else 0.0
    r = hits / n_ref if n_ref else 0.0
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


@dataclass
class Summary:
    """Pooled metrics of a group of clips (see the module docstring)."""

    clips: int
    n_ref: int
    n_est: int
    f1_50: float | None
    f1_100: float | None
    f1_offset: float | None
    onset_f1_50: float | None
    precision_50: float | None
    recall_50: float | None
    pitch_accuracy: float | None
    lag_median_ms: float | None
    lag_p95_ms: float | None
    false_per_min: float | None
    lags_ms: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, float | int | None]:
        d = {k: v for k, v in self.__dict__.items() if k != "lags_ms"}
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def summarize(scores: Iterable[ClipScore]) -> Summary:
    """Pool clip scores: F1 over all notes of positive clips, false notes over negatives."""
    scores = list(scores)
    pos = [s for s in scores if not s.negative]
    neg = [s for s in scores if s.negative]
    n_ref = sum(s.n_ref for s in pos)
    n_est = sum(s.n_est for s in pos)

    def pooled(attr: str) -> float | None:
        return _f1(sum(getattr(s, attr) for s in pos), n_ref, n_est) if pos else None

    hits50 = sum(s.hits_50 for s in pos)
    matched = sum(s.onset_matched_100 for s in pos)
    lags = np.array([x for s in pos for x in s.lags], dtype=float) * 1000.0
    neg_minutes = sum(s.duration for s in neg) / 60.0
    return Summary(
        clips=len(scores),
        n_ref=n_ref,
        n_est=n_est + sum(s.n_est for s in neg),
        f1_50=pooled("hits_50"),
        f1_100=pooled("hits_100"),
        f1_offset=pooled("hits_offset"),
        onset_f1_50=pooled("onset_hits_50"),
        precision_50=(hits50 / n_est if n_est else 0.0) if pos else None,
        recall_50=(hits50 / n_ref if n_ref else 0.0) if pos else None,
        pitch_accuracy=float(sum(s.pitch_correct_100 for s in pos) / matched) if matched else None,
        lag_median_ms=float(np.median(lags)) if lags.size else None,
        lag_p95_ms=float(np.percentile(lags, 95)) if lags.size else None,
        false_per_min=(sum(s.n_est for s in neg) / neg_minutes) if neg_minutes > 0 else None,
        lags_ms=[float(x) for x in lags],
    )
