"""The Ray actor: one long-lived process that holds a warmed engine and transcribes the
files it is handed (plain class here; ``batch.ray_runner`` wraps it with ``ray.remote``,
so this module imports without Ray)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vocalmidi.batch.jobs import Job, Outcome, transcribe_job

if TYPE_CHECKING:
    from vocalmidi.notes import Note
    from vocalmidi.transcribe import Settings

__all__ = ["Transcriber", "WARMUP_SECONDS"]

#: Length of the silent clip each actor transcribes once before its first file.
WARMUP_SECONDS = 0.5


class Transcriber:
    """Transcribes files for the batch driver; outputs are written by the driver.

    Parameters
    ----------
    settings : Settings
        Model, preset and engine parameters, the same for every file.
    use_cache : bool
        Read and write the shared result cache.
    device : str
        ``auto``, ``cpu`` or ``cuda`` (resolved on this actor's node).
    env : mapping
        Environment the engine needs on this node (``VOCALMIDI_CACHE``, ...): a cluster's
        worker processes do not inherit the driver's environment.
    """

    def __init__(self, settings: Settings, use_cache: bool, device: str,
                 env: Mapping[str, str]) -> None:
        os.environ.update(env)
        from vocalmidi.device import use_device

        self.settings = settings
        self.use_cache = use_cache
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.device = use_device(device).as_dict()
        self._warm_up()

    def _warm_up(self) -> None:
        """Load the engine library and ONNX Runtime, verify the model and run it once on
        a short silent file, through the very path real files take, so the first real
        file pays none of it (and a broken setup fails here, once)."""
        import tempfile
        from pathlib import Path

        import numpy as np
        import soundfile as sf

        from vocalmidi.errors import VocalMidiError

        with tempfile.TemporaryDirectory(prefix="vocalmidi-warmup-") as tmp:
            wav = Path(tmp) / "silence.wav"
            rate = 16000
            sf.write(wav, np.zeros(int(WARMUP_SECONDS * rate), np.float32), rate)
            _, outcome = transcribe_job(Job(wav, ()), self.settings, use_cache=False)
        if outcome.error:
            raise VocalMidiError(f"worker {self.name} cannot transcribe: {outcome.error}")

    def info(self) -> dict[str, Any]:
        """Who this actor is and which device its engine uses."""
        return {"worker": self.name, "device": self.device}

    def transcribe(self, job: Job) -> tuple[list[Note] | None, Outcome]:
        """Transcribe one file; errors come back in the outcome, never raised."""
        return transcribe_job(job, self.settings, self.use_cache, worker=self.name)
