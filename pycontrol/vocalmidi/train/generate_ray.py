"""`vocalmidi train data OUT --ray [ADDRESS]`: the clips made by Ray tasks.

A clip depends only on ``(seed, split, index)`` (:mod:`vocalmidi.train.generate`), so
each one is a task of its own: a worker makes the clip's arrays and hands them back,
and this process writes them, atomically, with the same writer as ``--jobs``. The files
are therefore those of a local run, bit for bit, the workers need no access to the
output folder, and clips already in the folder are not made again.

Ray and its connection are those of ``vocalmidi transcribe --ray``
(:mod:`vocalmidi.batch.ray_runner`): without an address a local instance that ends with
the run; with one, an existing cluster, on whose nodes the package and its voices
(espeak-ng, the SoundFonts) must be installed. A worker that dies under a clip is
replaced and the clip made again by Ray (``max_retries``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from vocalmidi.train.generate import ClipPlan, finished_entry, make_clip, store_clip

__all__ = ["run_ray"]

#: Times Ray starts a clip's task again after its worker died.
MAX_RETRIES = 3
#: Clips in flight per CPU of the cluster when --jobs is not given: one running, one
#: waiting, so no worker idles between two.
_IN_FLIGHT_PER_WORKER = 2
#: One thread per task: Ray's CPUs are the parallelism (as the local pool's processes).
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS")


def _make(plan: ClipPlan, env: Mapping[str, str]) -> tuple[dict[str, np.ndarray],
                                                           dict[str, Any]]:
    """The task: one clip's arrays and index entry (a cluster's workers do not inherit
    this process's environment, so ``env`` brings what they need)."""
    os.environ.update(env)
    return make_clip(plan)


def run_ray(jobs: Sequence[tuple[ClipPlan, str]], address: str | None,
            workers: int | None) -> Iterator[tuple[dict[str, Any], bool]]:
    """Make the clips of ``jobs`` on Ray and write them; yields ``(entry, made_now)`` for
    each clip as it is done (clips already there first).

    Parameters
    ----------
    jobs : sequence of (ClipPlan, str)
        Each clip and its output folder.
    address : str or None
        ``host:port`` of a cluster; None starts a local Ray instance.
    workers : int or None
        Clips made at once; None: one per CPU of the cluster.

    Raises
    ------
    UsageError
        Ray is not installed or the cluster cannot be reached.
    """
    from vocalmidi.batch.ray_runner import FORWARDED_ENV, RayOptions, connect_ray, import_ray

    todo = []
    for plan, out in jobs:
        entry = finished_entry(plan, out)
        if entry is not None:
            yield entry, False
        else:
            todo.append((plan, out))
    if not todo:
        return
    ray = import_ray(local=address is None)
    connected = connect_ray(ray, RayOptions(address, workers))
    inflight: dict[Any, tuple[ClipPlan, str]] = {}
    try:
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        env.update({k: "1" for k in _THREAD_VARS})
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        limit = workers or _IN_FLIGHT_PER_WORKER * cpus
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_make)
        env_ref = ray.put(env)
        waiting = list(reversed(todo))
        while waiting or inflight:
            while waiting and len(inflight) < limit:
                plan, out = waiting.pop()
                inflight[task.remote(plan, env_ref)] = (plan, out)
            ready, _ = ray.wait(list(inflight), num_returns=1)
            plan, out = inflight.pop(ready[0])
            try:
                arrays, entry = ray.get(ready[0])
            except ray.exceptions.RayTaskError as exc:
                # The clip's own error (e.g. a voice program missing on a node), as the
                # local run raises it.
                cause = getattr(exc, "cause", None)
                raise (cause if isinstance(cause, Exception) else exc) from None
            store_clip(plan, out, arrays, entry)
            yield entry, True
    finally:
        for ref in inflight:  # interrupted (Ctrl-C, an error): stop what is still running
            ray.cancel(ref, force=True)
        if connected:
            ray.shutdown()
