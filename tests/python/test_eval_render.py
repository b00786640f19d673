"""The renderer: ground truth is exact, takes sound sung, rendering is deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocalmidi.eval.conditions import active_power, add_noise, negative_clip
from vocalmidi.eval.perform import STYLES, perform
from vocalmidi.eval.render import render_demo_melody, render_take
from vocalmidi.notes import Note

SR = 48000
# Staccato: every note stands alone, so its energy onset can be found in the audio.
STACCATO = [Note(0.5 + 1.2 * i, 0.5 + 1.2 * i + 0.3, p, 100)
            for i, p in enumerate([57, 62, 64, 69, 55, 72])]


def envelope(audio: np.ndarray, win: int = 96) -> np.ndarray:
    return np.sqrt(np.convolve(audio.astype(float) ** 2, np.ones(win) / win, mode="same"))


@pytest.mark.parametrize("patch", ["voice_oohs", "choir_aahs", "synth_voice"])
def test_notes_sound_where_the_ground_truth_says(patch: str) -> None:
    audio, truth = render_take(STACCATO, patch=patch, style="plain", seed=1, sample_rate=SR)
    assert [(n.start, n.pitch) for n in truth] == [
        (pytest.approx(n.start, abs=1e-3), n.pitch) for n in STACCATO]
    env = envelope(audio)
    for n in truth:
        i0 = int(n.start * SR)
        note_peak = env[i0 : int(n.end * SR)].max()
        before = env[i0 - int(0.1 * SR) : i0 - int(0.005 * SR)].max()
        rise = i0 + int(np.argmax(env[i0:] > 0.1 * note_peak))
        assert before < 0.05 * note_peak, f"sound before the note-on at {n.start:.3f} s"
        assert 0 <= (rise - i0) / SR <= 0.06, f"note at {n.start:.3f} s starts late"


def test_sung_performance_keeps_onsets_and_adds_vibrato_and_scoops() -> None:
    score = [Note(0.5 + 1.0 * i, 1.5 + 1.0 * i, 60 + i, 96) for i in range(8)]
    sung = perform(score, STYLES["sung"], seed=3)
    assert [n.start for n in sung] == [n.start for n in score]
    assert [n.pitch for n in sung] == [n.pitch for n in score]
    # Legato: most notes run into the next one.
    assert sum(a.end > b.start for a, b in zip(sung, sung[1:], strict=False)) >= 4
    steady = [np.array([s for t, s in n.bend if t - n.start > 0.55]) for n in sung[:-1]]
    depths = [100 * np.max(np.abs(x)) for x in steady if x.size]
    assert min(depths) > 20 and max(depths) < 100  # vibrato of tens of cents
    scoops = [n.bend[0][1] for n in sung if n.bend]
    assert sum(s < -0.3 for s in scoops) >= 2  # some notes are entered from below
    plain = perform(score, STYLES["plain"], seed=3)
    assert all(s == 0.0 for n in plain for _, s in n.bend)


def test_rendering_is_deterministic_per_seed() -> None:
    a1, t1 = render_take(STACCATO[:3], style="sung", seed=7, sample_rate=SR)
    a2, t2 = render_take(STACCATO[:3], style="sung", seed=7, sample_rate=SR)
    a3, _ = render_take(STACCATO[:3], style="sung", seed=8, sample_rate=SR)
    assert np.array_equal(a1, a2) and t1 == t2
    assert not np.array_equal(a1, a3)


def test_demo_melody(tmp_path: Path) -> None:
    audio, sr, notes = render_demo_melody(tmp_path / "demo.wav")
    on_disk, sr_disk = sf.read(str(tmp_path / "demo.wav"), dtype="float32")
    assert sr == sr_disk == 48000
    assert np.array_equal(on_disk, audio)
    assert 10.0 <= len(audio) / sr <= 16.0
    assert len(notes) >= 15
    assert all(55 <= n.pitch <= 84 for n in notes)
    assert notes[-1].end <= len(audio) / sr
    assert np.max(np.abs(audio)) == pytest.approx(0.5, abs=1e-3)


def test_noise_is_added_at_the_requested_snr() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(SR * 2) / SR
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    tone[: SR // 2] = 0  # silence must not lower the signal level
    noisy = add_noise(tone, SR, 15.0, rng)
    noise = noisy - tone
    snr = 10 * np.log10(active_power(tone, SR) / np.mean(noise.astype(float) ** 2))
    assert snr == pytest.approx(15.0, abs=0.2)


@pytest.mark.parametrize("kind", ["pink", "roomtone", "clicks"])
def test_negative_clips_are_quiet_but_not_silent(kind: str) -> None:
    x = negative_clip(kind, 3.0, SR, np.random.default_rng(1))
    rms_db = 10 * np.log10(np.mean(x.astype(float) ** 2))
    assert x.shape == (3 * SR,) and x.dtype == np.float32
    assert -50 < rms_db < -15
