"""A real Ray cluster on the loopback for tests: a head node that only schedules and two
1-CPU worker nodes, each a separate `ray start` process (conftest's ``ray_cluster``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RAY = Path(sys.executable).parent / "ray"
#: The nodes' address. Ray swaps 127.0.0.1 for the machine's outbound address (so other
#: machines could reach the node); another loopback address keeps it all on loopback.
LOOPBACK = "127.0.0.2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    # Own session: the node and everything it spawns form one process group we can end.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with log.open("ab") as fh:
        return subprocess.Popen([str(RAY), "start", "--block", *args], stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)


def _stop(nodes: list[subprocess.Popen[bytes]]) -> None:
    """End the nodes we started and everything they spawned (their process groups): all
    at once, politely first; whatever is left after 5 s is killed (a test cluster has
    nothing to drain)."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        for proc in nodes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        deadline = time.monotonic() + wait
        for proc in nodes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))


def cluster() -> Iterator[str]:
    port = _free_port()
    address = f"{LOOPBACK}:{port}"
    # A short path: Ray's unix sockets live under it and sun_path holds 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="vmray-"))
    log = temp / "nodes.log"
    memory = ["--object-store-memory", str(100 << 20)]
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        # One node at a time: on two busy cores, three nodes starting at once can miss
        # Ray's 30 s registration deadline.
        for args in (["--head", "--port", str(port), "--num-cpus", "0",
                      "--include-dashboard", "false", "--temp-dir", str(temp)],
                     ["--address", address, "--num-cpus", "1"],
                     ["--address", address, "--num-cpus", "1"]):
            nodes.append(_start([*args, "--node-ip-address", LOOPBACK, *memory], log))
            _wait_started(len(nodes), nodes[-1], log)
        yield address
    finally:
        _stop(nodes)
        shutil.rmtree(temp, ignore_errors=True)


def _wait_started(count: int, node: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``count`` nodes have said "Ray runtime started." (a worker says so once
    it is registered with the head)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if node.poll() is not None:
            pytest.fail(f"ray start exited: {log.read_text()[-3000:]}")
        if log.read_text().count("Ray runtime started.") >= count:
            return
        time.sleep(0.2)
    pytest.fail(f"ray node {count} did not start: {log.read_text()[-3000:]}")
