"""A simple f0-to-notes segmenter for pitch trackers that have no note stage of their own.

Frames are voiced when the tracker's confidence reaches a threshold. The pitch (in
semitones) is median-filtered over 50 ms; a note ends after 30 ms unvoiced, and a new
note starts where the pitch stays more than 0.7 semitone away from the current note's
for 60 ms (so vibrato and scoops do not split notes). Notes shorter than 80 ms are
dropped. It is the baseline a pitch tracker gets without note-level modelling.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from vocalmidi.notes import Note

__all__ = ["segment_f0"]


def segment_f0(
    times: np.ndarray,
    f0_hz: np.ndarray,
    confidence: np.ndarray,
    *,
    threshold: float = 0.5,
    hop: float = 0.01,
    change_semitones: float = 0.7,
    change_s: float = 0.06,
    gap_s: float = 0.03,
    min_note_s: float = 0.08,
) -> list[Note]:
    """Segment a frame-wise f0 track into notes.

    Parameters
    ----------
    times : numpy.ndarray
        Frame centre times in seconds, ``hop`` apart.
    f0_hz, confidence : numpy.ndarray
        Per-frame pitch and voicing confidence (0..1).
    threshold : float
        Confidence at which a frame counts as voiced.
    hop : float
        Frame spacing in seconds.
    change_semitones, change_s : float
        How far and for how long the pitch must move to start a new note.
    gap_s : float
        Unvoiced time that ends a note.
    min_note_s : float
        Shortest note kept.

    Returns
    -------
    list of Note
    """
    voiced = (confidence >= threshold) & (f0_hz > 0)
    midi = np.where(voiced, 69.0 + 12.0 * np.log2(np.maximum(f0_hz, 1e-6) / 440.0), np.nan)
    if voiced.any():
        filled = np.interp(np.arange(len(midi)), np.flatnonzero(voiced), midi[voiced])
        midi = np.where(voiced, median_filter(filled, size=5, mode="nearest"), np.nan)
    n_change = max(1, int(round(change_s / hop)))
    n_gap = max(1, int(round(gap_s / hop)))

    notes: list[Note] = []
    start = -1  # first frame of the current note, -1 when none
    frames: list[float] = []
    away = unvoiced = 0

    def close(last: int) -> None:
        if start >= 0 and frames:
            t0, t1 = times[start] - hop / 2, times[last] + hop / 2
            if t1 - t0 >= min_note_s:
                pitch = int(np.clip(round(float(np.median(frames))), 0, 127))
                notes.append(Note(max(0.0, float(t0)), float(t1), pitch, 100))

    for i in range(len(midi)):
        if np.isnan(midi[i]):
            unvoiced += 1
            away = 0
            if start >= 0 and unvoiced >= n_gap:
                close(i - unvoiced)
                start, frames, away = -1, [], 0
            continue
        unvoiced = 0
        if start < 0:
            start, frames, away = i, [midi[i]], 0
            continue
        centre = float(np.median(frames[-25:]))
        if abs(midi[i] - centre) > change_semitones:
            away += 1
            if away >= n_change:
                close(i - away)
                start, frames, away = i - away + 1, list(midi[i - away + 1 : i + 1]), 0
                continue
        else:
            away = 0
        frames.append(float(midi[i]))
    if start >= 0:
        close(len(midi) - 1 - unvoiced)
    return notes
