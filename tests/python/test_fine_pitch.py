"""The fine pitch pitch bends use (vocalmidi.notemodel.fine_pitch): held tones read within
2 cents wherever the model's guess lies in the search span, noise and silence keep the
model's pitch, and the engine's golden data (tests/engine/golden/*.pitch.txt, which the
C++ port is held to) is what this code computes."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from vocalmidi.notemodel.fine_pitch import note_from_audio, refine_pitch

GOLDEN = Path(__file__).resolve().parents[1] / "engine" / "golden"
SR = 16000


def tone(midi: float, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    return (0.25 * sum(0.5 / k * np.sin(2 * np.pi * k * f0 * t)
                       for k in range(1, 7) if k * f0 < 7600)).astype(np.float32)


@pytest.mark.parametrize("midi", [38.3, 45.0, 52.6, 61.45, 69.9, 76.2, 84.0])
def test_a_held_tone_reads_within_two_cents(midi: float) -> None:
    audio = tone(midi)
    frames = len(audio) // 80 - 2
    for guess in (midi - 0.45, midi, midi + 0.3):
        refined = refine_pitch(audio, np.full(frames, guess, np.float32))
        assert np.all(np.abs(refined[10:] - midi) < 0.02), (guess, refined[10:])


def test_noise_silence_and_the_first_frames_keep_the_models_pitch() -> None:
    noise = np.random.default_rng(1).standard_normal(8000).astype(np.float32) * 0.3
    guess = np.full(98, 60.3, np.float32)
    np.testing.assert_array_equal(refine_pitch(noise, guess), guess)
    np.testing.assert_array_equal(refine_pitch(np.zeros(8000, np.float32), guess), guess)
    low = refine_pitch(tone(40.0), np.full(98, 40.2, np.float32))
    assert low[0] == np.float32(40.2)  # the stream's first frame lacks a period's history
    assert abs(low[20] - 40.0) < 0.02
    odd = np.array([np.nan, 20.0, 57.0], np.float32)  # none, out of range, an octave off
    out = refine_pitch(tone(45.0), odd, first_frame=40)
    assert np.isnan(out[0]) and out[1] == np.float32(20.0) and out[2] == np.float32(57.0)


@pytest.mark.parametrize("clip", ["oohs-fluidr3", "synth-timgm"])
def test_the_engines_golden_fine_pitch_is_this_codes(clip: str) -> None:
    raw = (GOLDEN / f"{clip}.golden.bin").read_bytes()
    samples, frames = struct.unpack("<ii", raw[8:16])
    audio = np.frombuffer(raw[16:16 + 2 * samples], "<i2").astype(np.float32) / 32767.0
    pitch = np.frombuffer(raw[16 + 2 * samples:], "<f4").reshape(frames, 6)[:, 4]
    expected = np.loadtxt(GOLDEN / f"{clip}.pitch.txt")
    np.testing.assert_allclose(refine_pitch(audio, pitch), expected, atol=1e-5)


def sine(midi: float, seconds: float = 1.0, vibrato: float = 0.0) -> np.ndarray:
    """A pure tone; ``vibrato`` semitones either side at 5.5 Hz."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi + vibrato * np.sin(2 * np.pi * 5.5 * t) - 69) / 12)
    return (0.25 * np.sin(2 * np.pi * np.cumsum(f0) / SR)).astype(np.float32)


@pytest.mark.parametrize("midi", [38, 45, 60, 67, 84])
def test_a_note_named_a_semitone_or_two_off_is_put_right(midi: int) -> None:
    """The whole-take check: a steady sine the model names one or two semitones off (as
    the first whole-take model did) takes the note its period shows."""
    for audio in (sine(midi), tone(midi, 1.0)):
        frames = len(audio) // 80 - 2
        for named in (midi - 2, midi - 1, midi, midi + 1, midi + 2):
            assert note_from_audio(audio, 0, frames, named) == midi, named


def test_a_sung_note_keeps_the_models_note() -> None:
    """Out of tune by 40 cents, wide vibrato, a glide, noise, silence or a note too short
    to check: the model's note stays."""
    frames = 200 - 2
    assert note_from_audio(sine(60.4), 0, frames, 60) == 60
    assert note_from_audio(sine(59.6), 0, frames, 60) == 60
    assert note_from_audio(sine(62.0, vibrato=0.6), 0, frames, 62) == 62
    glide = (0.25 * np.sin(2 * np.pi * np.cumsum(np.geomspace(262, 330, SR)) / SR)).astype(
        np.float32)
    assert note_from_audio(glide, 0, frames, 62) == 62
    noise = np.random.default_rng(2).standard_normal(SR).astype(np.float32) * 0.3
    assert note_from_audio(noise, 0, frames, 57) == 57
    assert note_from_audio(np.zeros(SR, np.float32), 0, frames, 57) == 57
    assert note_from_audio(sine(60.0), 0, 5, 61) == 61  # under 30 ms of steady part
