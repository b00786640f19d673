"""The reference note decoder on hand-made model outputs: what a musician expects."""

from __future__ import annotations

import numpy as np
import pytest

from vocalmidi.train.contract import HOP, SAMPLE_RATE
from vocalmidi.train.decode import (
    DecoderConfig,
    NoteEvent,
    decode,
    emission_time,
    events_to_notes,
)

FRAME = HOP / SAMPLE_RATE


class Take:
    """Per-frame model outputs built piece by piece (silence by default)."""

    def __init__(self, frames: int) -> None:
        self.onset = np.zeros(frames)
        self.sounding = np.zeros(frames)
        self.note = np.full(frames, 60.0)
        self.conf = np.full(frames, 0.9)
        self.level = np.full(frames, -80.0)

    def sing(self, start: int, stop: int, note: int, level: float = -20.0,
             attack: bool = True) -> Take:
        self.sounding[start:stop] = 0.95
        self.note[start:stop] = note
        self.level[start:stop] = level
        if attack:  # a peak over a few frames, as the onset head gives
            self.onset[start:start + 4] = np.maximum(self.onset[start:start + 4],
                                                     [0.6, 0.95, 0.7, 0.35])
        return self

    def decode(self, **cfg: object) -> list[NoteEvent]:
        return decode(self.onset, self.sounding, self.note, self.conf, self.level,
                      DecoderConfig.from_dict(dict(cfg)))


def ons(events: list[NoteEvent]) -> list[tuple[int, int]]:
    return [(e.frame, e.note) for e in events if e.kind == "on"]


def test_one_note_per_onset_at_its_frame() -> None:
    events = Take(200).sing(20, 80, 60).sing(120, 170, 64).decode()
    assert ons(events) == [(20, 60), (120, 64)]
    assert [e.kind for e in events] == ["on", "off", "on", "off"]
    assert events[0].decided == 20  # note-on at once, not after a confirmation delay
    notes, emitted = events_to_notes(events)
    assert [(n.pitch, round(n.start / FRAME), round(n.end / FRAME)) for n in notes] == [
        (60, 20, 80), (64, 120, 170)]
    assert emitted[0] == pytest.approx(emission_time(20)) == pytest.approx(22 * FRAME)


def test_repeated_syllables_on_one_pitch_reattack() -> None:
    take = Take(200).sing(10, 150, 62)
    take.onset[60:64] = [0.6, 0.9, 0.6, 0.2]  # a new syllable while the voice never stops
    take.onset[100:104] = [0.7, 0.9, 0.5, 0.2]
    notes, _ = events_to_notes(take.decode())
    assert [(n.pitch, round(n.start / FRAME)) for n in notes] == [(62, 10), (62, 60), (62, 100)]
    assert round(notes[0].end / FRAME) == 60


def test_an_onset_that_lingers_is_one_note() -> None:
    take = Take(120).sing(10, 100, 60)
    take.onset[10:40] = 0.6  # high for 150 ms without falling: still one attack
    assert len(ons(take.decode())) == 1


def test_legato_change_without_an_attack() -> None:
    take = Take(200).sing(10, 150, 60)
    take.note[80:150] = 62
    events = take.decode(change_frames=4)
    assert ons(events) == [(10, 60), (80, 62)]
    change = [e for e in events if e.kind == "on"][1]
    assert change.decided == 83  # persisted 4 frames


def test_a_one_frame_flicker_does_not_change_the_note() -> None:
    take = Take(200).sing(10, 150, 60)
    take.note[70] = 67
    take.note[90:92] = 55
    assert ons(take.decode()) == [(10, 60)]


def test_note_off_on_silence_not_on_a_dip() -> None:
    take = Take(200).sing(10, 150, 60)
    take.sounding[60:62] = 0.1  # 10 ms dip (a consonant): the note holds
    events = take.decode(off_frames=3)
    assert [e.kind for e in events] == ["on", "off"]
    assert events[1].frame == 150 and events[1].decided == 152


def test_onset_without_sounding_is_no_note() -> None:
    take = Take(100)
    take.onset[20:24] = [0.6, 0.95, 0.7, 0.3]  # a click: onset head fires, nothing sounds
    assert take.decode() == []


def test_soft_attack_starts_late_rather_than_never() -> None:
    take = Take(100).sing(20, 80, 57, attack=False)
    events = take.decode(sounding_start_frames=8)
    assert ons(events) == [(20, 57)]
    assert events[0].decided == 27


