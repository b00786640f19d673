"""The plugin's Device parameter (Auto / CPU / CUDA) through our JUCE host: a setting, not
automatable, kept in the state, and CUDA on a machine without one falls back to the CPU
with the notes unchanged and the status line saying so.

These tests run without a GPU; on a machine with one (and a CUDA build of ONNX Runtime
beside the plugin) the fallback test is skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pedalboard
import pytest
from test_host_vocalmidi import A3, E4, SR, notes_of, phrase, settled
from test_plugin_support import (  # noqa: F401 (fixtures)
    juce_binary,
    model_cache,
    plugin_blob,
    swiftf0_onnx,
    use_cache,
    with_plugin_blob,
)

from vocalmidi import native
from vocalmidi.device import gpu_names
from vocalmidi.hosts import PluginHost
from vocalmidi.hosts.xdisplay import VirtualDisplay

STATUS_READY = (0x3D, 0xDC, 0x97)  # the editor's status light: the model runs as chosen
STATUS_FALLBACK = (0xFF, 0x9F, 0x43)  # ... runs, but on the CPU although CUDA was chosen


@pytest.fixture
def vst3(request: pytest.FixtureRequest) -> Path:
    """The built VocalMIDI.vst3, with VOCALMIDI_CACHE pointing at a cache holding SwiftF0."""
    request.getfixturevalue("use_cache")
    return native.vst3_path()


def test_device_is_a_choice_that_hosts_cannot_automate(vst3: Path) -> None:
    # What a DAW reads: VST3's kCanAutomate flag, per parameter, through JUCE's hosting.
    with PluginHost(vst3) as host:
        device = host.parameters["Device"]
        assert (device.text, device.num_steps) == ("Auto", 3)
        assert [host.parameter_text("Device", v) for v in (0.0, 0.5, 1.0)] == [
            "Auto", "CPU", "CUDA"]
        assert not device.automatable
        assert host.parameters["Sensitivity"].automatable  # the musical ones stay so
        assert host.parameters["Model"].automatable
    # pedalboard, another JUCE-based host, sees the same.
    automatable = {p.name: p.is_automatable for p in pedalboard.load_plugin(str(vst3))._parameters}
    assert automatable["Device"] is False and automatable["Sensitivity"]


def test_device_survives_a_state_round_trip_and_old_states_load(vst3: Path) -> None:
    with PluginHost(vst3) as host:
        host.set_parameter("Device", "CUDA")
        host.set_parameter("Scale", "Dorian")
        state = host.get_state()
    assert re.search(rb'<PARAM id="device" value="2(\.0*)?"/>', plugin_blob(state))
    with PluginHost(vst3) as other:
        assert other.parameters["Device"].text == "Auto"
        other.set_state(state)
        assert other.parameters["Device"].text == "CUDA"
        assert other.parameters["Scale"].text == "Dorian"
        # States saved before the parameter existed (both versions) load, with Auto.
        for old in ('<VocalMIDI version="2"><PARAM id="scale" value="Minor"/></VocalMIDI>',
                    '<VocalMIDI version="1" scale="Minor" model="swiftf0"/>'):
            other.set_state(with_plugin_blob(state, juce_binary(old)))
            assert other.parameters["Scale"].text == "Minor", old
            assert other.parameters["Device"].text == "Auto", old


def _bounce(vst3: Path, device: str) -> list[tuple[int, int, int]]:
    with PluginHost(vst3) as host:
        host.set_parameter("Device", device)
        host.prepare(SR, 512, channels=1)
        _, midi = host.process(phrase()[0], realtime=False)
        return notes_of(midi)


# A child process on Xvfb (JUCE keeps its X connection for the life of a process): bounce a
# take with Device set to argv[3], then show the editor and read the screen back. The atoms
# a window manager would create are interned first (see test_plugin_model_switch.py).
_STATUS_SCRIPT = """
import sys, threading
import numpy as np
from test_host_vocalmidi import SR, notes_of, phrase
from vocalmidi import native
from vocalmidi.hosts import PluginHost
from vocalmidi.hosts.xdisplay import intern_window_manager_atoms, read_xwd

wm = intern_window_manager_atoms()

screen, out, device = sys.argv[1], sys.argv[2], sys.argv[3]
with PluginHost(native.vst3_path()) as host:
    host.set_parameter("Device", device)
    host.prepare(SR, 512, channels=1)
    _, midi = host.process(phrase()[0], realtime=False)
    shot = {}
    grab = threading.Timer(1.5, lambda: shot.__setitem__("screen", read_xwd(screen)))
    grab.start()
    host.show_editor(2500)
    grab.join()
np.savez(out, screen=shot["screen"], notes=np.array(notes_of(midi)))
"""


def _status(device: str, tmp_path: Path) -> tuple[np.ndarray, list[tuple[int, int, int]], str]:
    """(the editor's top bar, the notes of the bounce, the plugin's stderr) for ``device``."""
    out = tmp_path / f"{device}.npz"
    with VirtualDisplay(1024, 768) as display:
        run = subprocess.run(
            [sys.executable, "-c", _STATUS_SCRIPT, str(display.screen_file), str(out), device],
            env={**display.env, "PYTHONPATH": str(Path(__file__).parent)},
            timeout=180, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    with np.load(out) as z:
        return (z["screen"][:40, :760].astype(int),  # the window is at (0, 0)
                [tuple(int(v) for v in n) for n in z["notes"]], run.stderr)


def _pixels(rgb: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((np.abs(rgb - colour) <= 6).all(axis=-1).sum())


@pytest.mark.slow
@pytest.mark.skipif(bool(gpu_names()), reason="this machine has a GPU")
def test_cuda_without_a_gpu_sends_the_same_notes_and_reports_the_cpu(
        vst3: Path, tmp_path: Path) -> None:
    cpu, cuda = _bounce(vst3, "CPU"), _bounce(vst3, "CUDA")
    assert [n for _, _, n in settled(cpu)] == [A3, E4]
    assert cuda == cpu  # same model, same CPU provider: the same notes, sample for sample

    bar, notes, err = _status("CUDA", tmp_path)
    assert notes == cpu
    assert _pixels(bar, STATUS_FALLBACK) > 20, "the status light is not amber (fallback)"
    assert not _pixels(bar, STATUS_READY)
    assert ("VocalMIDI: vocalnote-s: CUDA unavailable (no NVIDIA GPU found), running on the CPU"
            in err)

    bar, _, err = _status("Auto", tmp_path)  # Auto on a CPU-only machine is no fallback
    assert _pixels(bar, STATUS_READY) > 20 and not _pixels(bar, STATUS_FALLBACK)
    assert "CUDA unavailable" not in err
