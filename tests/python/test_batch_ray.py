"""`vocalmidi transcribe --ray` on a real Ray cluster on the loopback (127.0.0.2): a head
node and two worker nodes (separate `ray start` processes, one CPU each), driven by the
real CLI in a subprocess as a user runs it.

Checked: the MIDI files are byte-for-byte those of the local pool; a corrupt file is
reported with its reason while the rest go on; a worker killed in the middle of a file
loses nothing; an interrupted run leaves no partial output and its resume transcribes only
what is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_transcribe import sing

from vocalmidi.cli.main import main

ray = pytest.importorskip("ray", reason="needs vocalmidi[ray]")

pytestmark = pytest.mark.slow

#: Files per test: enough that both workers are busy and a kill lands mid-file.
N_FILES = 6


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
