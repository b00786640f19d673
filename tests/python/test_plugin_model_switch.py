"""Switching the plugin's model while it runs: latency, dry path and the offline-only model.

A host must learn the new latency when the Model parameter changes, and the dry audio must
then be delayed by exactly that much (else delay compensation misaligns the track). The
models are the manifest's, pulled into the shared test cache (``conftest.model_cache``):
pesto is converted from its recipe with torch on the first pull (about 8 s), later pulls
only re-check its SHA-256.

basic-pitch runs only when the host renders offline. A host that bounces with it and then
goes back to live playback must get an instance that stays usable: no notes, the dry audio
undelayed, a red status line that says why and what to choose instead, and notes again on
the next bounce.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pedalboard
import pytest
from test_host_vocalmidi import A3, SR, tone

from vocalmidi import native
from vocalmidi.hosts import PluginHost
from vocalmidi.hosts.xdisplay import VirtualDisplay

BLOCK = 480
NOISE = (0.1 * np.random.default_rng(7).standard_normal(SR)).astype(np.float32)


@pytest.fixture(scope="module")
def models(model_cache: Path) -> Path:
    """The test cache with swiftf0, pesto and basic-pitch pulled and verified."""
    from vocalmidi.models import pull

    pull(["swiftf0", "pesto", "basic-pitch"], cache=model_cache)
    return model_cache


@pytest.fixture
def host(models: Path) -> Iterator[PluginHost]:
    with PluginHost(native.vst3_path()) as h:
        h.prepare(SR, 4096, channels=1)
        yield h


@functools.cache
def fresh_latency(model: str) -> int:
    """The latency an instance started with ``model`` reports (the model's own value)."""
    with PluginHost(native.vst3_path()) as h:
        h.set_parameter("Model", model)
        h.prepare(SR, 4096, channels=1)
        h.process(NOISE[:BLOCK], BLOCK, realtime=False)
        return h.latency_samples


def assert_dry_delayed_by(host: PluginHost, latency: int, realtime: bool) -> None:
    """One second of noise through the plugin comes out ``latency`` samples later."""
    out, _ = host.process(NOISE, BLOCK, realtime=realtime)
    assert latency < SR // 2
    # The delay line holds earlier input for the first `latency` samples: compare after it.
    np.testing.assert_array_equal(out[latency:], NOISE[: NOISE.size - latency])


def run_live_until(host: PluginHost, done: Callable[[], bool], seconds: float = 20.0) -> None:
    """Process silence live, with the host's message loop running, until ``done()``."""
    for _ in range(int(seconds * SR / 4800)):
        host.process(np.zeros(4800, np.float32), BLOCK, realtime=True)
        host.pump_messages(10)
        if done():
            return
    raise AssertionError(f"not reached in {seconds} s of live processing")


def test_offline_model_switch_reports_the_new_latency_and_delays_the_dry_path(
    host: PluginHost,
) -> None:
    ours, swift, pesto = (fresh_latency(m) for m in ("vocalnote-s", "swiftf0", "pesto"))
    assert pesto > swift > ours > 0  # each looks further ahead: every switch is visible
    host.process(NOISE[:BLOCK], BLOCK, realtime=False)
    assert host.latency_samples == ours  # the default model
    for model, latency in (("pesto", pesto), ("swiftf0", swift), ("vocalnote-s", ours)):
        host.set_parameter("Model", model)
        # The render waits for the model in its first block; the dry path follows there,
        # with no message loop running (as in a command-line bounce).
        assert_dry_delayed_by(host, latency, realtime=False)
        host.pump_messages(100)  # the host hears of the latency on its message thread
        assert host.latency_samples == latency, model


def test_live_model_switch_reports_the_new_latency_and_delays_the_dry_path(
    host: PluginHost,
) -> None:
    ours, swift, pesto = (fresh_latency(m) for m in ("vocalnote-s", "swiftf0", "pesto"))
    run_live_until(host, lambda: host.latency_samples == ours)  # the default model
    for model, latency in (("pesto", pesto), ("swiftf0", swift), ("vocalnote-s", ours)):
        host.set_parameter("Model", model)  # loads on the plugin's thread, audio keeps going
        run_live_until(host, lambda lat=latency: host.latency_samples == lat)
        assert_dry_delayed_by(host, latency, realtime=True)


def test_pedalboard_compensates_the_latency_of_the_chosen_model(models: Path) -> None:
    plugin = pedalboard.load_plugin(str(native.vst3_path()))
    audio = np.stack([NOISE, NOISE])
    plugin(audio[:, :256], SR)  # pedalboard learns a rate's latency one render late (docs)
    for model in ("pesto", "swiftf0", "pesto"):
        plugin.model = model
        out = plugin(audio, SR)  # the model loads before this offline render starts
        assert plugin.reported_latency_samples == fresh_latency(model), model
        # pedalboard shifts the output back by the reported latency: only a dry path
        # delayed by exactly that much comes out as the input.
        np.testing.assert_allclose(out, audio, atol=1e-6)


def test_basic_pitch_bounce_then_live_then_bounce(host: PluginHost) -> None:
    take = np.concatenate([np.zeros(SR // 4, np.float32), tone(1.0, 220.0),
                           np.zeros(5 * SR, np.float32)])  # its 3.9 s latency flushes the note
    host.set_parameter("Model", "basic-pitch")

    _, midi = host.process(take, BLOCK, realtime=False)
    bounce = [(m.sample, m.data) for m in midi]
    bounce_latency = host.latency_samples
    assert bounce_latency > 3 * SR  # the offline-only model runs: a 2 s window and more
    assert A3 in [m.note for m in midi if m.is_note_on]

    # Back to live playback: the engine refuses basic-pitch live. The instance stays usable:
    # no notes, and the dry audio is not held back for notes that will not come.
    run_live_until(host, lambda: host.latency_samples == 0)
    out, midi = host.process(take, BLOCK, realtime=True)
    assert not [m for m in midi if m.is_note_on]
    np.testing.assert_array_equal(out, take)

    # The next bounce runs basic-pitch again, as the first one did.
    _, midi = host.process(take, BLOCK, realtime=False)
    assert [(m.sample, m.data) for m in midi] == bounce
    host.pump_messages(100)
    assert host.latency_samples == bounce_latency


# Runs in a child process on Xvfb (JUCE keeps its X connection for the life of a process):
# bounce with basic-pitch, play live, bounce again, and look at the plugin's window each time.
# Without a window manager nobody creates the atoms JUCE's windows need (WM_PROTOCOLS,
# WM_STATE, ...): the child interns them and keeps that connection open, because Xvfb
# forgets its atoms whenever its last client leaves.
_STATUS_SCRIPT = """
import sys, threading
import numpy as np
from test_plugin_model_switch import BLOCK, SR, run_live_until, tone
from vocalmidi import native
from vocalmidi.hosts import PluginHost
from vocalmidi.hosts.xdisplay import intern_window_manager_atoms, read_xwd

wm = intern_window_manager_atoms()

screen, shots = sys.argv[1], {}
def look(host, name):  # the window is shown for 2.5 s; the screen is read after 1.5 s
    grab = threading.Timer(1.5, lambda: shots.__setitem__(name, read_xwd(screen)))
    grab.start()
    host.show_editor(2500)
    grab.join()

take = np.concatenate([np.zeros(SR // 4, np.float32), tone(1.0, 220.0),
                       np.zeros(5 * SR, np.float32)])
with PluginHost(native.vst3_path()) as host:
    host.prepare(SR, 4096, channels=1)
    host.set_parameter("Model", "basic-pitch")
    host.process(take, BLOCK, realtime=False)
    look(host, "bounce")
    run_live_until(host, lambda: host.latency_samples == 0)
    look(host, "live")
    host.process(take, BLOCK, realtime=False)
    look(host, "bounce_again")
np.savez(sys.argv[2], **shots)
"""
STATUS_READY = (0x3D, 0xDC, 0x97)  # the editor's status light (test_plugin_editor.py)
STATUS_FAILED = (0xFF, 0x5C, 0x5C)


def test_basic_pitch_live_turns_the_status_red_and_a_bounce_green_again(
    models: Path, tmp_path: Path
) -> None:
    shots = tmp_path / "shots.npz"
    with VirtualDisplay(1024, 768) as display:
        run = subprocess.run(
            [sys.executable, "-c", _STATUS_SCRIPT, str(display.screen_file), str(shots)],
            env={**display.env, "PYTHONPATH": str(Path(__file__).parent)},
            timeout=180, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    with np.load(shots) as screens:
        for name, light in (("bounce", STATUS_READY), ("live", STATUS_FAILED),
                            ("bounce_again", STATUS_READY)):
            top_bar = screens[name][:40, :760].astype(int)  # the window is at (0, 0)
            other = STATUS_FAILED if light == STATUS_READY else STATUS_READY
            assert (np.abs(top_bar - light) <= 6).all(axis=-1).sum() > 20, name
            assert not (np.abs(top_bar - other) <= 6).all(axis=-1).any(), name


@pytest.mark.parametrize("bundle", ["vst3", "lv2"])
def test_program_names_are_not_empty(models: Path, bundle: str) -> None:
    path = native.vst3_path() if bundle == "vst3" else native.plugin_paths().lv2
    with PluginHost(path) as h:
        assert h.programs and all(name.strip() for name in h.programs), h.programs
