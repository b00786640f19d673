"""JUCE's hosting API from Python through cppyy (vocalmidi.hosts.juce).

Each check runs in a fresh interpreter: cppyy must start with the precompiled header the
module chooses (before anything imports cppyy), and a crash in Cling must fail one test,
not the run. The scan example is run as a user runs it, on our VST3 and LV2 and on
Debian's x42 LV2 plugins (x42-plugins, in the Makefile's APT_PACKAGES).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vocalmidi import native

REPO = Path(__file__).resolve().parents[2]
LV2_DIR = Path("/usr/lib/lv2")
X42_BUNDLES = [LV2_DIR / "onsettrigger.lv2", LV2_DIR / "fil4.lv2", LV2_DIR / "tuna.lv2"]

if importlib.util.find_spec("cppyy") is None:  # the `juce` extra (also in `dev`)
    pytest.skip("cppyy is not installed", allow_module_level=True)


def run_python(code: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def run_json(code: str) -> dict:
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_hosting_types_and_our_host_classes_are_there() -> None:
    got = run_json("""
        import json
        from vocalmidi.hosts import juce
        cpp = juce.load()
        names = ["AudioPluginFormatManager", "KnownPluginList", "PluginDescription",
                 "AudioPluginInstance", "MidiBuffer"]
        found = {n: hasattr(cpp.juce, n) for n in names}
        found["AudioBuffer<float>"] = cpp.juce.AudioBuffer["float"](2, 16).getNumSamples() == 16
        for n in ("HostedPlugin", "HostContext", "TransportPlayHead"):
            found[n] = hasattr(cpp.host, n)
        formats = cpp.juce.AudioPluginFormatManager()
        formats.addDefaultFormats()
        found["formats"] = sorted(juce.pystring(formats.getFormat(i).getName())
                                  for i in range(formats.getNumFormats()))
        print(json.dumps(found))
    """)
    assert all(got.pop(k) for k in list(got) if k != "formats"), got
    assert {"VST3", "LV2"} <= set(got["formats"])


@pytest.mark.slow
def test_numpy_audio_crosses_without_a_copy_and_midi_comes_back() -> None:
    """Kicks into x42's onset trigger through HostedPlugin: note-ons at the kicks."""
    got = run_json("""
        import json
        import numpy as np
        from vocalmidi.hosts import juce
        cpp = juce.load()
        import cppyy
        import cppyy.ll
        SR = 48000
        x = np.zeros((1, SR), np.float32)
        t = np.arange(int(0.1 * SR)) / SR
        for start in (0.2, 0.6):
            i = int(start * SR)
            x[0, i:i + t.size] = 0.8 * np.sin(2 * np.pi * 60 * t) * np.exp(-t * 30)

        # An AudioBuffer over the array's own memory: JUCE writes into numpy.
        y = np.ones((2, 64), np.float32)
        ptrs = juce.channel_pointers(y)
        buf = cpp.juce.AudioBuffer["float"](ptrs.ptr, 2, 64)
        buf.applyGain(0.25)
        same_memory = cppyy.ll.addressof(buf.getWritePointer(1)) == y[1].ctypes.data

        plugin = cpp.host.HostedPlugin()  # on the thread that called load(): JUCE's message thread
        rc = plugin.load(juce.jstring("/usr/lib/lv2/onsettrigger.lv2"),
                         juce.jstring("Onset Trigger - Bassdrum Detection Mono"))
        assert rc == 0, plugin.lastError()
        plugin.setNonRealtime(True)
        assert plugin.prepare(SR, 512, 1, 1) == 0, plugin.lastError()
        out = np.zeros_like(x)
        sizes = np.array([512], np.int32)
        null = cppyy.nullptr  # no MIDI in
        assert plugin.process(x, out, x.shape[1], sizes, 1, null, 0, null) >= 0
        ons = [m.sample for m in juce.midi_out(plugin) if m.is_note_on]
        print(json.dumps({"gain": y.tolist()[0][:2], "same": bool(same_memory), "ons": ons}))
    """)
    assert got["gain"] == [0.25, 0.25] and got["same"]
    assert len(got["ons"]) == 2
    for on, kick in zip(got["ons"], (0.2, 0.6), strict=True):
        assert 0 <= on - kick * 48000 < 0.05 * 48000, got["ons"]


def scan(*paths: Path | str) -> str:
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "scan_plugins.py"),
                           *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_scan_example_lists_our_plugins_buses_and_parameters() -> None:
    bundles = native.plugin_paths()
    out = scan(*(p for p in (bundles.vst3, bundles.lv2) if p is not None))
    for fmt in ("VST3", "LV2"):
        assert f"VocalMIDI [{fmt}]" in out
    assert "'Sensitivity'" in out and "'Latency Mode'" in out
    assert "MIDI out: True" in out
    assert "in  bus 0" in out and "out bus 0" in out


@pytest.mark.slow
def test_scan_example_lists_x42_lv2_plugins_from_a_folder() -> None:
    out = scan(LV2_DIR, "--match", "onset")
    assert "Onset Trigger - Bassdrum Detection Mono [LV2]" in out
    assert "MIDI out: True" in out
    out = scan(*X42_BUNDLES)
    assert "x42-eq - Parametric Equalizer Mono [LV2]" in out
    assert "Tuner" in out and "param" in out
