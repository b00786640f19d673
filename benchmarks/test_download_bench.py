"""Model supply speed: download throughput against curl, and cache-hit load time.

Throughput is measured on the same local HTTP server (tests/python/test_models_server.py)
in the same run for both clients, so the ratio ``vocalmidi / curl`` is what matters, not
the absolute figure (Python's http.server is the bottleneck of both). The file is a
32 MiB blob rather than a model because the real models (0.1-0.2 MiB) are too small to
measure a transfer rate; it is pulled through a manifest entry with its real SHA-256, so
hashing and atomic placement are included, as for a model.

Run: ``PYTHONPATH=pycontrol .venv/bin/pytest benchmarks/test_download_bench.py --benchmark-only``
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))

from test_models_server import FaultServer  # noqa: E402

from vocalmidi.models import (  # noqa: E402
    Manifest,
    ModelCache,
    PullOptions,
    clear_memo,
    get_model_path,
    load_bytes,
    parse_manifest,
    pull,
)
from vocalmidi.models.manifest import bundled_manifest_path  # noqa: E402

BLOB_SIZE = 32 << 20


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FaultServer, bytes, Manifest]]:
    blob = os.urandom(BLOB_SIZE)
    path = bundled_manifest_path()
    assert path is not None
    doc = json.loads(path.read_text())
    entry = copy.deepcopy(next(m for m in doc["models"] if m["id"] == "swiftf0"))
    entry["id"] = "bench-blob"
    with FaultServer() as server:
        entry["files"][0].update(
            name="blob.bin",
            size=len(blob),
            sha256=hashlib.sha256(blob).hexdigest(),
            source={"type": "url", "url": server.url("/blob.bin")},
        )
        doc["models"] = [entry]
        doc["default_model"] = "bench-blob"
        doc["presets"] = {}
        server.add("/blob.bin", blob)
        yield server, blob, parse_manifest(doc)


def _throughput(benchmark) -> float:  # type: ignore[no-untyped-def]
    return BLOB_SIZE / benchmark.stats.stats.mean / 1e6


def test_download_throughput_vocalmidi(benchmark, served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, blob, manifest = served
    cache = tmp_path / "cache"

    def setup() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def run() -> None:
        pull(
            ["bench-blob"],
            manifest=manifest,
            cache=cache,
            options=PullOptions(allow_http=True, offline=False),
        )

    benchmark.pedantic(run, setup=setup, rounds=5, iterations=1)
    assert (cache / "models" / "bench-blob" / "blob.bin").stat().st_size == len(blob)
    benchmark.extra_info["MB_per_s"] = round(_throughput(benchmark), 1)


def test_download_throughput_curl(benchmark, served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    curl = shutil.which("curl")
    assert curl, "curl is needed as the reference client (apt-get install curl)"
    server, blob, _ = served
    out = tmp_path / "blob.bin"

    def run() -> None:
        subprocess.run([curl, "-sSf", "-o", str(out), server.url("/blob.bin")], check=True)

    benchmark.pedantic(run, rounds=5, iterations=1)
    assert out.stat().st_size == len(blob)
    benchmark.extra_info["MB_per_s"] = round(_throughput(benchmark), 1)


@pytest.fixture
def warm() -> Iterator[ModelCache]:
    """The test cache (build/test-cache, as tests/python/conftest.py uses) with the default
    model verified once, so the memo is warm."""
    store = ModelCache(os.environ.get("VOCALMIDI_TEST_CACHE", REPO / "build" / "test-cache"))
    pull(cache=store, options=PullOptions(offline=False))
    clear_memo()
    get_model_path(cache=store)
    yield store


def test_cache_hit_get_model_path(benchmark, warm: ModelCache) -> None:  # type: ignore[no-untyped-def]
    path = benchmark(get_model_path, cache=warm)
    assert path.is_file()


def test_cache_hit_load_bytes(benchmark, warm: ModelCache) -> None:  # type: ignore[no-untyped-def]
    data = benchmark(load_bytes, cache=warm)
    assert len(data) == 135090


def test_cache_hit_pull_in_a_new_process_state(benchmark, warm: ModelCache) -> None:  # type: ignore[no-untyped-def]
    """A pull of a cached model with an empty memo: re-hashes the file, no network."""

    def run() -> None:
        clear_memo()
        [result] = pull(cache=warm, options=PullOptions(offline=True))
        assert result.fetched == []

    benchmark(run)
