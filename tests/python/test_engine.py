"""The ctypes binding of the C++ engine, with the real SwiftF0 model."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vocalmidi.engine import Engine, EventType, events_to_notes, onnxruntime_info, transcribe_array
from vocalmidi.errors import AudioInputError, ModelError, UsageError

MELODY = [(57, 0.30, 0.80), (60, 1.00, 1.50), (64, 1.50, 2.10), (55, 2.40, 2.90)]


@pytest.fixture(scope="session")
def swiftf0_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """swift_f0/model.onnx from the swift-f0 0.3.0 wheel (or $VOCALMIDI_SWIFTF0_ONNX)."""
    override = os.environ.get("VOCALMIDI_SWIFTF0_ONNX")
    if override:
        return Path(override)
    d = tmp_path_factory.mktemp("swiftf0")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "swift-f0==0.3.0"]
        + ["-d", str(d)],
        check=True,
    )
    wheel = next(d.glob("swift_f0-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extract("swift_f0/model.onnx", d)
    return d / "swift_f0" / "model.onnx"


def sung(sr: int, melody: list[tuple[int, float, float]], total: float) -> np.ndarray:
    """Harmonic tone with ±40 cent vibrato, 40 ms attacks, 30 ms releases."""
    rng = np.random.default_rng(1)
    out = (rng.standard_normal(int(total * sr)) * 5e-4).astype(np.float64)
    for midi, start, end in melody:
        a, b = int(start * sr), int(end * sr)
        t = np.arange(b - a) / sr
        f0 = 440.0 * 2 ** ((midi - 69 + 0.4 * np.sin(2 * np.pi * 5.5 * t)) / 12)
        phase = np.cumsum(2 * np.pi * f0 / sr)
        env = np.minimum(1, t / 0.04) * np.minimum(1, (t[-1] - t) / 0.03)
        tone = sum(np.sin(k * phase) / k for k in range(1, 9))
        out[a:b] += 0.18 * env * tone
    return out.astype(np.float32)


def test_transcribe_array_finds_the_melody(swiftf0_model: Path) -> None:
    sr = 44100
    notes = transcribe_array(sung(sr, MELODY, 3.3), sr, swiftf0_model)
    assert [n.pitch for n in notes] == [m[0] for m in MELODY]
    for note, (_, start, end) in zip(notes, MELODY, strict=True):
        assert abs(note.start - start) < 0.04
        assert abs(note.end - end) < 0.08
        assert 1 <= note.velocity <= 127


def test_block_size_does_not_change_offline_output(swiftf0_model: Path) -> None:
    sr = 48000
    audio = sung(sr, MELODY[:2], 1.8)
    results = []
    for block in (1, 333, 4096):
        with Engine(swiftf0_model) as eng:
            eng.prepare(sr, 512, realtime=False)
            events = []
            for s in range(0, audio.size, block):
                events += eng.process(audio[s : s + block])
            events += eng.flush()
            results.append(events)
    assert len(results[0]) >= 4
    assert results[0] == results[1] == results[2]


def test_params_scale_and_channel(swiftf0_model: Path) -> None:
    sr = 48000
    # C#4 sung, C major: snapped to C4 or D4, never C#.
    notes_events = []
    with Engine(swiftf0_model) as eng:
        eng.set_param("scale", "major")
        eng.set_param("key_root", 0)
        eng.set_param("midi_channel", 5)
        eng.set_param("velocity_mode", "fixed")
        eng.set_param("fixed_velocity", 77)
        assert eng.get_param("midi_channel") == 5
        eng.prepare(sr, 1024)
        notes_events = eng.process(sung(sr, [(61, 0.2, 0.8)], 1.2)) + eng.flush()
    ons = [e for e in notes_events if e.type == EventType.NOTE_ON]
    assert len(ons) == 1
    assert ons[0].note in (60, 62) and ons[0].channel == 5 and ons[0].velocity == 77


def test_bad_input_gives_clear_errors(swiftf0_model: Path, tmp_path: Path) -> None:
    with Engine() as eng:
        with pytest.raises(ModelError, match="not found.*vocalmidi models pull"):
            eng.load_model(tmp_path / "missing.onnx")
        corrupt = tmp_path / "corrupt.onnx"
        corrupt.write_bytes(b"\x08\x01this is not a protobuf model" * 10)
        with pytest.raises(ModelError, match="not a loadable ONNX model"):
            eng.load_model(corrupt)
        with pytest.raises(ModelError, match="unknown model kind"):
            eng.load_model(swiftf0_model, kind="nope")
        with pytest.raises(UsageError, match="sensitivity must be between"):
            eng.set_param("sensitivity", 3.0)
        with pytest.raises(UsageError, match="unknown parameter"):
            eng.set_param("wobble", 1.0)
        with pytest.raises(UsageError, match="prepare"):
            eng.process(np.zeros(10, np.float32))
        eng.prepare(48000, 256)
        with pytest.raises(AudioInputError, match="mono"):
            eng.process(np.zeros((10, 2), np.float32))
        # No model loaded: audio passes, no notes, no crash.
        assert eng.process(sung(48000, MELODY[:1], 1.0)) == []
    with pytest.raises(AudioInputError):
        transcribe_array(np.zeros(0, np.float32), 48000, swiftf0_model)


def test_nan_and_silence_are_harmless(swiftf0_model: Path) -> None:
    sr = 48000
    audio = sung(sr, MELODY[:1], 1.2)
    audio[10000:10100] = np.nan
    audio[20000:20010] = np.inf
    notes = transcribe_array(np.concatenate([np.zeros(sr, np.float32), audio]), sr, swiftf0_model)
    assert [n.pitch for n in notes] == [57]
    assert transcribe_array(np.zeros(sr * 2, np.float32), sr, swiftf0_model) == []


def test_stats_and_latency(swiftf0_model: Path) -> None:
    with Engine(swiftf0_model) as eng:
        eng.prepare(48000, 64, realtime=True)
        fast = eng.latency_samples
        eng.set_param("latency_mode", "accurate")
        assert eng.latency_samples > fast > 0
        audio = sung(48000, MELODY[:1], 1.0)
        for s in range(0, audio.size, 64):
            eng.process(audio[s : s + 64])
        stats = eng.stats()
        eng.release()
    assert stats["timers"]["audio_block"]["count"] == audio.size // 64 + (audio.size % 64 > 0)
    assert stats["latency"]["algorithmic_samples"] > 0
    assert stats["threads"]["audio_priority_inversions"] == 0
    assert stats["model"]["state"] == "ready"
    assert "CPUExecutionProvider" in onnxruntime_info()["providers"]


def test_events_to_notes_pairs_and_subtracts_latency() -> None:
    from vocalmidi.engine import EngineEvent

    ev = [
        EngineEvent(EventType.NOTE_ON, 1000, 1, 60, 90),
        EngineEvent(EventType.NOTE_OFF, 3000, 1, 60),
        EngineEvent(EventType.NOTE_ON, 4000, 1, 62, 80),
    ]
    notes = events_to_notes(ev, 1000.0, latency_samples=500)
    assert [(n.start, n.end, n.pitch, n.velocity) for n in notes] == [
        (0.5, 2.5, 60, 90),
        (3.5, 3.5, 62, 80),
    ]


REPEATS = [67] * 4 + [69] * 3 + [64] * 4 + [67] * 3  # "la-la-la" on one note, then the next


@pytest.mark.parametrize(("soundfont", "at_least"), [("timgm6mb", 12), ("fluidr3", 8)])
def test_repeated_syllables_on_one_pitch_are_separate_notes_in_accurate_mode(
    swiftf0_model: Path, soundfont: str, at_least: int
) -> None:
    # Sung Voice Oohs, 0.4 s apart: each repeat follows a 40-120 ms breath that the previous
    # note's release bridges, and half of them scoop in from below. Before the re-attack
    # rule for sharp attacks these came out as one long note per pitch (4 and 6 of 14
    # found; now 13 and 9).
    from vocalmidi.eval.metrics import score_clip
    from vocalmidi.eval.render import render_take
    from vocalmidi.notes import Note

    score = [Note(0.5 + 0.4 * i, 0.88 + 0.4 * i, p, 100) for i, p in enumerate(REPEATS)]
    audio, truth = render_take(score, soundfont=soundfont, patch="voice_oohs", style="sung",
                               seed=1, sample_rate=48000)
    notes = transcribe_array(audio, 48000, swiftf0_model, latency_mode="accurate")
    found = score_clip(truth, notes, len(audio) / 48000).hits_50  # onset within 50 ms, pitch
    assert found >= at_least, [(round(n.start, 3), n.pitch) for n in notes]
    assert len(notes) <= len(truth) + 1
