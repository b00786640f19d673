"""How soon any tracker deciding from SwiftF0's pitch could emit a note: a lower bound.

A note tracker built on a pitch model cannot emit a note before the model shows that
note's pitch. :func:`emission_bound` finds, for each true note, the first SwiftF0 frame
that shows it and the least audio that frame needs, and reports the result as
:class:`~vocalmidi.eval.latency.EmissionStats`, so it sits beside measured emission
latencies (``vocalmidi bench`` shows it as "pitch-model bound (swiftf0)").

What it bounds
--------------
For each true note: the first frame, from ``SEARCH_EARLY_S`` before its onset to its
end, whose pitch is within ``PITCH_TOLERANCE_ST`` semitones of the note and whose
confidence is at least ``CONFIDENCE`` (SwiftF0's own voicing threshold). The bound is
that frame's timestamp minus the onset plus ``AHEAD_S``: SwiftF0 gives a frame its
pitch only once the audio reaches two hops past its timestamp (its own 16 ms hop and one
more; with its own hop alone the confidence stays near 0, checked on the evaluation
set). That is also the least lookahead our engine uses (Fast mode: one frame ahead,
``SwiftF0Model::lookaheadSamples``); Accurate mode waits for 10 frames (176 ms).

Why it is optimistic (a true lower bound)
-----------------------------------------
- The frames come from a whole-file analysis, i.e. each frame saw 10 frames (160 ms)
  of audio after it; with the one frame the bound allows, 13 % of frames are voiced
  differently (measured for the engine's Fast mode, ``SwiftF0Model.h``), so a live
  tracker sees some notes later still.
- The first frame of the right pitch counts, however briefly it holds it: a tracker
  that waits for the pitch to settle (as any must, against scoops and vibrato) is later.
- No block size, no compute time, no note-on confirmation.
- A repeated note of the same pitch can show "its" pitch already in the previous note,
  which gives a bound near 0 ms for it; it stays a lower bound.

Notes whose pitch never shows within their span are not found (they count in
``n_truth`` but have no latency), as a note-on that never comes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.eval.latency import EmissionStats
from vocalmidi.notes import Note

__all__ = ["AHEAD_S", "CONFIDENCE", "LABEL", "emission_bound", "first_shown"]

LABEL = "pitch-model bound (swiftf0)"
AHEAD_S = 0.032
"""Audio a SwiftF0 frame needs after its timestamp: its own hop and one more (2 × 16 ms)."""
CONFIDENCE = 0.5
"""SwiftF0's voicing threshold."""
PITCH_TOLERANCE_ST = 0.5
SEARCH_EARLY_S = 0.03
"""Frames this much before the onset may show the note (a voice patch can start a hair
before its note-on; the frame's hop reaches past its timestamp)."""


def first_shown(truth: Sequence[Note], times: np.ndarray, pitch_hz: np.ndarray,
                confidence: np.ndarray) -> list[float | None]:
    """For each true note, the timestamp of the first frame that shows its pitch.

    Parameters
    ----------
    truth : sequence of Note
        Ground truth, seconds.
    times, pitch_hz, confidence : numpy.ndarray
        Per frame: timestamp (s), pitch (Hz) and confidence, as SwiftF0 returns them.

    Returns
    -------
    list of float or None
        In the order of ``truth``; None where no frame from ``SEARCH_EARLY_S`` before
        the onset to the note's end has the pitch within ``PITCH_TOLERANCE_ST``
        semitones at confidence >= ``CONFIDENCE``.
    """
    times = np.asarray(times, dtype=float)
    midi = 69.0 + 12.0 * np.log2(np.maximum(np.asarray(pitch_hz, dtype=float), 1e-6) / 440.0)
    voiced = np.asarray(confidence, dtype=float) >= CONFIDENCE
    out: list[float | None] = []
    for note in truth:
        ok = ((times >= note.start - SEARCH_EARLY_S) & (times <= note.end) & voiced
              & (np.abs(midi - note.pitch) < PITCH_TOLERANCE_ST))
        out.append(float(times[np.argmax(ok)]) if ok.any() else None)
    return out


def emission_bound(truth: Sequence[Note], audio: np.ndarray, sr: int) -> EmissionStats:
    """The earliest each true note could be emitted by a tracker deciding from SwiftF0.

    Parameters
    ----------
    truth : sequence of Note
        Ground truth of ``audio``, seconds.
    audio : numpy.ndarray
        Mono float audio (or samples × channels, mixed down).
    sr : int
        Its sample rate in Hz (SwiftF0 resamples to 16 kHz).

    Returns
    -------
    EmissionStats
        ``latencies_ms``: per note whose pitch ever shows, in onset order, first frame
        timestamp minus onset plus ``AHEAD_S`` (ms); ``n_note_ons`` is that count (an
        ideal tracker emits one note-on per note it can see). See the module docstring
        for what this bounds and why it is optimistic.

    Raises
    ------
    BackendUnavailableError
        When the ``swift_f0`` package is not installed.
    UsageError
        For empty audio or a sample rate that is not positive.
    """
    from vocalmidi.eval.systems import _mono, _require

    swift_f0 = _require("swift_f0", "swift-f0")
    mono = _mono(audio)
    if mono.size == 0:
        raise UsageError("emission_bound needs audio: got none")
    if not sr > 0:
        raise UsageError(f"emission_bound: the sample rate must be positive, got {sr}")
    res = swift_f0.SwiftF0().detect(mono, sr)
    notes = sorted(truth, key=lambda n: n.start)
    shown = first_shown(notes, res.timestamps, res.pitch_hz, res.confidence)
    lat = [1000.0 * (t - n.start + AHEAD_S) for n, t in zip(notes, shown, strict=True)
           if t is not None]
    return EmissionStats(len(notes), len(lat), lat)
