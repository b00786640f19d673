"""A private X display (Xvfb) whose screen can be read as an image.

Windows (the plugin editor, the Standalone) open and paint on it without a monitor.
Xvfb keeps its frame buffer in a memory-mapped XWD file (``-fbdir``), so a screenshot is
a read of that file: no screenshot tool is needed.

Examples
--------
>>> with VirtualDisplay(1024, 768) as display:                      # doctest: +SKIP
...     subprocess.Popen(["xclock"], env=display.env)
...     rgb = display.screenshot()                                  # (768, 1024, 3) uint8
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from vocalmidi.child_process import end_child
from vocalmidi.errors import BackendUnavailableError

__all__ = ["VirtualDisplay", "read_xwd", "save_png"]


def intern_window_manager_atoms() -> int:
    """Intern the atoms a window manager would create (WM_PROTOCOLS, WM_STATE, ...) on the
    display of ``$DISPLAY`` and keep that connection open; returns it.

    Why: without a window manager nobody creates the atoms JUCE's windows need, and Xvfb
    forgets its atoms whenever its last client leaves, so a process that shows a JUCE
    editor on a bare Xvfb calls this first and keeps the connection for its life.
    """
    import ctypes
    import ctypes.util

    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    wm = x11.XOpenDisplay(None)
    for atom in (b"WM_PROTOCOLS", b"WM_DELETE_WINDOW", b"WM_TAKE_FOCUS", b"_NET_WM_PING",
                 b"WM_STATE", b"WM_CHANGE_STATE"):
        x11.XInternAtom(wm, atom, 0)
    return wm


def read_xwd(path: str | Path) -> np.ndarray:
    """Read a TrueColor XWD image (as Xvfb writes its screen) into RGB uint8, (h, w, 3)."""
    data = Path(path).read_bytes()
    header = np.frombuffer(data[:100], ">u4")
    header_size, width, height = int(header[0]), int(header[4]), int(header[5])
    byte_order, bits_per_pixel, bytes_per_line = int(header[7]), int(header[11]), int(header[12])
    masks = [int(m) for m in header[14:17]]
    ncolors = int(header[19])
    if bits_per_pixel != 32:
        raise ValueError(f"{path}: {bits_per_pixel}-bit pixels; run Xvfb with depth 24")
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data, "<u4" if byte_order == 0 else ">u4", height * bytes_per_line // 4,
                         start).reshape(height, bytes_per_line // 4)[:, :width]
    channels = []
    for mask in masks:
        shift = (mask & -mask).bit_length() - 1
        channels.append(((rows & mask) >> shift).astype(np.uint8))
    return np.stack(channels, axis=-1)


def save_png(rgb: np.ndarray, path: str | Path) -> Path:
    """Write an (h, w, 3) uint8 image as PNG."""
    import matplotlib.image

    path = Path(path)
    matplotlib.image.imsave(path, np.ascontiguousarray(rgb))
    return path


class VirtualDisplay:
    """``Xvfb`` on a free display number, black background, 24-bit colour.

    Parameters
    ----------
    width, height : int
        Screen size in pixels.
    timeout : float
        Seconds to wait for the server to accept clients.

    Attributes
    ----------
    display : str
        The ``DISPLAY`` value, e.g. ``":7"`` (set after :meth:`start`).
    """

    def __init__(self, width: int = 1280, height: int = 800, timeout: float = 15.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment for a child process that should draw on this display."""
        return {**os.environ, "DISPLAY": self.display}

    def start(self) -> VirtualDisplay:
        """Start Xvfb and wait until it accepts clients.

        Raises
        ------
        BackendUnavailableError
            When Xvfb is not installed or does not start.
        """
        xvfb = shutil.which("Xvfb")
        if not xvfb:
            raise BackendUnavailableError("Xvfb is not installed (Debian: xvfb)")
        self._dir = tempfile.mkdtemp(prefix="vm-xvfb-")
        read_fd, write_fd = os.pipe()
        try:
            # -displayfd: Xvfb picks a free display and writes its number when it is ready.
            self._proc = subprocess.Popen(
                [xvfb, "-displayfd", str(write_fd), "-screen", "0",
                 f"{self.width}x{self.height}x24", "-fbdir", self._dir, "-br",
                 "-nolisten", "tcp"],
                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(write_fd)
            number = b""
            deadline = time.monotonic() + self.timeout
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                ready, _, _ = select.select([read_fd], [], [], max(0.0, left))
                chunk = os.read(read_fd, 16) if ready else b""
                if not chunk:
                    self.stop()
                    raise BackendUnavailableError("Xvfb did not start")
                number += chunk
        finally:
            os.close(read_fd)
        self.display = f":{int(number)}"
        return self

    @property
    def screen_file(self) -> Path:
        """The frame-buffer file (XWD): another process can read the screen with read_xwd."""
        if self._dir is None:
            raise RuntimeError("the display is not started")
        return Path(self._dir) / "Xvfb_screen0"

    def screenshot(self) -> np.ndarray:
        """The whole screen now, RGB uint8 of shape (height, width, 3)."""
        return read_xwd(self.screen_file)

    def stop(self) -> None:
        """Stop Xvfb and remove its frame-buffer file."""
        proc, self._proc = self._proc, None
        if proc is not None:
            end_child(proc)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