def test_early_correction_retrigger() -> None:
    take = Take(120).sing(20, 100, 60)
    take.note[20:23] = 59  # the first 15 ms name a semitone low (a scoop)
    events = take.decode(correction="retrigger", correction_frames=8, correction_persist=2)
    assert [(e.kind, e.note) for e in events] == [("on", 59), ("off", 59), ("on", 60),
                                                  ("off", 60)]
    fix = events[2]
    assert fix.corrects and fix.frame == 20 and fix.decided == 24
    notes, emitted = events_to_notes(events)
    assert [(n.pitch, round(n.start / FRAME)) for n in notes] == [(60, 20)]
    assert emitted == [pytest.approx(emission_time(24))]


def test_an_unsure_first_guess_waits_for_the_pitch_then_goes_anyway() -> None:
    """With ``start_conf``, a note-on whose note the model is unsure of waits until it is
    sure (one right note instead of a wrong one plus a correction), but no longer than
    ``start_wait_frames`` (late rather than lost)."""
    take = Take(220).sing(20, 100, 60).sing(140, 200, 64)
    take.note[20:23], take.conf[20:23] = 59, 0.4  # a scoop: unsure, a semitone low
    take.conf[140:200] = 0.4  # never sure
    gated = take.decode(start_conf=0.7, start_wait_frames=6)
    assert [(e.kind, e.note, e.frame, e.decided) for e in gated if e.kind == "on"] == [
        ("on", 60, 20, 23), ("on", 64, 140, 146)]
    assert not any(e.corrects for e in gated)
    # The fallback for a note that sounds without an onset does not cut the wait short
    # (until 2026-12-04 it did: a wait longer than sounding_start_frames never happened).
    assert take.decode(start_conf=0.7, start_wait_frames=6, sounding_start_frames=3) == gated
    at_once = take.decode()  # the default starts with the first guess and corrects it
    assert [(e.note, e.corrects) for e in at_once if e.kind == "on"][:2] == [(59, False),
                                                                             (60, True)]


def test_a_start_whose_sound_ends_while_it_waits_for_the_pitch_is_no_note() -> None:
    """A note's faded-out end can read as an onset for a frame or two (vocalnote stages
    25-26 on the plugin tests' synthetic voice); the wait for a sure pitch must not then
    start a note of whatever is named in the silence. A real start that stays unsure
    still goes when the wait ends."""
    take = Take(120).sing(20, 50, 57)  # ends (note-off) before the blip
    take.onset[60:62], take.sounding[60:62] = 0.95, [0.94, 0.47]  # the end's one-frame blip
    take.note[60:], take.conf[60:] = 59, 0.3  # what is named in the silence
    events = take.decode(start_conf=0.95, start_wait_frames=8, off_frames=5,
                         sounding_off=0.2)
    assert [(e.note, e.frame) for e in events if e.kind == "on"] == [(57, 20)]
    unsure = Take(120).sing(20, 60, 57).sing(70, 110, 59)
    unsure.conf[70:110] = 0.3
    late = unsure.decode(start_conf=0.95, start_wait_frames=8, off_frames=5, sounding_off=0.2)
    assert [(e.note, e.frame, e.decided) for e in late if e.kind == "on"][1] == (59, 70, 78)


def test_a_reattack_waits_for_the_new_pitch_at_a_sung_note_change() -> None:
    """At a sung note change the onset head fires while the note head still names the old
    pitch: without ``reattack_wait_frames`` the decoder repeats the old note for a few
    frames (a false note a DAW records, even when a correction follows); with it, one
    change to the new note, stamped at the onset, and a real repeated syllable still
    re-attacks (a little later)."""
    take = Take(200).sing(20, 180, 60)
    take.onset[80:84] = [0.6, 0.95, 0.7, 0.35]  # onset of the next note at frame 80 ...
    take.note[83:180] = 62  # ... whose pitch the model names 3 frames later
    take.onset[130:134] = [0.6, 0.95, 0.7, 0.35]  # a new syllable on the same pitch
    at_once = [(e.note, e.frame, e.decided) for e in take.decode(change_frames=2)
               if e.kind == "on"]
    assert at_once == [(60, 20, 20), (60, 80, 80), (62, 80, 84), (62, 130, 130)]
    waited = [(e.note, e.frame, e.decided) for e in take.decode(change_frames=2,
                                                                reattack_wait_frames=4)
              if e.kind == "on"]
    assert waited == [(60, 20, 20), (62, 80, 83), (62, 130, 134)]


