"""`vocalmidi transcribe --ray` on a real Ray cluster on the loopback (127.0.0.2): a head
node and two worker nodes (separate `ray start` processes, one CPU each), driven by the
real CLI in a subprocess as a user runs it.

Checked: the MIDI files are byte-for-byte those of the local pool; a corrupt file is
reported with its reason while the rest go on; a worker killed in the middle of a file
loses nothing; an interrupted run leaves no partial output and its resume transcribes only
what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_transcribe import sing

from vocalmidi.cli.main import main

ray = pytest.importorskip("ray", reason="needs vocalmidi[ray]")

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).parent / "ray"
#: The nodes' address. Ray swaps 127.0.0.1 for the machine's outbound address (so other
#: machines could reach the node); another loopback address keeps it all on loopback.
LOOPBACK = "127.0.0.2"
#: Files per test: enough that both workers are busy and a kill lands mid-file.
N_FILES = 6


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


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """``127.0.0.2:<port>`` of a head (no CPUs: it only schedules) and two 1-CPU workers.

    The cluster uses Ray's token authentication, as a real one does: every node and every
    driver (the CLI runs below inherit this process's environment) carries the token.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        yield from _cluster()


def _cluster() -> Iterator[str]:
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


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distinct sung takes of different lengths and rates (2-3 s each)."""
    folder = tmp_path_factory.mktemp("takes")
    rng = np.random.default_rng(17)
    for i in range(N_FILES):
        melody = [(int(rng.integers(52, 72)), float(rng.uniform(0.3, 0.6)))
                  for _ in range(3 + i % 3)]
        sr = (16000, 22050, 44100)[i % 3]
        sf.write(folder / f"take{i}.wav", sing(sr, melody), sr)
    return folder


def _cli(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "vocalmidi", "transcribe", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)  # type: ignore[call-overload]


def _run_cli(*args: str, timeout: float = 180) -> tuple[int, dict, str]:
    proc = _cli(*args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, json.loads(out) if out.strip() else {}, err


def _mids(folder: Path) -> dict[str, bytes]:
    # Finished files only: pathlib's glob also matches the hidden ".NAME.PID.part.mid" a
    # worker is still writing (counting one made the resume test flaky).
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.mid"))
            if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def local_reference(takes: Path, tmp_path_factory: pytest.TempPathFactory,
                    model_cache: Path) -> dict[str, bytes]:
    """The local pool's MIDI files for ``takes`` (the reference for every Ray run)."""
    out = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOCALMIDI_CACHE", str(model_cache))
        rc = main(["transcribe", str(takes), "-o", str(out), "-q", "--no-cache", "-j", "1"])
    assert rc == 0
    ref = _mids(out)
    assert len(ref) == N_FILES
    return ref


def test_same_midi_as_the_local_pool_and_a_corrupt_file_is_reported(
        ray_cluster: str, takes: Path, local_reference: dict[str, bytes],
        fresh_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    inputs = tmp_path / "in"
    inputs.mkdir()
    for wav in takes.glob("*.wav"):
        (inputs / wav.name).write_bytes(wav.read_bytes())
    (inputs / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    out = tmp_path / "out"
    rc, summary, err = _run_cli(str(inputs), "-o", str(out), f"--ray={ray_cluster}", "-j", "2",
                                "--json-summary", "-q")
    assert rc == 5, err  # AudioInputError: not everything was transcribed
    assert _mids(out) == local_reference
    assert summary["runner"] == "ray" and summary["workers"] == 2
    assert summary["transcribed"] == N_FILES and summary["decoded"] == N_FILES
    assert not summary["ok"]
    [failed] = summary["failed"]
    assert failed["file"].endswith("broken.wav") and "cannot read" in failed["reason"]
    assert len(summary["device"]) == 2  # both actors reported their device
    assert all(d["device"] == "cpu" for d in summary["device"].values())
    assert "broken.wav" in err


def _actor_pids(method: str | None = "transcribe") -> list[int]:
    """Ray worker processes of our actors that are running ``Transcriber.<method>`` right
    now (Ray sets the process title to the task it executes); all of them for None."""
    prefix = "ray::Transcriber" + (f".{method}" if method else "")
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(prefix):
            pids.append(int(proc.name))
    return pids


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_a_worker_killed_mid_file_loses_nothing(
        ray_cluster: str, takes: Path, local_reference: dict[str, bytes],
        fresh_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    proc = _cli(str(takes), "-o", str(out), f"--ray={ray_cluster}", "-j", "2",
                "--json-summary", "-q", "--no-cache")
    try:
        _wait_for(lambda: _actor_pids(), 120, "an actor busy with a file")
        victim = _actor_pids()[0]
        os.kill(victim, signal.SIGKILL)
        out_text, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    summary = json.loads(out_text)
    assert summary["ok"] and summary["transcribed"] == N_FILES
    assert [r["attempts"] for r in summary["retried"]] == [2], summary
    assert "died" in err and "retrying" in err
    assert _mids(out) == local_reference


def test_an_interrupted_run_resumes_with_only_what_is_missing(
        ray_cluster: str, takes: Path, local_reference: dict[str, bytes],
        fresh_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    args = (str(takes), "-o", str(out), f"--ray={ray_cluster}", "-j", "2", "--json-summary",
            "-q")
    proc = _cli(*args)
    try:
        _wait_for(lambda: len(_mids(out)) >= 2, 120, "two finished files")
        proc.send_signal(signal.SIGINT)
        out_text, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    first = json.loads(out_text)
    assert first["interrupted"] and not first["ok"] and first["missing"], first
    # No half-written output: only whole files, each identical to the reference.
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    done = _mids(out)
    assert 2 <= len(done) < N_FILES
    assert all(local_reference[name] == data for name, data in done.items())

    _wait_for(lambda: not _actor_pids(None), 30, "the interrupted run's actors to end")
    cached = len(list((fresh_cache / "results").glob("*/*.json")))
    assert cached >= len(done)
    rc, summary, err = _run_cli(*args)
    assert rc == 0, f"{err[-3000:]}\n{json.dumps(summary)[:3000]}"
    assert summary["from_cache"] == cached
    assert summary["decoded"] == N_FILES - cached
    assert _mids(out) == local_reference
