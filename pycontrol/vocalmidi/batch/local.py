"""The default runner: files spread over local worker processes."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

from vocalmidi.batch.jobs import Job, Outcome, run_job

if TYPE_CHECKING:
    from vocalmidi.transcribe import Settings

__all__ = ["run_local"]


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: the parent decides what stops, so a
    # worker never dies between two files with its result unreported.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(jobs: Sequence[Job], settings: Settings, use_cache: bool, workers: int,
              done: Callable[[Outcome], None],
              say: Callable[[str], None] = lambda line: None) -> None:
    """Transcribe ``jobs`` with ``workers`` processes (in this process for one), calling
    ``done`` with each outcome as it finishes.

    Outputs are written atomically, so an interrupted run leaves finished files and no
    partial one. With several processes, Ctrl-C drops the files not started, lets the few
    already handed to a worker finish (and reports them), then raises KeyboardInterrupt;
    a second Ctrl-C stops the workers at once.
    """
    workers = min(workers, len(jobs))
    if workers <= 1:
        for job in jobs:
            done(run_job(job, settings, use_cache))
        return
    import multiprocessing

    # spawn: the engine runs threads, and forking a process with threads is unsafe.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=_ignore_sigint) as pool, _CtrlC() as ctrl_c:
        pending = {pool.submit(run_job, j, settings, use_cache) for j in jobs}
        said = False
        while pending:
            # A short poll: files not yet started must be dropped as soon as Ctrl-C comes
            # (a warm worker finishes a short file in tens of ms; at 0.1 s a CI run saw
            # every file of the interrupted batch transcribed).
            finished, pending = wait(pending, timeout=0.01, return_when=FIRST_COMPLETED)
            for fut in finished:
                if not said:
                    done(fut.result())
                else:  # stopping: a failed file must not hide the ones still finishing
                    with contextlib.suppress(Exception):
                        done(fut.result())
            if ctrl_c.presses >= 2:
                _stop_workers(pool)
                raise KeyboardInterrupt
            if ctrl_c.presses and not said:
                pending = {f for f in pending if not f.cancel()}
                say(f"vocalmidi: stopping after the {len(pending)} file(s) in progress "
                    "(Ctrl-C again to stop now)")
                said = True
        if ctrl_c.presses:
            raise KeyboardInterrupt


class _CtrlC:
    """Counts Ctrl-C presses instead of raising KeyboardInterrupt wherever the main
    thread happens to be: an interrupt between a worker's result and ``done`` would lose
    a finished file's outcome (it was written, but never reported)."""

    def __init__(self) -> None:
        self.presses = 0
        self._old: object = None

    def _press(self, signum: int, frame: object) -> None:
        self.presses += 1

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._press)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)  # type: ignore[arg-type]


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now (a second Ctrl-C); a file being written is left as a hidden
    temporary file at most, never as a partial output."""
    stop = getattr(pool, "terminate_workers", None)  # Python 3.14
    if stop is not None:
        stop()
        return
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()
