"""Run jobs on threads of their own at once, as a DAW runs several plugin instances."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_at_once(jobs: Sequence[Callable[[], T]]) -> list[T | BaseException]:
    """Start every job on its own thread, wait for all; a job's exception is its result."""
    results: list[T | BaseException] = [RuntimeError("not run")] * len(jobs)

    def work(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # noqa: BLE001 - handed back as the job's result
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
