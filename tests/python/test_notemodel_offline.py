"""The whole-take decoder (``vocalmidi transcribe``'s default with a note model) on
hand-made model outputs, the note settings it honours, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vocalmidi.errors import ModelError
from vocalmidi.notemodel.offline import OfflineConfig, decode_offline
from vocalmidi.notemodel.run import FrameOutputs, NoteModelRunner
from vocalmidi.notemodel.settings import apply_note_settings, snap_to_scale
from vocalmidi.notes import Note
from vocalmidi.train.contract import HOP, SAMPLE_RATE

FRAME = HOP / SAMPLE_RATE


class Take:
    """Per-frame outputs built piece by piece (silence by default)."""

    def __init__(self, frames: int) -> None:
        self.out = FrameOutputs(np.zeros(frames), np.zeros(frames), np.full(frames, 60.0),
                                np.full(frames, 0.9), np.full(frames, 60.0),
                                np.full(frames, -80.0))

    def sing(self, start: int, stop: int, note: int, attack: bool = True,
             scoop_from: int | None = None) -> Take:
        o = self.out
        o.sounding[start:stop] = 0.95
        o.note[start:stop] = note
        o.pitch[start:stop] = note + 0.2
        o.level_db[start:stop] = -20.0
        if scoop_from is not None:  # the first 5 frames name the note below
            o.note[start:start + 5] = scoop_from
        if attack:
            o.onset[start - 1:start + 3] = np.maximum(o.onset[start - 1:start + 3],
                                                      [0.5, 0.9, 0.6, 0.2])
        return self

    def notes(self, **kw: object) -> list[tuple[int, int, int]]:
        found = decode_offline(self.out, **kw)  # type: ignore[arg-type]
        return [(n.pitch, round(n.start / FRAME), round(n.end / FRAME)) for n in found]


def test_each_sung_note_once_with_its_onset_on_the_attack() -> None:
    got = Take(300).sing(20, 80, 60).sing(120, 200, 64).notes()
    # The attack starts one frame before the onset peak (it rises above half the peak).
    assert got == [(60, 19, 80), (64, 119, 200)]


def test_repeated_notes_on_one_pitch_stay_separate() -> None:
    got = Take(300).sing(20, 80, 62).sing(80, 140, 62).sing(140, 200, 62).notes()
    assert [p for p, _, _ in got] == [62, 62, 62]
    assert [s for _, s, _ in got] == [19, 79, 139]


def test_a_legato_change_without_attack_splits_the_note() -> None:
    got = Take(300).sing(20, 100, 60).sing(100, 200, 62, attack=False).notes()
    assert [(p, s) for p, s, _ in got] == [(60, 19), (62, 100)]


def test_a_scoop_into_the_note_does_not_decide_its_pitch() -> None:
    got = Take(200).sing(20, 120, 65, scoop_from=64).notes()
    assert [p for p, _, _ in got] == [65]


def test_the_audio_puts_right_a_note_named_a_semitone_off() -> None:
    """With the take's audio attached (as ``analyse`` gives it), a segment the model names
    a semitone above the steady sine it hears takes the sine's note; the next one, named
    right, keeps it; without the audio the model's notes stand."""
    from dataclasses import replace

    t = np.arange(300 * HOP) / SAMPLE_RATE
    f0 = np.where(t < 0.5, 261.63, 392.0)  # C4, then G4 from frame 100
    audio = (0.3 * np.sin(2 * np.pi * np.cumsum(f0) / SAMPLE_RATE)).astype(np.float32)
    take = Take(300).sing(20, 100, 61).sing(100, 200, 67)
    assert [p for p, _, _ in take.notes()] == [61, 67]
    heard = decode_offline(replace(take.out, audio16=audio))
    assert [n.pitch for n in heard] == [60, 67]


def test_silence_and_blips_give_no_notes() -> None:
    take = Take(300)
    take.out.onset[50:53] = [0.5, 0.9, 0.5]  # an onset with nothing sounding: a click
    take.out.sounding[200:204] = 0.9  # 20 ms of sound: below the shortest note
    assert take.notes() == []


def test_bends_follow_the_performed_pitch_only_when_asked() -> None:
    take = Take(200).sing(20, 120, 60)
    assert decode_offline(take.out)[0].bend == ()
    bent = decode_offline(take.out, bends=True)[0].bend
    assert bent and all(s == pytest.approx(0.2) for _, s in bent)


def test_thresholds_are_honoured() -> None:
    take = Take(200).sing(20, 60, 60)  # 200 ms
    assert take.notes(cfg=OfflineConfig(min_note_ms=150.0))
    assert not take.notes(cfg=OfflineConfig(min_note_ms=250.0))


def test_note_settings_range_scale_and_velocity() -> None:
    notes = [Note(0.0, 0.5, 61, 80), Note(0.5, 1.0, 30, 80), Note(1.0, 1.02, 64, 80)]
    got = apply_note_settings(notes, {"scale": "major", "key_root": 0, "note_min": 36,
                                      "min_note_ms": 40, "velocity_mode": "fixed",
                                      "fixed_velocity": 100})
    assert [(n.pitch, n.velocity) for n in got] == [(60, 100)]  # C# -> C; low and short gone
    assert snap_to_scale(66.0, 1, 0) == 65  # F# in C major: tie goes down to F
    with pytest.raises(Exception, match="unknown parameter"):
        apply_note_settings(notes, {"loudness": 3})


def test_missing_and_corrupt_models_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        NoteModelRunner(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not an onnx file")
    with pytest.raises(ModelError):
        NoteModelRunner(bad)
