"""The default runner: files spread over local worker processes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING

from vocalmidi.batch.jobs import Job, Outcome, run_job

if TYPE_CHECKING:
    from vocalmidi.transcribe import Settings

__all__ = ["run_local"]


def run_local(jobs: Sequence[Job], settings: Settings, use_cache: bool, workers: int,
              done: Callable[[Outcome], None]) -> None:
    """Transcribe ``jobs`` with ``workers`` processes (in this process for one), calling
    ``done`` with each outcome as it finishes.

    Outputs are written atomically by whoever transcribes the file, so Ctrl-C (which
    reaches the workers too) leaves finished files and no partial ones.
    """
    workers = min(workers, len(jobs))
    if workers <= 1:
        for job in jobs:
            done(run_job(job, settings, use_cache))
        return
    import multiprocessing

    # spawn: the engine runs threads, and forking a process with threads is unsafe.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(run_job, j, settings, use_cache) for j in jobs]
        try:
            for fut in as_completed(futures):
                done(fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
