"""Whole-take note decoding of the note model's outputs (the offline path).

A file on disk has no latency budget, so this decoder looks both ways, unlike the live
reference decoder (:mod:`vocalmidi.train.decode`) that must commit within a frame:

1. sounding regions: ``sounding`` with hysteresis, short gaps bridged;
2. onsets: peaks of ``onset`` (local maxima above a threshold, a minimum distance
   apart), each placed on its attack (the first frame of the peak's rise above half its
   height);
3. legato changes without an onset peak: the written-note head (``note``), median
   filtered, changing to another note that then holds for ``min_change_ms``;
4. each segment's pitch is the confidence-weighted vote of ``note`` over its settled part
   (after ``settle_ms``, so a scoop into the note does not vote), its offset is where it
   stops sounding or the next note starts;
5. where the outputs carry their audio (``FrameOutputs.audio16``, as
   :meth:`~vocalmidi.notemodel.run.NoteModelRunner.analyse` gives them), each segment's
   pitch is checked against the period the audio shows near it
   (:func:`~vocalmidi.notemodel.fine_pitch.note_from_audio`: a steady sine named a
   semitone off is put right; a sung note keeps the model's note);
6. pitch bends (optional) follow ``pitch`` minus the note, every 10 ms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from vocalmidi.notemodel.fine_pitch import note_from_audio
from vocalmidi.notemodel.run import FrameOutputs
from vocalmidi.notes import Note
from vocalmidi.train import contract as C

__all__ = ["OfflineConfig", "decode_offline"]

_FRAME_S = C.HOP / C.SAMPLE_RATE


@dataclass(frozen=True)
class OfflineConfig:
    """Thresholds of the whole-take decoder.

    The defaults were picked for the streaming model vocalnote-s (stage 5) on its dev split
    (152 clips of training voices with held-apart seeds and melodies; never the eval set)
    by ``python -m vocalmidi.notemodel.tune_offline``: dev note F1@50 0.774 -> 0.784
    (stage 4 with its own: 0.772). A
    whole-take model carries its own, tuned the same way by the trainer
    (:meth:`vocalmidi.notemodel.run.NoteModelRunner.offline_config`).
    """

    sounding_on: float = 0.6
    sounding_off: float = 0.2
    bridge_ms: float = 50.0  # gaps in sounding shorter than this are bridged
    onset_threshold: float = 0.75
    onset_min_gap_ms: float = 80.0
    min_change_ms: float = 100.0  # a legato change must hold this long
    settle_ms: float = 30.0
    min_note_ms: float = 80.0
    velocity_floor_db: float = -50.0
    velocity_ceiling_db: float = -6.0
    bend_step_ms: float = 10.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> OfflineConfig:
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown whole-take decoder keys: {', '.join(unknown)}")
        return cls(**d)


def _ms(frames_ms: float) -> int:
    return max(1, int(round(frames_ms / 1000.0 / _FRAME_S)))


def _regions(sounding: np.ndarray, cfg: OfflineConfig) -> list[tuple[int, int]]:
    """[start, end) frame ranges where a note sounds (hysteresis, short gaps bridged)."""
    on = False
    out: list[tuple[int, int]] = []
    start = 0
    for i, p in enumerate(sounding):
        if not on and p >= cfg.sounding_on:
            on, start = True, i
        elif on and p < cfg.sounding_off:
            on = False
            out.append((start, i))
    if on:
        out.append((start, len(sounding)))
    bridged: list[tuple[int, int]] = []
    gap = _ms(cfg.bridge_ms)
    for s, e in out:
        if bridged and s - bridged[-1][1] < gap:
            bridged[-1] = (bridged[-1][0], e)
        else:
            bridged.append((s, e))
    return bridged


def _onset_peaks(onset: np.ndarray, cfg: OfflineConfig) -> list[int]:
    """Attack frames of the onset peaks, strongest first wins within the minimum gap."""
    n = len(onset)
    if n == 0:
        return []
    left = np.concatenate([[-1.0], onset[:-1]])
    right = np.concatenate([onset[1:], [-1.0]])
    peaks = np.flatnonzero((onset >= cfg.onset_threshold) & (onset > left) & (onset >= right))
    gap = _ms(cfg.onset_min_gap_ms)
    kept: list[int] = []
    for p in sorted(peaks, key=lambda i: -onset[i]):
        if all(abs(p - q) >= gap for q in kept):
            kept.append(int(p))
    attacks = []
    for p in sorted(kept):
        a = p
        while a > 0 and onset[a - 1] >= 0.5 * onset[p] and p - a < gap // 2:
            a -= 1
        attacks.append(a)
    return attacks


def _median_notes(note: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(note) < width:
        return note.astype(np.int32)
    half = width // 2
    padded = np.pad(note.astype(np.int32), half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=1).astype(np.int32)


def _legato_changes(notes: np.ndarray, s: int, e: int, cfg: OfflineConfig) -> list[int]:
    """Frames in [s, e) where the (filtered) written note changes and then holds."""
    hold = _ms(cfg.min_change_ms)
    out: list[int] = []
    cur = notes[s]
    i = s + 1
    while i < e:
        if notes[i] != cur and i + hold <= e and np.all(notes[i:i + hold] == notes[i]):
            out.append(i)
            cur = notes[i]
            i += hold
        else:
            i += 1
    return out


def _velocity(level_db: float, cfg: OfflineConfig) -> int:
    x = (level_db - cfg.velocity_floor_db) / (cfg.velocity_ceiling_db - cfg.velocity_floor_db)
    return int(np.clip(round(1 + 126 * np.clip(x, 0.0, 1.0)), 1, 127))


def decode_offline(out: FrameOutputs, cfg: OfflineConfig | None = None,
                   bends: bool = False) -> list[Note]:
    """Notes of a whole take from the note model's frame outputs.

    Parameters
    ----------
    out : FrameOutputs
        From :meth:`vocalmidi.notemodel.run.NoteModelRunner.analyse`.
    cfg : OfflineConfig, optional
        Thresholds (default: the shipped ones).
    bends : bool
        Attach pitch-bend curves (semitones from the note, every ``bend_step_ms``).

    Returns
    -------
    list of Note
        Sorted, non-overlapping (monophonic) notes.
    """
    cfg = cfg or OfflineConfig()
    notes_f = _median_notes(np.rint(out.note), _ms(15.0))
    peaks = _onset_peaks(out.onset, cfg)
    result: list[Note] = []
    settle, min_len = _ms(cfg.settle_ms), _ms(cfg.min_note_ms)
    for s, e in _regions(out.sounding, cfg):
        # A peak near the region's start (the attack leads full sounding) opens it.
        inside = [p for p in peaks if s - _ms(30.0) <= p < e]
        if inside and inside[0] <= s + _ms(30.0):
            cuts = [min(s, inside[0]), *inside[1:]]
        else:
            cuts = [s, *inside]
        bounds: list[int] = []
        for a, b in zip(cuts, [*cuts[1:], e], strict=True):
            bounds.append(a)
            bounds.extend(_legato_changes(notes_f, max(a, s), b, cfg))
        bounds = sorted(set(bounds))
        for a, b in zip(bounds, [*bounds[1:], e], strict=True):
            if b - a < min_len:
                continue
            voted = np.arange(min(a + settle, b - 1), b)
            conf = out.note_conf[voted].astype(np.float64)
            cands = notes_f[voted]
            weights = {int(c): float(conf[cands == c].sum()) for c in np.unique(cands)}
            pitch = max(weights, key=weights.__getitem__)
            if not 0 <= pitch <= 127:
                continue
            if out.audio16 is not None:
                pitch = note_from_audio(out.audio16, a, b, pitch)
            level = float(np.max(out.level_db[a:min(b, a + _ms(60.0))]))
            bend: tuple[tuple[float, float], ...] = ()
            if bends:
                step = _ms(cfg.bend_step_ms)
                bend = tuple((i * _FRAME_S, float(out.pitch[i]) - pitch)
                             for i in range(a, b, step) if out.sounding[i] >= cfg.sounding_off)
            result.append(Note(a * _FRAME_S, b * _FRAME_S, pitch, _velocity(level, cfg), bend))
    return _merge_repeats(result, peaks)


def _merge_repeats(notes: list[Note], peaks: list[int]) -> list[Note]:
    """Join back-to-back segments of one pitch that no onset peak separates (a legato
    change that came back, or a filter flicker)."""
    peak_times = {round(p * _FRAME_S, 6) for p in peaks}
    out: list[Note] = []
    for n in notes:
        prev = out[-1] if out else None
        if (prev is not None and prev.pitch == n.pitch and n.start - prev.end < 1e-6
                and round(n.start, 6) not in peak_times):
            out[-1] = Note(prev.start, n.end, prev.pitch, prev.velocity, prev.bend + n.bend)
        else:
            out.append(n)
    return out