def test_an_unsure_legato_change_waits_for_a_sure_frame() -> None:
    take = Take(120).sing(20, 100, 60)
    take.note[50:100] = 62
    take.conf[50:60] = 0.5  # the model hears the change but is unsure for 50 ms
    changes = [(e.frame, e.decided) for e in take.decode(change_frames=2, change_conf=0.7)
               if e.kind == "on" and e.note == 62]
    assert changes == [(50, 60)]
    assert [(e.frame, e.decided) for e in take.decode(change_frames=2)
            if e.kind == "on" and e.note == 62] == [(50, 51)]


def test_early_correction_bend() -> None:
    take = Take(120).sing(20, 100, 60)
    take.note[20:22] = 58
    events = take.decode(correction="bend")
    assert [(e.kind, e.note, e.bend) for e in events] == [("on", 58, 0.0), ("bend", 58, 2.0),
                                                         ("off", 58, 0.0)]
    notes, emitted = events_to_notes(events)
    assert [(n.pitch, round(n.start / FRAME)) for n in notes] == [(60, 20)]
    assert emitted == [pytest.approx(emission_time(23))]


def test_no_correction_after_the_window_only_a_legato_change() -> None:
    take = Take(200).sing(20, 150, 60)
    take.note[40:43] = 61  # 100 ms in, 3 frames: too late to correct, too short to change
    events = take.decode(correction="retrigger", correction_frames=8, change_frames=4)
    assert ons(events) == [(20, 60)]


def test_velocity_follows_level() -> None:
    events = Take(200).sing(10, 50, 60, level=-40).sing(100, 150, 60, level=-6).decode()
    soft, loud = (e.velocity for e in events if e.kind == "on")
    assert 1 <= soft < loud <= 127


def test_bad_thresholds_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="onset_off"):
        DecoderConfig(onset_on=0.3, onset_off=0.5)
    with pytest.raises(ValueError, match="unknown decoder keys"):
        DecoderConfig.from_dict({"onset": 0.5})


def test_the_tuner_finds_the_start_gate_when_first_guesses_are_unsure() -> None:
    """The decoder tuner tries a gate's two settings together (one alone does nothing) and
    keeps the pair that makes the live MIDI stream right: here every note's first frames
    name a semitone too low, unsure, so the gate turns a wrong note plus a correction into
    one right note."""
    from vocalmidi.train.contract import LABEL_KEYS
    from vocalmidi.train.dataset import Clip
    from vocalmidi.train.export import ModelOutputs
    from vocalmidi.train.trainer import tune_decoder

    frames, starts = 400, [20, 120, 220, 320]
    labels = {k: np.zeros(frames, np.float32) for k in LABEL_KEYS}
    labels["note"][:] = -1
    take = Take(frames)
    for i, s in enumerate(starts):
        pitch = 60 + 2 * i
        labels["onset"][s], labels["sounding"][s:s + 60], labels["note"][s:s + 60] = 1, 1, pitch
        take.sing(s, s + 60, pitch)
        take.note[s:s + 3], take.conf[s:s + 3] = pitch - 1, 0.4
    clip = Clip("scoops", np.full(frames * HOP, 0.1, np.float32), labels)
    out = ModelOutputs(take.onset, take.sounding, take.note, take.conf, take.note + 0.0)
    base = DecoderConfig(correction_frames=8, correction_persist=1, correction_conf=0.5)
    pair = {"start_conf+start_wait_frames": [(0.0, 0), (0.7, 8)]}
    cfg, metrics = tune_decoder([out], [clip], base, grid={"onset_on": [0.5]}, refine=pair)
    assert (cfg.start_conf, cfg.start_wait_frames) == (0.7, 8)
    assert metrics["live_f1_50"] == pytest.approx(1.0)
    _, ungated = tune_decoder([out], [clip], base, grid={"onset_on": [0.5]}, refine={})
    assert ungated["live_f1_50"] == pytest.approx(2 / 3, abs=1e-3)  # a wrong note per note


