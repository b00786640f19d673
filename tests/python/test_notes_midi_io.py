"""The shared Note type and note-list files: MIDI, CSV and JSON round trips."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from vocalmidi.errors import AudioInputError, UsageError
from vocalmidi.midi_io import read_midi, read_notes, write_midi, write_notes
from vocalmidi.notes import Note, hz_to_midi, midi_to_hz

TICK = 0.5 / 960  # one tick at 120 bpm and 960 ticks per beat


def melody() -> list[Note]:
    return [
        Note(0.25, 0.75, 60, 90),
        Note(0.70, 1.20, 64, 100),  # legato: overlaps the previous note
        Note(1.30, 1.31, 67, 1),
        Note(2.0, 3.5, 72, 127),
    ]


def test_note_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="start"):
        Note(1.0, 0.5, 60)
    with pytest.raises(ValueError, match="pitch"):
        Note(0.0, 1.0, 128)
    with pytest.raises(ValueError, match="velocity"):
        Note(0.0, 1.0, 60, 0)
    with pytest.raises(ValueError, match="finite"):
        Note(float("nan"), 1.0, 60)


def test_pitch_conversions_agree() -> None:
    assert midi_to_hz(69) == 440.0
    assert hz_to_midi(261.6256) == pytest.approx(60.0, abs=1e-4)
    assert Note(0, 1, 57).pitch_hz == pytest.approx(220.0)


@pytest.mark.parametrize("tempo", [120.0, 93.0])
def test_midi_round_trip_keeps_every_note(tmp_path: Path, tempo: float) -> None:
    notes = melody()
    path = write_midi(tmp_path / "m.mid", notes, tempo_bpm=tempo, program=53)
    back = read_midi(path)
    assert [(n.pitch, n.velocity) for n in back] == [(n.pitch, n.velocity) for n in notes]
    tick = 60.0 / tempo / 960
    for a, b in zip(notes, back, strict=True):
        assert b.start == pytest.approx(a.start, abs=tick)
        assert b.end == pytest.approx(a.end, abs=tick)
    prog = [m for m in mido.MidiFile(path).tracks[1] if m.type == "program_change"]
    assert prog and prog[0].program == 53


def test_midi_round_trip_keeps_bend_curves(tmp_path: Path) -> None:
    bend = tuple((1.0 + 0.01 * k, -1.0 + 0.02 * k) for k in range(50))
    notes = [Note(1.0, 2.0, 62, 80, bend)]
    back = read_midi(write_midi(tmp_path / "b.mid", notes))
    assert len(back) == 1
    got = dict(back[0].bend)
    assert len(got) == 50
    for t, s in bend:
        near = min(got, key=lambda x: abs(x - t))
        assert abs(near - t) <= TICK
        assert got[near] == pytest.approx(s, abs=2 / 8192 * 2)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".mid"])
def test_note_files_round_trip(tmp_path: Path, suffix: str) -> None:
    notes = melody()
    back = read_notes(write_notes(tmp_path / f"n{suffix}", notes))
    assert len(back) == len(notes)
    for a, b in zip(notes, back, strict=True):
        assert (a.pitch, a.velocity) == (b.pitch, b.velocity)
        assert b.start == pytest.approx(a.start, abs=TICK)
        assert b.end == pytest.approx(a.end, abs=TICK)


def test_bad_note_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\.mid"):
        write_notes(tmp_path / "x.txt", melody())
    with pytest.raises(AudioInputError, match="no such"):
        read_notes(tmp_path / "missing.json")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file at all")
    with pytest.raises(AudioInputError, match="not a readable MIDI file"):
        read_midi(bad)
    broken = tmp_path / "broken.csv"
    broken.write_text("start,end,pitch\n0.5,0.2,60\n")
    with pytest.raises(AudioInputError, match="not a valid note list"):
        read_notes(broken)
    assert broken.read_text() == "start,end,pitch\n0.5,0.2,60\n"  # nothing lost
