"""Run the VocalMIDI Standalone program headless: Xvfb for its window, JACK for its audio.

:class:`StandaloneRun` starts the program on a private X display and a private JACK
server (dummy driver), with settings that pick JACK and unmute the input (JUCE mutes a
standalone effect's input by default). A voice can then be played into it and its window
read back as an image; ``scripts/standalone-screenshot.py`` makes the README's picture
this way, and the tests check that the window opens and paints.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from vocalmidi.child_process import end_child
from vocalmidi.errors import VocalMidiError
from vocalmidi.hosts.jack_server import BufferPlayer, JackServer, import_jack
from vocalmidi.hosts.xdisplay import VirtualDisplay

__all__ = ["StandaloneError", "StandaloneRun", "window_box"]

# JUCE's StandaloneFilterApp reads ~/.config/<name>.settings: the audio device setup
# ("audioSetup"), whether the input is muted, and where the window was.
_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<PROPERTIES>
  <VALUE name="audioSetup">
    <DEVICESETUP deviceType="JACK" audioOutputDeviceName="system" audioInputDeviceName="system"
                 audioDeviceRate="{rate}" audioDeviceBufferSize="{period}"/>
  </VALUE>
  <VALUE name="shouldMuteInput" val="0"/>
  <VALUE name="windowX" val="{x}"/>
  <VALUE name="windowY" val="{y}"/>
</PROPERTIES>
"""


class StandaloneError(VocalMidiError):
    """The Standalone did not start, show its window, or open its audio."""

    exit_code = 8


def window_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (top, left, bottom, right) of everything not black on the screen.

    The display's root window is black (``Xvfb -br``) and there is no window manager, so
    this is the area the program's windows cover; (0, 0, 0, 0) when nothing is drawn.
    """
    drawn = rgb.max(axis=-1) > 0
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    if rows.size == 0:
        return 0, 0, 0, 0
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


class StandaloneRun:
    """The Standalone program on its own display and JACK server.

    Parameters
    ----------
    program : path
        The built ``VocalMIDI`` executable (:func:`vocalmidi.native.plugin_paths`).
    cache : path or None
        Model cache for it (``VOCALMIDI_CACHE``); None keeps the environment's.
    sample_rate, period : int
        The JACK server's settings.
    screen : (int, int)
        Display size.
    timeout : float
        Seconds to wait for the window and the JACK ports.

    Attributes
    ----------
    display : VirtualDisplay
    server : JackServer
    inputs : list of str
        The program's JACK audio input ports (after :meth:`start`).
    """

    def __init__(self, program: str | Path, cache: str | Path | None = None,
                 sample_rate: int = 48000, period: int = 256,
                 screen: tuple[int, int] = (1024, 640), timeout: float = 30.0) -> None:
        self.program = Path(program)
        self.cache = cache
        self.timeout = timeout
        self.display = VirtualDisplay(*screen)
        self.server = JackServer(sample_rate, period)
        self.inputs: list[str] = []
        self._players: list[BufferPlayer] = []
        self._home: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    def start(self) -> StandaloneRun:
        """Start the display, the server and the program; wait for its window and ports.

        Raises
        ------
        StandaloneError
            When the program exits, or shows no window or no JACK input in time.
        BackendUnavailableError
            When Xvfb, jackd or JACK-Client is missing.
        """
        if not self.program.is_file():
            raise StandaloneError(f"no Standalone program at {self.program}")
        try:
            self.display.start()
            self.server.start()
            self._home = tempfile.mkdtemp(prefix="vm-standalone-home-")
            config = Path(self._home) / ".config"
            config.mkdir()
            (config / f"{self.program.name}.settings").write_text(_SETTINGS.format(
                rate=self.server.sample_rate, period=self.server.period, x=0, y=0))
            env = {**self.server.env, "DISPLAY": self.display.display, "HOME": self._home}
            if self.cache is not None:
                env["VOCALMIDI_CACHE"] = str(self.cache)
            self._proc = subprocess.Popen([str(self.program)], env=env, stdout=self._log,
                                          stderr=subprocess.STDOUT)
            deadline = time.monotonic() + self.timeout
            self.inputs = self._wait_for_inputs(deadline)
            self._wait_for_window(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_running(self, what: str, deadline: float) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise StandaloneError(f"{self.program.name} exited with status "
                                  f"{self._proc.returncode} before {what}: {self.log()[-500:]}")
        if time.monotonic() > deadline:
            raise StandaloneError(f"{self.program.name} showed no {what} within "
                                  f"{self.timeout:g} s: {self.log()[-500:]}")

    def _wait_for_inputs(self, deadline: float) -> list[str]:
        jack = import_jack()
        client = jack.Client(f"look-{os.getpid()}", servername=self.server.name,
                             no_start_server=True)
        try:
            while True:
                ports = [p.name for p in client.get_ports(is_audio=True, is_input=True)
                         if not p.name.startswith(("system:", "look-"))]
                if ports:
                    return sorted(ports)
                self._check_running("JACK audio input", deadline)
                time.sleep(0.1)
        finally:
            client.close()

    def _wait_for_window(self, deadline: float) -> None:
        while True:
            top, left, bottom, right = window_box(self.display.screenshot())
            if bottom - top > 100 and right - left > 100:
                return
            self._check_running("window", deadline)
            time.sleep(0.1)

    def window(self) -> np.ndarray:
        """The program's window as it looks now, RGB uint8 (h, w, 3)."""
        screen = self.display.screenshot()
        top, left, bottom, right = window_box(screen)
        return screen[top:bottom, left:right].copy()

    def play(self, audio: np.ndarray, until: float | None = None) -> None:
        """Play mono ``audio`` into the program's inputs in real time.

        Parameters
        ----------
        audio : ndarray
            float32 samples at the server's rate.
        until : float or None
            Return after this many seconds of it (the rest keeps playing while the
            server runs); None waits for the end.
        """
        player = BufferPlayer(self.server.name, audio)
        for port in self.inputs:
            player.client.connect(player.port, port)
        player.play()
        seconds = audio.size / self.server.sample_rate
        wait = seconds if until is None else min(until, seconds)
        target = int(wait * self.server.sample_rate)
        deadline = time.monotonic() + 3 * wait + 10
        while player.frames_played < target:
            self._check_running("the end of the audio", deadline)
            time.sleep(0.02)
        self._players.append(player)

    def log(self) -> str:
        """What the program printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()

    def stop(self) -> None:
        """End the program, the server and the display.

        SIGINT makes a JUCE app quit cleanly, closing its JACK client; a client killed
        otherwise keeps jackd from stopping for 10 s.
        """
        for player in self._players:
            player.close()
        self._players = []
        proc, self._proc = self._proc, None
        if proc is not None:
            end_child(proc, signal.SIGINT)
        self.server.stop()
        self.display.stop()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def __enter__(self) -> StandaloneRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