def test_the_tuner_keeps_false_notes_under_the_ceiling_before_chasing_f1() -> None:
    """Talking between takes must not play notes: a setting that catches one more soft sung
    note but also turns a spoken syllable into a note (6 a minute of negatives) loses to
    one that sends neither, unless the ceiling is lifted."""
    from vocalmidi.train.contract import LABEL_KEYS
    from vocalmidi.train.dataset import Clip
    from vocalmidi.train.export import ModelOutputs
    from vocalmidi.train.trainer import FALSE_CEILING, tune_decoder

    def clip(frames: int, sung: list[tuple[int, int, float]],
             labelled: bool = True) -> tuple[Clip, ModelOutputs]:
        labels = {k: np.zeros(frames, np.float32) for k in LABEL_KEYS}
        labels["note"][:] = -1
        take = Take(frames)
        for start, pitch, sounding in sung:
            take.sing(start, start + 60, pitch)
            take.sounding[start:start + 60] = sounding
            if labelled:  # a sung note; a spoken syllable is no note
                labels["onset"][start], labels["sounding"][start:start + 60] = 1, 1
                labels["note"][start:start + 60] = pitch
        out = ModelOutputs(take.onset, take.sounding, take.note, take.conf, take.note + 0.0)
        return Clip(f"c{len(sung)}", np.full(frames * HOP, 0.1, np.float32), labels), out

    notes = [(20 + 100 * i, 60 + i % 5, 0.7 if i == 4 else 0.95) for i in range(10)]
    sung, sung_out = clip(1100, notes)  # the fifth note is soft
    speech, speech_out = clip(2000, [(500, 57, 0.7)], labelled=False)  # 10 s, one syllable
    assert speech.negative and not sung.negative
    grid = {"sounding_on": [0.6, 0.8]}
    base = DecoderConfig(sounding_start_frames=1000)
    cfg, m = tune_decoder([sung_out, speech_out], [sung, speech], base, grid=grid)
    assert cfg.sounding_on == 0.8 and m["false_per_min"] <= FALSE_CEILING
    assert m["live_f1_50"] == pytest.approx(2 * 0.9 / 1.9, abs=1e-3)  # the soft note: missed
    cfg, m = tune_decoder([sung_out, speech_out], [sung, speech], base, grid=grid,
                          false_ceiling=float("inf"))
    assert cfg.sounding_on == 0.6 and m["false_per_min"] == pytest.approx(6.0)


def test_a_decision_budget_moves_late_notes_back_in_the_recording_and_no_note_before() -> None:
    # The engine's Fast/Accurate budget on a note model: the plugin reports it and holds
    # each event until the budget has passed since it could first have left. A note decided
    # at its onset frame records where it did without a budget; one decided 10 frames late
    # records a budget's worth earlier.
    from vocalmidi.train.decode import events_to_stream

    ev = [NoteEvent("on", 20, 20, 60, 100), NoteEvent("off", 60, 60, 60),
          NoteEvent("on", 100, 110, 62, 100), NoteEvent("off", 150, 150, 62)]
    instant, fast = events_to_stream(ev), events_to_stream(ev, budget_s=0.015)
    assert [n.pitch for n in fast] == [60, 62]
    assert fast[0].start == pytest.approx(instant[0].start)
    assert fast[1].start == pytest.approx(instant[1].start - 0.015)
    assert fast[1].start >= 100 * HOP / SAMPLE_RATE  # never before the onset frame


def test_a_guess_corrected_within_the_budget_is_never_sent() -> None:
    # A scoop: the note starts on the wrong pitch and is retriggered 4 frames later. In
    # Instant both went out, so a recording holds a short wrong note and a late right one;
    # with Accurate's 40 ms (8 frames) the correction is decided before the guess is due,
    # so only the right note is sent, at the onset. Fast's 15 ms (3 frames) is too short
    # for this correction: both notes stay.
    from vocalmidi.train.decode import cancel_unsent_guesses, events_to_stream, hold_frames

    take = Take(60).sing(20, 50, 60)
    take.note[20:23] = 59
    events = take.decode(correction="retrigger", correction_frames=8, correction_persist=2)
    assert hold_frames(0.015) == 3 and hold_frames(0.040) == 8
    assert [e.kind for e in cancel_unsent_guesses(events, 8)] == ["on", "off"]
    accurate = events_to_stream(events, budget_s=0.040)
    # ...recorded where the same note sung without the scoop is
    clean = events_to_stream(Take(60).sing(20, 50, 60).decode(), budget_s=0.040)
    assert [n.pitch for n in accurate] == [60]
    assert accurate[0].start == pytest.approx(clean[0].start)
    fast = events_to_stream(events, budget_s=0.015)
    assert [n.pitch for n in fast] == [59, 60]
    assert [n.pitch for n in events_to_stream(events)] == [59, 60]
