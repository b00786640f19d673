"""The Ray runner: files streamed, largest first, to actors that each hold a warmed
engine, on a local Ray instance or an existing cluster.

The driver (this process) hands one file at a time to each idle actor and writes every
output itself, atomically, so outputs need no shared folder and an interrupted run leaves
no partial file. Actors read the input and the shared result cache, so on a real cluster
the inputs and ``$VOCALMIDI_CACHE`` must be on a file system every node sees (and the
package, the engine and the model must be installed on every node).

Faults: an actor that dies under a file (killed, out of memory, node lost) is replaced and
the file goes to another actor, up to ``max_attempts`` times; an unreadable file comes
back as that file's error and the rest go on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vocalmidi.batch.jobs import Job, Outcome, finish_job, order_by_size
from vocalmidi.errors import UsageError, VocalMidiError

if TYPE_CHECKING:
    from vocalmidi.transcribe import Settings

__all__ = ["FORWARDED_ENV", "RayOptions", "connect_ray", "import_ray", "run_ray"]

#: Environment variables an actor needs to see what the driver sees.
FORWARDED_ENV = ("VOCALMIDI_CACHE", "VOCALMIDI_NATIVE_DIR", "VOCALMIDI_OFFLINE",
                  "ORT_DISABLE_TELEMETRY")
#: Ray's switch for single-machine use (named for laptops): "0" keeps every process of a
#: Ray instance on 127.0.0.1 instead of the machine's outbound address.
LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
#: Seconds to wait for a replacement actor when no other actor is left.
_NO_ACTOR_TIMEOUT = 120.0


@dataclass(frozen=True)
class RayOptions:
    """How to run on Ray.

    Attributes
    ----------
    address : str or None
        ``host:port`` (or ``auto``) of an existing cluster; None starts a local instance.
    workers : int or None
        Number of actors; None: one per CPU of the cluster.
    gpus_per_actor : float
        Fraction of a GPU each actor asks Ray for when the cluster has GPUs and the device
        is not ``cpu`` (4 actors share one GPU at 0.25).
    max_attempts : int
        Times a file is started before a dying worker counts as the file's failure.
    """

    address: str | None = None
    workers: int | None = None
    gpus_per_actor: float = 0.25
    max_attempts: int = 3


def import_ray(local: bool) -> Any:
    """The ``ray`` module (``local``: for a local instance, kept on the loopback), or a
    UsageError that says how to install it."""
    if local:
        # A local instance serves this process only: nothing of it needs to be reachable
        # from another machine. Read when Ray is imported.
        os.environ.setdefault(LOOPBACK_ONLY, "0")
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'vocalmidi[ray]'") from None
    return ray


def connect_ray(ray: Any, options: RayOptions) -> bool:
    """Join the cluster or start a local instance; returns whether we connected (and so
    disconnect at the end: a local instance stops then, a cluster stays)."""
    if ray.is_initialized():
        return False
    common = {"log_to_driver": False, "configure_logging": False}
    try:
        if options.address:
            ray.init(address=options.address, **common)
        else:
            ray.init(num_cpus=options.workers or os.cpu_count() or 1, include_dashboard=False,
                     **common)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = options.address or "a local Ray instance"
        raise UsageError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
    return True


def run_ray(jobs: Sequence[Job], settings: Settings, use_cache: bool, device: str,
            options: RayOptions, done: Callable[[Outcome], None],
            say: Callable[[str], None]) -> dict[str, Any]:
    """Transcribe ``jobs`` on Ray, calling ``done`` with each outcome as it finishes.

    Parameters
    ----------
    jobs : sequence of Job
    settings : Settings
    use_cache : bool
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    options : RayOptions
    done : callable
        Called in this process with each file's outcome (outputs already written).
    say : callable
        Prints one line for the user (retries, device fallbacks).

    Returns
    -------
    dict
        ``workers`` (actors used), ``device`` (per actor), ``gpus_per_actor`` and
        ``startup_seconds`` (from the call until the first actor was warm: Ray's start-up,
        which a long batch pays once).

    Raises
    ------
    UsageError
        Ray is not installed or the cluster cannot be reached.
    VocalMidiError
        No actor could start (e.g. the model is missing on the workers).
    """
    t0 = time.perf_counter()
    ray = import_ray(local=not options.address)
    # Ray prints its own messages (a worker died, ...) on stdout, where --json-summary
    # must stay parseable: they go to stderr, beside the progress bar.
    with contextlib.redirect_stdout(sys.stderr):
        connected = connect_ray(ray, options)
        try:
            driver = _Driver(ray, jobs, settings, use_cache, device, options, done, say)
            report = driver.run()
            first = driver.first_ready
            report["startup_seconds"] = round(first - t0, 2) if first is not None else None
            return report
        finally:
            if connected:
                ray.shutdown()


class _Driver:
    """The scheduling loop: one file in flight per actor, largest files first."""

    def __init__(self, ray: Any, jobs: Sequence[Job], settings: Settings, use_cache: bool,
                 device: str, options: RayOptions, done: Callable[[Outcome], None],
                 say: Callable[[str], None]) -> None:
        from vocalmidi.batch.actor import Transcriber

        self.ray, self.options = ray, options
        self.done, self.say = done, say
        self.pending: deque[Job] = deque(order_by_size(jobs))
        self.attempts: dict[Job, int] = {}
        self.devices: dict[str, Any] = {}
        self.first_ready: float | None = None
        resources = ray.cluster_resources()
        cpus = max(1, int(resources.get("CPU", 1)))
        self.target = max(1, min(options.workers or cpus, len(self.pending)))
        gpus = float(resources.get("GPU", 0))
        self.num_gpus = 0.0
        if device != "cpu" and gpus > 0:
            self.num_gpus = options.gpus_per_actor
        elif device == "cuda":
            say("vocalmidi: --device cuda: the Ray cluster has no GPU, running on the CPU")
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        if "VOCALMIDI_CACHE" not in env:
            from vocalmidi.models.cache import cache_root

            env["VOCALMIDI_CACHE"] = str(cache_root())
        # Relative paths mean nothing on another node.
        env["VOCALMIDI_CACHE"] = os.path.abspath(env["VOCALMIDI_CACHE"])
        self._actor_class = ray.remote(num_cpus=1, num_gpus=self.num_gpus)(Transcriber)
        self._actor_args = (settings, use_cache, device, env)

    def _spawn(self) -> tuple[Any, Any]:
        actor = self._actor_class.remote(*self._actor_args)
        return actor, actor.info.remote()

    def run(self) -> dict[str, Any]:
        ray = self.ray
        starting: dict[Any, Any] = dict(self._spawn()[::-1] for _ in range(self.target))
        idle: list[Any] = []
        inflight: dict[Any, tuple[Any, Job]] = {}
        last_error = ""
        alone_since: float | None = None
        try:
            while self.pending or inflight:
                while idle and self.pending:
                    actor, job = idle.pop(), self.pending.popleft()
                    self.attempts[job] = self.attempts.get(job, 0) + 1
                    inflight[actor.transcribe.remote(job)] = (actor, job)
                if not inflight and not idle:
                    # Files are waiting and every actor is still starting (or none is left).
                    alone_since = alone_since or time.monotonic()
                    if not starting or time.monotonic() - alone_since > _NO_ACTOR_TIMEOUT:
                        raise VocalMidiError(f"no Ray worker could start: {last_error}")
                else:
                    alone_since = None
                ready, _ = ray.wait([*inflight, *starting], num_returns=1, timeout=1.0)
                for ref in ready:
                    if ref in starting:
                        actor = starting.pop(ref)
                        try:
                            info = ray.get(ref)
                        except ray.exceptions.RayError as exc:
                            last_error = _reason(exc)
                            continue
                        self.devices[info["worker"]] = info["device"]
                        self.first_ready = self.first_ready or time.perf_counter()
                        idle.append(actor)
                        continue
                    actor, job = inflight.pop(ref)
                    try:
                        notes, outcome = ray.get(ref)
                    except ray.exceptions.RayActorError as exc:
                        last_error = _reason(exc)
                        self._worker_died(job, last_error)
                        if len(starting) + len(idle) + len(inflight) < self.target:
                            new, info_ref = self._spawn()
                            starting[info_ref] = new
                        continue
                    except ray.exceptions.RayError as exc:
                        notes, outcome = None, Outcome(job.source, 0, False, 0.0,
                                                       f"{job.source}: {_reason(exc)}", 1)
                    outcome = replace(outcome, attempts=self.attempts[job])
                    self.done(finish_job(job, notes, outcome) if notes is not None else outcome)
                    idle.append(actor)
        finally:
            for actor in [*idle, *starting.values(), *(a for a, _ in inflight.values())]:
                ray.kill(actor, no_restart=True)
        return {"workers": self.target, "gpus_per_actor": self.num_gpus,
                "device": self.devices}

    def _worker_died(self, job: Job, reason: str) -> None:
        tries = self.attempts[job]
        if tries >= self.options.max_attempts:
            self.done(Outcome(job.source, 0, False, 0.0,
                              f"{job.source}: the worker died {tries} times on this file "
                              f"(last: {reason})", 1, attempts=tries))
            return
        self.say(f"vocalmidi: a Ray worker died on {job.source.name} ({reason}); "
                 "retrying it on another worker")
        # Front of the queue: it is among the largest left, and it has waited longest.
        self.pending.appendleft(job)


def _reason(exc: BaseException) -> str:
    """The first line of a Ray error, without its traceback."""
    cause = getattr(exc, "cause", None)
    text = str(cause) if isinstance(cause, VocalMidiError) else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]
