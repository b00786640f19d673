"""Downloads over real HTTP with injected faults: resume, retries, time-outs, locks.

Every test serves the real SwiftF0 model (pulled from its pinned wheel by the
``model_cache`` fixture) from a local server and pulls it through a manifest whose source
is that server, so hashes and sizes are the real ones.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_models_server import Fault, FaultServer

from vocalmidi.errors import DownloadError
from vocalmidi.models import (
    DownloadCancelled,
    Manifest,
    ModelCache,
    Progress,
    PullOptions,
    parse_manifest,
    pull,
)
from vocalmidi.models.manifest import bundled_manifest_path

REPO = Path(__file__).resolve().parents[2]
PATH = "/swiftf0/model.onnx"


@pytest.fixture(scope="module")
def model_bytes(model_cache: Path) -> bytes:
    return (model_cache / "models" / "swiftf0" / "model.onnx").read_bytes()


def url_manifest(server: FaultServer, extra_models: int = 0) -> Manifest:
    """The bundled manifest with SwiftF0 (and optional copies) served by ``server``."""
    path = bundled_manifest_path()
    assert path is not None
    doc = json.loads(path.read_text())
    base = next(m for m in doc["models"] if m["id"] == "swiftf0")
    models = []
    for i in range(extra_models + 1):
        entry = copy.deepcopy(base)
        if i:
            entry["id"] = f"swiftf0-copy{i}"
        entry["files"][0]["source"] = {
            "type": "url",
            "url": server.url(f"/{entry['id']}/model.onnx"),
        }
        models.append(entry)
    doc["models"] = models
    doc["presets"] = {}
    doc.pop("default_file_model", None)  # names a model this subset drops
    doc["default_model"] = "swiftf0"  # as does default_model (vocalnote-s)
    return parse_manifest(doc)


def options(**kw: object) -> PullOptions:
    base: dict[str, object] = dict(
        allow_http=True, timeout=2.0, retries=3, backoff=0.01, offline=False
    )
    base.update(kw)
    return PullOptions(**base)  # type: ignore[arg-type]


def cached(root: Path) -> Path:
    return root / "models" / "swiftf0" / "model.onnx"


def test_plain_download_is_verified_and_reports_progress(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, throttle=0.02)
    reports: list[Progress] = []
    [result] = pull(
        ["swiftf0"],
        manifest=url_manifest(fault_server),
        cache=tmp_path,
        options=options(progress=reports.append),
    )
    assert result.fetched == ["model.onnx"]
    assert cached(tmp_path).read_bytes() == model_bytes
    assert len(fault_server.requests(PATH)) == 1
    fetch = [r for r in reports if r.phase == "fetch"]
    assert [r.done for r in fetch] == sorted(r.done for r in fetch)
    assert fetch[-1].done == len(model_bytes) and fetch[-1].total == len(model_bytes)
    assert any(r.speed > 0 and r.eta is not None for r in fetch)
    assert reports[-1].phase == "done"
    # The manifest used is kept beside the files, for the plugin.
    stored = json.loads((tmp_path / "manifest.json").read_text())
    assert stored["models"][0]["files"][0]["source"]["url"] == fault_server.url(PATH)


def test_dropped_connection_resumes_with_range(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, Fault(drop_after=50_000))
    pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    log = fault_server.requests(PATH)
    assert [(e.status, e.range) for e in log] == [(200, None), (206, "bytes=50000-")]


def test_interrupted_pull_resumes_in_a_later_run(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, Fault(drop_after=40_000), Fault(status=503))
    manifest = url_manifest(fault_server)
    with pytest.raises(DownloadError, match="HTTP 503"):
        pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=options(retries=0))
    assert not cached(tmp_path).exists()
    part = tmp_path / "tmp" / "swiftf0" / "model.onnx.part"
    assert part.stat().st_size == 40_000
    pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    assert fault_server.requests(PATH)[-1].range == "bytes=40000-"
    assert not part.exists()


def test_server_ignoring_range_restarts_cleanly(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, Fault(drop_after=30_000), Fault(ignore_range=True))
    pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    assert [e.status for e in fault_server.requests(PATH)] == [200, 200]


def test_416_drops_the_partial_file_and_starts_over(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, Fault(drop_after=20_000), Fault(status=416))
    pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    log = fault_server.requests(PATH)
    assert [(e.status, e.range) for e in log] == [(200, None), (416, "bytes=20000-"), (200, None)]


def test_wrong_bytes_never_reach_the_cache(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    evil = bytes(b ^ 0xFF for b in model_bytes)
    fault_server.add(PATH, model_bytes, Fault(body=evil))
    with pytest.raises(DownloadError, match="does not match the pinned"):
        pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert not cached(tmp_path).exists()
    assert list((tmp_path / "tmp" / "swiftf0").iterdir()) == []


def test_corrupt_resumed_bytes_are_refetched_from_scratch(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    # A partial file left by some earlier run holds garbage; the resumed file then fails
    # its hash, and one fresh download repairs it.
    part = tmp_path / "tmp" / "swiftf0" / "model.onnx.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 10_000)
    fault_server.add(PATH, model_bytes)
    pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    assert [e.range for e in fault_server.requests(PATH)] == ["bytes=10000-", None]


def test_404_fails_at_once_with_a_clear_message(fault_server: FaultServer, tmp_path: Path) -> None:
    # Nothing is served at PATH: the server answers 404.
    with pytest.raises(DownloadError, match=r"HTTP 404") as info:
        pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert "swiftf0/model.onnx" in str(info.value)
    assert "\n" not in str(info.value)
    assert len(fault_server.requests(PATH)) == 1


def test_5xx_is_retried_then_succeeds(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, Fault(status=500), Fault(status=502))
    pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert [e.status for e in fault_server.requests(PATH)] == [500, 502, 200]
    assert cached(tmp_path).read_bytes() == model_bytes


def test_persistent_5xx_gives_up_after_the_retries(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, *[Fault(status=500)] * 10)
    with pytest.raises(DownloadError, match=r"after 3 attempts: HTTP 500"):
        pull(
            ["swiftf0"],
            manifest=url_manifest(fault_server),
            cache=tmp_path,
            options=options(retries=2),
        )
    assert len(fault_server.requests(PATH)) == 3
    assert not cached(tmp_path).exists()


def test_stalled_server_times_out(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, *[Fault(delay=3.0)] * 3)
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out"):
        pull(
            ["swiftf0"],
            manifest=url_manifest(fault_server),
            cache=tmp_path,
            options=options(timeout=0.3, retries=1),
        )
    assert time.monotonic() - start < 2.5
    assert not cached(tmp_path).exists()


def test_cancel_keeps_the_partial_for_a_resume(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, throttle=0.05)
    opts = options()

    def stop_after_some(p: Progress) -> None:
        if p.phase == "fetch" and p.done >= 32_000:
            opts.cancel.set()

    opts.progress = stop_after_some
    manifest = url_manifest(fault_server)
    with pytest.raises(DownloadCancelled):
        pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=opts)
    part = tmp_path / "tmp" / "swiftf0" / "model.onnx.part"
    kept = part.stat().st_size
    assert 32_000 <= kept < len(model_bytes)
    assert not cached(tmp_path).exists()
    pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=options())
    assert cached(tmp_path).read_bytes() == model_bytes
    assert fault_server.requests(PATH)[-1].range == f"bytes={kept}-"


def test_plain_http_needs_explicit_permission(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes)
    with pytest.raises(DownloadError, match="refusing plain http"):
        pull(
            ["swiftf0"],
            manifest=url_manifest(fault_server),
            cache=tmp_path,
            options=options(allow_http=False),
        )
    assert fault_server.requests(PATH) == []


def test_redirect_to_another_scheme_is_refused(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, *[Fault(redirect="file:///etc/passwd")] * 5)
    with pytest.raises(DownloadError, match="file:///etc/passwd"):
        pull(["swiftf0"], manifest=url_manifest(fault_server), cache=tmp_path, options=options())
    assert not cached(tmp_path).exists()


def test_offline_mode_makes_no_requests(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault_server.add(PATH, model_bytes)
    manifest = url_manifest(fault_server)
    monkeypatch.setenv("VOCALMIDI_OFFLINE", "1")
    with pytest.raises(DownloadError, match="offline"):
        pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=PullOptions(allow_http=True))
    assert fault_server.requests(PATH) == []
    pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=options())  # online now
    [again] = pull(
        ["swiftf0"], manifest=manifest, cache=tmp_path, options=PullOptions(allow_http=True)
    )
    assert again.fetched == []
    assert len(fault_server.requests(PATH)) == 1


def test_concurrency_limit_bounds_parallel_connections(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    manifest = url_manifest(fault_server, extra_models=3)
    for model_id in manifest.models:
        fault_server.add(f"/{model_id}/model.onnx", model_bytes, throttle=0.01)
    pull(list(manifest.models), manifest=manifest, cache=tmp_path / "a", options=options(jobs=1))
    assert fault_server.peak_active == 1
    fault_server.peak_active = 0
    pull(list(manifest.models), manifest=manifest, cache=tmp_path / "b", options=options(jobs=2))
    assert fault_server.peak_active == 2
    for model_id in manifest.models:
        assert (tmp_path / "b" / "models" / model_id / "model.onnx").read_bytes() == model_bytes


def test_two_processes_pulling_at_once_download_once(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, throttle=0.05)  # ~0.5 s, so the pulls overlap
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps(url_manifest(fault_server).raw))
    code = (
        "import sys\n"
        "from vocalmidi.models import PullOptions, pull\n"
        "[r] = pull(['swiftf0'], manifest=sys.argv[1], cache=sys.argv[2],\n"
        "           options=PullOptions(allow_http=True, offline=False))\n"
        "print(r.onnx_path)\n"
    )
    env = {"PYTHONPATH": str(REPO / "pycontrol"), "PATH": "/usr/bin:/bin"}
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(manifest_file), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(fault_server.requests(PATH)) == 1
    assert cached(cache).read_bytes() == model_bytes
    assert {o[0].strip() for o in outs} == {str(cached(cache))}


def test_threads_pulling_the_same_model_download_once(
    fault_server: FaultServer, model_bytes: bytes, tmp_path: Path
) -> None:
    fault_server.add(PATH, model_bytes, throttle=0.02)
    manifest = url_manifest(fault_server)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            pull(["swiftf0"], manifest=manifest, cache=tmp_path, options=options())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fault_server.requests(PATH)) == 1
    assert ModelCache(tmp_path).verify(manifest.model("swiftf0"))[0].ok
