"""The VocalMIDI VST3 as a host sees it: pedalboard loads it headless (offline rendering).

pedalboard drops MIDI output, so these tests check what it can see: parameters, the audio
path (dry pass-through, guide tone), latency reporting, state, robustness.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pedalboard
import pytest
from test_plugin_support import juce_binary, plugin_blob, with_plugin_blob, write_cache

# Fixtures: model_cache, swiftf0_onnx, use_cache, vst3_path.
pytest_plugins = ("test_plugin_support",)

SR = 48000
EXPECTED_PARAMETERS = {
    "input_gain_db", "sensitivity", "min_note_length_ms", "pitch_bend", "bend_range_semitones",
    "key", "scale", "velocity_mode", "velocity_curve", "fixed_velocity", "midi_channel",
    "lowest_note", "highest_note", "model", "latency_mode", "monitor_mix", "bypass",
}


def sung(seconds: float = 2.0, f0: float = 220.0, sr: int = SR) -> np.ndarray:
    """A voice-like test signal: a harmonic tone with vibrato, stereo float32."""
    t = np.arange(int(seconds * sr)) / sr
    freq = f0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    x = sum((0.5 / k) * np.sin(k * phase) for k in range(1, 8))
    env = np.minimum(1.0, t / 0.05) * np.minimum(1.0, (t[-1] - t) / 0.05)
    mono = (0.3 * x * env).astype(np.float32)
    return np.stack([mono, mono])


def load(path: Path) -> pedalboard.ExternalPlugin:
    """Load the plugin and let pedalboard learn its latency at SR.

    pedalboard reads a VST3's latency before the plugin's prepareToPlay and never pumps the
    restartComponent(kLatencyChanged) that follows, so it learns a latency that depends on
    the sample rate one render later (its load-time probe runs at 44.1 kHz). DAWs handle the
    restart; here one short render at SR does.
    """
    plugin = pedalboard.load_plugin(str(path))
    plugin(np.zeros((2, 256), np.float32), SR)
    return plugin


def test_parameters_have_names_units_and_no_cc_flood(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    names = set(plugin.parameters)
    assert EXPECTED_PARAMETERS <= names
    assert len(names) < 50  # no thousands of MIDI-CC emulation parameters
    assert plugin.parameters["input_gain_db"].label == "dB"
    assert plugin.parameters["min_note_length_ms"].label == "ms"
    assert set(plugin.parameters["model"].valid_values) >= {"swiftf0", "crepe-tiny", "pesto"}
    assert "Blues" in plugin.parameters["scale"].valid_values


def test_parameters_set_by_name(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.input_gain_db = -6.0
    plugin.scale = "Dorian"
    plugin.key = "D"
    plugin.midi_channel = 10
    plugin.pitch_bend = "Continuous"
    plugin.latency_mode = "Accurate"
    assert plugin.input_gain_db == pytest.approx(-6.0, abs=0.1)
    assert plugin.scale == "Dorian"
    assert plugin.key == "D"
    assert plugin.midi_channel == 10
    assert plugin.pitch_bend == "Continuous"
    assert plugin.latency_mode == "Accurate"


def test_dry_audio_passes_unchanged_and_aligned(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    audio = sung()
    out = plugin(audio, SR)
    # The plugin reports the model's latency and delays the dry path by as much; pedalboard
    # compensates it, so what comes out is the input, sample for sample.
    assert plugin.reported_latency_samples > 0
    assert out.shape == audio.shape
    np.testing.assert_allclose(out, audio, atol=1e-6)


def test_latency_follows_the_latency_mode(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin(sung(0.2), SR)
    fast = plugin.reported_latency_samples
    plugin.latency_mode = "Accurate"
    plugin(sung(0.2), SR)
    accurate = plugin.reported_latency_samples
    assert 0 < fast < SR // 2
    assert accurate >= fast


def test_nan_input_gives_finite_output(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.monitor_mix = 50
    audio = sung(1.0)
    audio[:, 1000:3000] = np.nan
    audio[:, 5000] = np.inf
    out = plugin(audio, SR)
    assert np.all(np.isfinite(out))
    # and it keeps working after the garbage
    clean = plugin(sung(1.0), SR)
    assert np.all(np.isfinite(clean)) and np.abs(clean).max() > 0.01


def test_guide_tone_follows_the_sung_pitch(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.monitor_mix = 100  # guide tone only
    audio = sung(2.0, f0=220.0)
    out = plugin(audio, SR)[0, SR // 2 : 3 * SR // 2]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    freqs = np.fft.rfftfreq(len(out), 1 / SR)
    assert abs(freqs[np.argmax(spectrum)] - 220.0) < 8.0
    # A sine: the voice's harmonics are gone.
    fundamental = spectrum[(freqs > 200) & (freqs < 240)].max()
    harmonics = spectrum[(freqs > 420) & (freqs < 1800)].max()
    assert harmonics < fundamental / 30


def test_offline_output_is_the_same_for_any_block_size(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.monitor_mix = 100  # the output depends on every pitch the engine found
    audio = sung(1.0)
    reference = plugin(audio, SR, buffer_size=512)
    assert np.abs(reference).max() > 0.05
    for block in (1, 127, 4096, 48000):
        np.testing.assert_allclose(plugin(audio, SR, buffer_size=block), reference, atol=1e-6)


def test_state_round_trips(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.scale = "Blues"
    plugin.key = "F#"
    plugin.min_note_length_ms = 120.0
    plugin.model = "pesto"
    saved = plugin.raw_state
    other = load(vst3_path)
    assert other.scale == "Chromatic"
    other.raw_state = saved
    assert other.scale == "Blues"
    assert other.key == "F#"
    assert other.min_note_length_ms == pytest.approx(120.0, abs=1.0)
    assert other.model == "pesto"
    assert plugin_blob(saved).startswith(juce_binary('<?xml')[:4])
    assert b'<VocalMIDI version="2">' in plugin_blob(saved)


def test_older_state_version_still_loads(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    v1 = '<VocalMIDI version="1" scale="Minor" keyRoot="9" midiChannel="3" model="crepe-tiny"/>'
    plugin.raw_state = with_plugin_blob(plugin.raw_state, juce_binary(v1))
    assert plugin.scale == "Minor"
    assert plugin.key == "A"
    assert plugin.midi_channel == 3
    assert plugin.model == "crepe-tiny"


@pytest.mark.parametrize(
    "blob",
    [
        b"\x00\x01garbage" * 10,
        juce_binary("<SomeOtherPlugin version='3' scale='Blues'/>"),
        juce_binary("<VocalMIDI version='2'><PARAM id='scale' value='NaN'/>"),  # truncated
        b"",
    ],
)
def test_corrupt_or_foreign_state_is_ignored(use_cache: Path, vst3_path: Path, blob: bytes) -> None:
    plugin = load(vst3_path)
    plugin.scale = "Lydian"
    plugin.raw_state = with_plugin_blob(plugin.raw_state, blob)
    assert plugin.scale == "Lydian"  # kept its settings
    out = plugin(sung(0.5), SR)
    np.testing.assert_allclose(out, sung(0.5), atol=1e-6)


def test_missing_model_keeps_audio_passing(tmp_path: Path, vst3_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCALMIDI_CACHE", str(tmp_path / "empty"))
    plugin = load(vst3_path)
    audio = sung(1.0)
    np.testing.assert_allclose(plugin(audio, SR), audio, atol=1e-6)


def test_corrupt_model_keeps_audio_passing(tmp_path: Path, vst3_path: Path, swiftf0_onnx: bytes,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_cache(tmp_path, "swiftf0", "swiftf0", swiftf0_onnx, "model.onnx")
    path.write_bytes(swiftf0_onnx[:-100] + bytes(100))  # same size, wrong bytes
    monkeypatch.setenv("VOCALMIDI_CACHE", str(tmp_path))
    plugin = load(vst3_path)
    plugin.monitor_mix = 100  # a guide tone would need a pitch: there must be none
    audio = sung(1.0)
    out = plugin(audio, SR)
    assert np.abs(out).max() < 1e-6


def test_several_instances_run_at_once(use_cache: Path, vst3_path: Path) -> None:
    audio = sung(1.0)
    plugins = [load(vst3_path) for _ in range(3)]
    for p in plugins:
        p.monitor_mix = 100
    expected = plugins[0](audio, SR)
    results: list[np.ndarray | None] = [None] * len(plugins)

    def run(i: int) -> None:
        results[i] = plugins[i](audio, SR, buffer_size=256 + i * 37)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(plugins))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r is not None
        np.testing.assert_allclose(r, expected, atol=1e-6)


def test_bypass_passes_audio_and_no_guide(use_cache: Path, vst3_path: Path) -> None:
    plugin = load(vst3_path)
    plugin.monitor_mix = 100
    plugin.bypass = True
    audio = sung(1.0)
    np.testing.assert_allclose(plugin(audio, SR), audio, atol=1e-6)
