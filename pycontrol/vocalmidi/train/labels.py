"""Frame labels of a training clip, rasterised from the notes that were actually sounded.

One value per label frame of :mod:`vocalmidi.train.contract` (frame ``k`` spans model
samples ``[80k, 80k + 80)``):

- ``onset`` (uint8): 1 in the frame holding a note-on;
- ``sounding`` (uint8): 1 in every frame that overlaps a note (note-on to note-off);
- ``note`` (int16): the written MIDI note, -1 where nothing sounds;
- ``cents`` (float32): performed minus written pitch at the frame's centre, 0 where silent.

The voice is monophonic but legato notes overlap for a few tens of ms: a frame belongs
to the note that started last among those sounding, which is what a singer's pitch does
(the new note takes over at its note-on, the old one's tail is only its release).
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from vocalmidi.notes import Note
from vocalmidi.train import contract

__all__ = ["Labels", "rasterise"]

Labels = dict[str, np.ndarray]


@numba.njit(cache=True)
def _rasterise(first: np.ndarray, stop: np.ndarray, pitches: np.ndarray,
               bend_offsets: np.ndarray, bend_t: np.ndarray, bend_s: np.ndarray,
               n_frames: int, frame_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    onset = np.zeros(n_frames, np.uint8)
    sounding = np.zeros(n_frames, np.uint8)
    note = np.full(n_frames, -1, np.int16)
    cents = np.zeros(n_frames, np.float32)
    for i in range(first.shape[0]):  # notes in start order: later notes overwrite
        f0 = first[i]
        f1 = max(stop[i], f0 + 1)  # first frame after the note
        if f0 >= n_frames:
            continue
        onset[f0] = 1
        b0, b1 = bend_offsets[i], bend_offsets[i + 1]
        k = b0
        for f in range(f0, min(f1, n_frames)):
            sounding[f] = 1
            note[f] = pitches[i]
            if b1 == b0:
                cents[f] = 0.0
                continue
            t = (f + 0.5) * frame_s
            # Walk the (sorted) bend curve forward; hold its end values outside it.
            while k + 1 < b1 and bend_t[k + 1] <= t:
                k += 1
            if t <= bend_t[b0]:
                s = bend_s[b0]
            elif k + 1 >= b1:
                s = bend_s[b1 - 1]
            else:
                w = (t - bend_t[k]) / (bend_t[k + 1] - bend_t[k])
                s = bend_s[k] + w * (bend_s[k + 1] - bend_s[k])
            cents[f] = np.float32(100.0 * s)
    return onset, sounding, note, cents


def rasterise(notes: Sequence[Note], num_samples: int) -> Labels:
    """Labels of a clip of ``num_samples`` model-rate samples holding ``notes``.

    Parameters
    ----------
    notes : sequence of Note
        The notes as sounded (written pitch in ``pitch``, performed deviation in ``bend``,
        times in seconds from the clip's first sample). Notes past the clip's end are cut.
    num_samples : int
        Length of the clip at :data:`contract.SAMPLE_RATE`.

    Returns
    -------
    dict
        ``onset``, ``sounding``, ``note``, ``cents`` arrays of
        ``contract.num_frames(num_samples)`` frames.
    """
    n_frames = contract.num_frames(num_samples)
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    offsets = np.zeros(len(ordered) + 1, np.int64)
    for i, n in enumerate(ordered):
        offsets[i + 1] = offsets[i] + len(n.bend)
    bend = np.array([p for n in ordered for p in n.bend], np.float64).reshape(-1, 2)
    # The note covers samples [start, end): its frames run from the one holding its first
    # sample (contract.frame_of_time) to the last one that its last sample reaches.
    onset, sounding, note, cents = _rasterise(
        np.array([contract.frame_of_time(n.start) for n in ordered], np.int64),
        np.array([contract.num_frames(int(n.end * contract.SAMPLE_RATE)) for n in ordered],
                 np.int64),
        np.array([n.pitch for n in ordered], np.int64),
        offsets, np.ascontiguousarray(bend[:, 0]), np.ascontiguousarray(bend[:, 1]),
        n_frames, contract.HOP / contract.SAMPLE_RATE)
    return {"onset": onset, "sounding": sounding, "note": note, "cents": cents}
