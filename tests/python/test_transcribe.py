"""Offline transcription: the Python API, audio reading, result cache, plugin route."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

MELODY = [(57, 0.40), (60, 0.40), (64, 0.40), (62, 0.55)]
GAP = 0.12


def sing(sr: int, melody: list[tuple[int, float]] = MELODY, lead: float = 0.2) -> np.ndarray:
    """A voice-like harmonic tone per note (slight vibrato, soft attack) with gaps."""
    parts = [np.zeros(int(sr * lead), np.float32)]
    for pitch, dur in melody:
        t = np.arange(int(sr * dur)) / sr
        f0 = 440.0 * 2 ** ((pitch - 69) / 12) * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(f0) / sr
        tone = sum(0.5 / k * np.sin(k * phase) for k in range(1, 7))
        env = np.minimum(1.0, np.minimum(t / 0.03, (dur - t) / 0.03))
        parts += [(0.25 * tone * env).astype(np.float32), np.zeros(int(sr * GAP), np.float32)]
    parts.append(np.zeros(int(sr * 0.3), np.float32))
    return np.concatenate(parts)


def onsets(lead: float = 0.2) -> list[float]:
    out, t = [], lead
    for _, dur in MELODY:
        out.append(t)
        t += dur + GAP
    return out


def assert_melody(notes: list, lead: float = 0.2) -> None:
    assert [n.pitch for n in notes] == [p for p, _ in MELODY], notes
    for note, onset in zip(notes, onsets(lead), strict=True):
        assert abs(note.start - onset) < 0.08, (note, onset)


@pytest.mark.parametrize("model", [None, "swiftf0"])  # the model for files; the engine's
@pytest.mark.parametrize("sr", [16000, 44100, 48000])
def test_transcribe_array_at_any_rate(fresh_cache: Path, sr: int, model: str | None) -> None:
    import vocalmidi

    assert_melody(vocalmidi.transcribe(sing(sr), sr=sr, model=model, use_cache=False))


def test_stereo_files_in_several_formats(fresh_cache: Path, tmp_path: Path) -> None:
    from vocalmidi import transcribe

    mono = sing(44100)
    stereo = np.stack([mono, mono * 0.5], axis=1)
    for name in ("take.wav", "take.flac", "take.ogg"):
        path = tmp_path / name
        sf.write(path, stereo, 44100)
        assert_melody(transcribe(path))


def test_result_cache_makes_a_rerun_instant(fresh_cache: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from vocalmidi import transcribe as module
    from vocalmidi.transcribe import transcribe

    path = tmp_path / "take.wav"
    sf.write(path, sing(22050), 22050)
    first = transcribe(path, model="swiftf0")
    stored = list((fresh_cache / "results").rglob("*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text())["notes"]

    def engine_must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached result must not run the engine")

    monkeypatch.setattr(module, "_run_engine", engine_must_not_run)
    assert transcribe(path, model="swiftf0") == first
    # Other settings are another result.
    with pytest.raises(AssertionError, match="must not run"):
        transcribe(path, model="swiftf0", sensitivity=0.9)


@pytest.mark.parametrize("model", [None, "swiftf0"])
def test_settings_reach_the_engine(fresh_cache: Path, model: str | None) -> None:
    """The note range applies on both routes (the whole-take one applies it as the
    engine does)."""
    from vocalmidi import transcribe

    audio = sing(16000)
    notes = transcribe(audio, sr=16000, model=model, use_cache=False, note_min=58, note_max=63)
    assert all(58 <= n.pitch <= 63 for n in notes)
    assert [n.pitch for n in notes] == [60, 62]


def test_bad_audio_gives_clear_errors(fresh_cache: Path, tmp_path: Path) -> None:
    from vocalmidi import transcribe
    from vocalmidi.errors import AudioInputError, ModelError, UsageError

    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(4000, np.nan, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="NaN"):
        transcribe(nan)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioInputError, match="no samples"):
        transcribe(empty)
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(AudioInputError, match="cannot read"):
        transcribe(text)
    with pytest.raises(AudioInputError, match="no such audio file"):
        transcribe(tmp_path / "missing.wav")
    with pytest.raises(UsageError, match="sr="):
        transcribe(np.zeros(100, np.float32))
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        transcribe(sing(16000), sr=16000, model="nope")


def test_model_not_pulled_says_how_to_get_it(tmp_path: Path, model_cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from vocalmidi import transcribe
    from vocalmidi.errors import ModelError

    monkeypatch.setenv("VOCALMIDI_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelError, match="vocalmidi models pull vocalnote-offline-s"):
        transcribe(sing(16000), sr=16000)
    with pytest.raises(ModelError, match="vocalmidi models pull vocalnote-s"):
        transcribe(sing(16000), sr=16000, live=True)


def test_through_plugin_matches_the_engine(fresh_cache: Path) -> None:
    from vocalmidi import transcribe

    audio = sing(48000)
    direct = transcribe(audio, sr=48000, live=True, use_cache=False)  # the plugin's default
    via_plugin = transcribe(audio, sr=48000, use_cache=False, through_plugin=True)
    assert [n.pitch for n in via_plugin] == [n.pitch for n in direct]
    for a, b in zip(via_plugin, direct, strict=True):
        assert abs(a.start - b.start) < 0.011 and abs(a.end - b.end) < 0.011, (a, b)
        assert a.velocity == b.velocity
