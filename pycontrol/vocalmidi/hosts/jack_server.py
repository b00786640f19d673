"""A private JACK server on the dummy driver: real-time audio without a sound card.

Tests and the jalv harness (:mod:`vocalmidi.hosts.jalv`) start one per use under a unique
name, so several can run at once without meeting each other or a user's own server.

Examples
--------
>>> with JackServer(sample_rate=48000, period=256) as server:   # doctest: +SKIP
...     client = jack.Client("me", servername=server.name)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from types import ModuleType

import numpy as np

from vocalmidi.child_process import end_child
from vocalmidi.errors import BackendUnavailableError

__all__ = ["BufferPlayer", "JackServer", "import_jack"]


def import_jack() -> ModuleType:
    """Import the JACK-Client package, or say clearly what is missing.

    Raises
    ------
    BackendUnavailableError
        When the package or the JACK library (libjack) is not installed.
    """
    try:
        import jack
    except ImportError:
        raise BackendUnavailableError(
            "the JACK-Client Python package is missing: pip install JACK-Client"
        ) from None
    except OSError as e:  # the package is there, libjack is not
        raise BackendUnavailableError(
            f"libjack is not installed (Debian: libjack-jackd2-0): {e}"
        ) from None
    return jack


class JackServer:
    """``jackd --no-realtime -d dummy`` under a unique server name.

    Parameters
    ----------
    sample_rate : int
        Sample rate of the dummy driver.
    period : int
        Frames per JACK cycle.
    name : str or None
        Server name; None makes a unique one (``vm-<hex>``).
    timeout : float
        Seconds to wait for the server to accept clients.
    sync : bool
        Run jackd in synchronous mode (``-S``): each cycle waits until every client has
        finished, so a client that is late on a busy machine delays the cycle instead of
        losing its output for it. Timing stays real time; results stay exact.

    Attributes
    ----------
    name : str
        The server name to pass to clients (``servername=`` or ``$JACK_DEFAULT_SERVER``).
    """

    def __init__(self, sample_rate: int = 48000, period: int = 256, name: str | None = None,
                 timeout: float = 10.0, sync: bool = True) -> None:
        self.sample_rate = int(sample_rate)
        self.period = int(period)
        self.name = name or f"vm-{uuid.uuid4().hex[:10]}"
        self.timeout = timeout
        self.sync = sync
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # jackd's messages; a pipe could fill and stall it

    @property
    def env(self) -> dict[str, str]:
        """The environment for a child process that should use this server."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name,
                "JACK_NO_AUDIO_RESERVATION": "1", "JACK_NO_START_SERVER": "1"}

    def start(self) -> JackServer:
        """Start jackd and wait until it accepts clients.

        Raises
        ------
        BackendUnavailableError
            When jackd or JACK-Client is missing, or the server does not come up.
        """
        jack = import_jack()
        jackd = shutil.which("jackd")
        if not jackd:
            raise BackendUnavailableError("jackd is not installed (Debian: jackd2)")
        self._proc = subprocess.Popen(
            [jackd, "-n", self.name, "--no-realtime", *(["-S"] if self.sync else []), "-d", "dummy",
             "-r", str(self.sample_rate), "-p", str(self.period)],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + self.timeout
        jack.set_error_function(lambda _msg: None)  # libjack prints each failed probe
        try:
            self._wait_for_clients(jack, deadline)
        finally:
            jack.set_error_function()
        return self

    def _wait_for_clients(self, jack: ModuleType, deadline: float) -> None:
        while True:
            try:
                jack.Client("probe", servername=self.name, no_start_server=True).close()
                return
            except jack.JackOpenError:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    self._proc = None
                    log = self.log()
                    hint = ""
                    if "Too many servers" in log:
                        # jackd keeps a slot per server in shared memory; one that was
                        # killed keeps its slot, and after 8 no server starts.
                        hint = (" (servers that were killed still hold JACK's slots: with "
                                "no jackd running, delete /dev/shm/jack-shm-registry)")
                    raise BackendUnavailableError(
                        f"jackd exited at start: {log[-500:]}{hint}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise BackendUnavailableError(
                        f"jackd did not accept clients within {self.timeout:g} s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        end_child(proc)

    def log(self) -> str:
        """What jackd printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> JackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BufferPlayer:
    """A JACK client that plays a mono buffer once, from a JACK frame chosen in advance.

    Parameters
    ----------
    server : str
        JACK server name.
    audio : ndarray
        Mono float32 samples.

    Attributes
    ----------
    client : jack.Client
        Its client; :attr:`port` (``<client>:out``) is what to connect from.
    start : int or None
        The JACK frame the first sample plays at (set by :meth:`play`).
    """

    def __init__(self, server: str, audio: np.ndarray) -> None:
        jack = import_jack()
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        self.start: int | None = None
        self.client = jack.Client(f"play-{uuid.uuid4().hex[:6]}", servername=server,
                                  no_start_server=True)
        self.port = self.client.outports.register("out")
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        buf = self.port.get_array()
        buf[:] = 0
        if self.start is None:
            return
        pos = self.client.last_frame_time - self.start
        lo, hi = max(pos, 0), min(pos + frames, self.audio.size)
        if lo < hi:
            buf[lo - pos : hi - pos] = self.audio[lo:hi]

    def play(self, lead_cycles: int = 4) -> int:
        """Start playing ``lead_cycles`` JACK cycles from now; return the start frame.

        Starting a little ahead lets other clients (a recorder) count from the same frame.
        """
        self.start = self.client.frame_time + lead_cycles * self.client.blocksize
        return self.start

    @property
    def frames_played(self) -> int:
        """Frames of the buffer played so far (0 before the start)."""
        if self.start is None:
            return 0
        return int(np.clip(self.client.frame_time - self.start, 0, self.audio.size))

    def wait(self, timeout: float) -> None:
        """Block until the whole buffer played.

        Raises
        ------
        BackendUnavailableError
            When JACK stops advancing (the server died or stalled) before that.
        """
        deadline = time.monotonic() + timeout
        while self.frames_played < self.audio.size:
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"JACK played {self.frames_played} of {self.audio.size} frames "
                    f"in {timeout:g} s")
            time.sleep(0.02)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
