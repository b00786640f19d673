"""The plugin window under Xvfb: it opens in a host, and the Standalone shows and paints it.

The Standalone runs on a private X display and JACK server (vocalmidi.hosts.standalone); its
window is read back from the display's frame buffer. What a user would see is checked:
the window is there at the editor's size, drawn in the editor's colours with text on it,
the status light turns green once the model is loaded, and notes appear on the piano
roll when someone sings into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_plugin_support import model_cache, swiftf0_onnx, use_cache  # noqa: F401 (fixtures)

from vocalmidi import native
from vocalmidi.hosts.standalone import StandaloneRun
from vocalmidi.hosts.xdisplay import VirtualDisplay

pytestmark = pytest.mark.jack

EDITOR_SIZE = (760, 440)  # VocalMidiEditor's initial size
BACKGROUND = (0x10, 0x13, 0x17)  # its background colour
# What the editor paints most: background, control panel, the piano roll's white- and
# black-key rows (VocalMidiEditor.cpp, PianoRollView.cpp). The background alone is ~10 % of
# the window and moves with the status text, so the check counts the whole palette.
PALETTE = (BACKGROUND, (0x18, 0x1C, 0x22), (0x20, 0x25, 0x2D), (0x17, 0x1A, 0x20))
STATUS_READY = (0x3D, 0xDC, 0x97)  # the status light when the model runs
STATUS_FAILED = (0xFF, 0x5C, 0x5C)  # ... when it cannot load (the text says why and the fix)


def sung_phrase(sr: int = 48000) -> np.ndarray:
    """Three sung notes (A3, C#4, E4) with vibrato, 0.6 s each with breaths between."""
    parts = [np.zeros(sr // 4, np.float32)]
    for f0 in (220.0, 277.18, 329.63):
        t = np.arange(int(0.6 * sr)) / sr
        freq = f0 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(freq) / sr
        env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (t[-1] - t) / 0.04)
        parts.append((0.3 * env * sum(0.5 / k * np.sin(k * phase) for k in range(1, 8)))
                     .astype(np.float32))
        parts.append(np.zeros(sr // 5, np.float32))
    return np.concatenate(parts)


def near(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 6) -> np.ndarray:
    """Mask of the pixels within ``tol`` of ``colour`` in every channel."""
    return (np.abs(rgb.astype(int) - colour) <= tol).all(axis=-1)


def has_colour(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 6) -> int:
    """How many pixels are within ``tol`` of ``colour`` in every channel."""
    return int(near(rgb, colour, tol).sum())


def vivid(rgb: np.ndarray) -> np.ndarray:
    """Mask of saturated, bright pixels: the note bars (HSV s=0.7, v=0.95) and meters."""
    hi, lo = rgb.max(axis=-1).astype(int), rgb.min(axis=-1).astype(int)
    return (hi > 180) & (hi - lo > 0.5 * hi)


@pytest.mark.usefixtures("use_cache")
def test_editor_opens_in_our_host_under_xvfb() -> None:
    # In a child process: JUCE keeps its X connection for the life of the process, and
    # Xlib ends a process whose display went away.
    code = ("from vocalmidi import native; from vocalmidi.hosts import PluginHost\n"
            "with PluginHost(native.vst3_path()) as h:\n"
            "    h.prepare(48000, 512, channels=1); print(*h.editor_size())\n")
    with VirtualDisplay(1024, 768) as display:
        run = subprocess.run([sys.executable, "-c", code], env=display.env, timeout=120,
                             capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert tuple(map(int, run.stdout.split()[-2:])) == EDITOR_SIZE


@pytest.mark.slow
@pytest.mark.usefixtures("use_cache")
def test_standalone_shows_its_window_and_paints_the_notes_sung() -> None:
    program = native.plugin_paths().standalone
    assert program is not None, "the Standalone was not built"
    with StandaloneRun(program, cache=os.environ["VOCALMIDI_CACHE"]) as run:
        assert run.inputs, "the Standalone opened no JACK input"
        before = run.window()
        run.play(sung_phrase())
        run.play(np.zeros(48000 // 2, np.float32))  # let the last note end and be drawn
        after = run.window()

    height, width = before.shape[:2]
    # The editor in the Standalone's frame and title bar (JUCE draws them: no window manager).
    assert EDITOR_SIZE[0] <= width <= EDITOR_SIZE[0] + 16
    assert EDITOR_SIZE[1] < height < EDITOR_SIZE[1] + 60
    # Painted by the editor: mostly its own colours, with text and controls on it.
    painted = int(np.any([near(before, colour, tol=2) for colour in PALETTE], axis=0).sum())
    assert painted > 0.6 * width * height, f"{painted} of {width * height} pixels in its colours"
    assert has_colour(before, BACKGROUND, tol=2) > 0.05 * width * height
    assert len(np.unique(before.reshape(-1, 3), axis=0)) > 100
    top_bar = after[: height // 6]
    assert has_colour(top_bar, STATUS_READY) > 20, "the status light is not green (model ready)"
    # The piano roll (the window's middle) shows the sung notes as coloured bars.
    roll = (slice(height // 4, 3 * height // 4), slice(60, width - 60))
    new_bars = vivid(after[roll]) & ~vivid(before[roll])
    assert new_bars.sum() > 500, f"only {new_bars.sum()} new note pixels on the roll"


@pytest.mark.slow
def test_standalone_without_a_model_says_so_and_stays_usable(tmp_path: Path) -> None:
    program = native.plugin_paths().standalone
    assert program is not None, "the Standalone was not built"
    with StandaloneRun(program, cache=tmp_path / "empty-cache") as run:
        before = run.window()
        run.play(sung_phrase())
        after = run.window()
    height, width = after.shape[:2]
    top_bar = after[: height // 6]
    assert has_colour(top_bar, STATUS_FAILED) > 20, "the status light is not red"
    assert not has_colour(top_bar, STATUS_READY)
    roll = (slice(height // 4, 3 * height // 4), slice(60, width - 60))
    assert (vivid(after[roll]) & ~vivid(before[roll])).sum() < 50, "notes without a model"
