"""The batch progress bar (files done, files/s, ETA) and the end-of-run summary."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from vocalmidi.batch.jobs import Job, Outcome

__all__ = ["BatchProgress", "summary"]


class BatchProgress:
    """A rich progress bar over files that collects the outcomes.

    Parameters
    ----------
    total : int
        Number of files.
    quiet : bool
        No bar (errors are still printed, one line each).
    """

    def __init__(self, total: int, quiet: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.outcomes: list[Outcome] = []
        self.started = time.perf_counter()
        columns = (TextColumn("[bold]transcribing"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]} files/s"), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.description}"))
        self._bar = Progress(*columns, console=self.console, disable=quiet, transient=False)
        self._task = self._bar.add_task("", total=total, rate="-")

    def __enter__(self) -> BatchProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._bar.__exit__(kind, exc, tb)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def done(self, outcome: Outcome) -> None:
        """Count one finished file (printing its error, if any)."""
        self.outcomes.append(outcome)
        if outcome.error:
            self.say(f"vocalmidi: error: {outcome.error}")
        rate = len(self.outcomes) / max(self.elapsed, 1e-9)
        self._bar.update(self._task, advance=1, description=outcome.source.name,
                         rate=f"{rate:.2f}")

    def say(self, line: str) -> None:
        """Print one line above the bar (plain text, wrapped, never markup)."""
        self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)


def summary(jobs: Sequence[Job], outcomes: Sequence[Outcome], seconds: float, *,
            runner: str, workers: int, out: Path, interrupted: bool = False,
            device: Any = None, gpus_per_actor: float = 0.0,
            startup_seconds: float | None = None) -> dict[str, Any]:
    """The machine-readable summary of a batch run (``--json-summary``).

    ``ok`` is true only when every file was transcribed; ``missing`` lists the files that
    neither succeeded nor failed (an interrupted run), so a script can tell them apart.
    ``device`` is the device report of this process (local pool) or of each Ray actor;
    ``startup_seconds`` how long Ray took until its first actor was warm.
    """
    failed = [o for o in outcomes if o.error]
    finished = {o.source for o in outcomes}
    transcribed = [o for o in outcomes if not o.error]
    return {
        "ok": not failed and not interrupted and len(transcribed) == len(jobs),
        "runner": runner,
        "workers": workers,
        "device": device,
        "gpus_per_actor": gpus_per_actor,
        "out": str(out),
        "files": len(jobs),
        "transcribed": len(transcribed),
        "from_cache": sum(o.cached for o in transcribed),
        "decoded": sum(not o.cached for o in transcribed),
        "notes": sum(o.notes for o in transcribed),
        "failed": [{"file": str(o.source), "reason": o.error, "exit_code": o.exit_code}
                   for o in failed],
        "retried": [{"file": str(o.source), "attempts": o.attempts, "worker": o.worker}
                    for o in outcomes if o.attempts > 1],
        "missing": [str(j.source) for j in jobs if j.source not in finished],
        "interrupted": interrupted,
        "seconds": round(seconds, 3),
        "startup_seconds": startup_seconds,
        "files_per_min": round(60.0 * len(outcomes) / seconds, 2) if seconds > 0 else None,
    }
