"""Shared fixtures for the plugin tests: a model cache holding the plugin's default model
(our vocalnote-s) and SwiftF0, the built VST3.

The cache is filled the way ``vocalmidi models pull vocalnote-s swiftf0`` fills it
(docs/CONTRACTS.md): vocalnote-s is the repository's file (checked against the manifest's
SHA-256), the real ``swift-f0`` wheel is fetched with pip and its ``model.onnx`` placed
under ``models/swiftf0/``; a manifest with their SHA-256 is written beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SWIFT_F0_WHEEL = "swift-f0==0.3.0"
SWIFT_F0_MEMBER = "swift_f0/model.onnx"
REPO = Path(__file__).resolve().parents[2]


def write_cache(root: Path, model_id: str, adapter: str, onnx: bytes, name: str,
                add: bool = False) -> Path:
    """Place ``onnx`` in a model cache at ``root`` with a manifest naming it (the default
    model; with ``add``, one more model in the existing manifest); return its path."""
    target = root / "models" / model_id / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(onnx)
    path = root / "manifest.json"
    manifest = json.loads(path.read_text()) if add else {
        "schema_version": 1, "default_model": model_id, "models": []}
    manifest["models"].append({
        "id": model_id,
        "adapter": adapter,
        "files": [{"name": name, "role": "onnx", "sha256": hashlib.sha256(onnx).hexdigest(),
                   "size": len(onnx)}],
    })
    path.write_text(json.dumps(manifest, indent=2))
    return target


def repo_model(model_id: str) -> tuple[bytes, str, str]:
    """A model that lives in the repository (models/trained): its bytes, checked against the
    manifest's SHA-256, its adapter and its file name."""
    entry = next(m for m in json.loads((REPO / "models" / "manifest.json").read_text())["models"]
                 if m["id"] == model_id)
    onnx = next(f for f in entry["files"] if f.get("role") == "onnx")
    data = (REPO / "models" / onnx["source"]["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == onnx["sha256"]
    return data, entry["adapter"], onnx["name"]


def fetch_swift_f0_onnx(download_dir: Path) -> bytes:
    """Download the swift-f0 wheel with pip and return its ONNX model's bytes."""
    download_dir.mkdir(parents=True, exist_ok=True)
    wheels = list(download_dir.glob("swift_f0-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", SWIFT_F0_WHEEL, "-d", str(download_dir)],
            check=True,
        )
        wheels = list(download_dir.glob("swift_f0-*.whl"))
    with zipfile.ZipFile(wheels[0]) as whl:
        return whl.read(SWIFT_F0_MEMBER)


@pytest.fixture(scope="session")
def swiftf0_onnx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    data = fetch_swift_f0_onnx(tmp_path_factory.mktemp("wheels"))
    # The repository's manifest pins the same file: a different hash means a changed wheel.
    repo_manifest = REPO / "models" / "manifest.json"
    if repo_manifest.exists():
        entry = next(m for m in json.loads(repo_manifest.read_text())["models"]
                     if m["id"] == "swiftf0")
        pinned = next(f for f in entry["files"] if f.get("role") == "onnx")["sha256"]
        assert hashlib.sha256(data).hexdigest() == pinned
    return data


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory, swiftf0_onnx: bytes) -> Path:
    """A model cache root holding vocalnote-s (the plugin's default model) and SwiftF0."""
    root = tmp_path_factory.mktemp("vocalmidi-cache")
    data, adapter, name = repo_model("vocalnote-s")
    write_cache(root, "vocalnote-s", adapter, data, name)
    write_cache(root, "swiftf0", "swiftf0", swiftf0_onnx, "model.onnx", add=True)
    return root


@pytest.fixture
def use_cache(model_cache: Path) -> Iterator[Path]:
    """Point VOCALMIDI_CACHE at that cache while a test runs (plugins read it)."""
    old = os.environ.get("VOCALMIDI_CACHE")
    os.environ["VOCALMIDI_CACHE"] = str(model_cache)
    try:
        yield model_cache
    finally:
        if old is None:
            os.environ.pop("VOCALMIDI_CACHE", None)
        else:
            os.environ["VOCALMIDI_CACHE"] = old


@pytest.fixture(scope="session")
def vst3_path() -> Path:
    """The built VocalMIDI.vst3 (``vocalmidi.native``; VOCALMIDI_NATIVE_DIR overrides)."""
    from vocalmidi import native

    return native.vst3_path()


# --- VST3 state as pedalboard sees it -------------------------------------------------------
# pedalboard's raw_state is JUCE's host XML (<VST3PluginState>) in JUCE's binary wrapper; the
# plugin's own state sits in <IComponent>, in JUCE's MemoryBlock base64 ("<size>.<chars>"),
# followed by the wrapper's private data (bypass, program), which must stay as it is.

_JUCE_B64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
_JUCE_BINARY_MAGIC = 0x21324356  # "VC2!"


def juce_binary(xml: str) -> bytes:
    """``AudioProcessor::copyXmlToBinary``: magic, length, UTF-8 text with a NUL."""
    text = xml.encode() + b"\x00"
    return _JUCE_BINARY_MAGIC.to_bytes(4, "little") + len(text).to_bytes(4, "little") + text


def _b64_decode(text: str) -> bytes:
    size_text, _, body = text.partition(".")
    size = int(size_text)
    value = 0
    for i, ch in enumerate(body):
        value |= _JUCE_B64.index(ch) << (6 * i)
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def _b64_encode(data: bytes) -> str:
    value = int.from_bytes(data, "little")
    chars = (len(data) * 8 + 5) // 6
    return f"{len(data)}." + "".join(_JUCE_B64[(value >> (6 * i)) & 63] for i in range(chars))


def plugin_blob(raw_state: bytes) -> bytes:
    """The plugin's own state inside pedalboard's ``raw_state``."""
    own, _ = _split_component(_host_xml(raw_state))
    return own


def with_plugin_blob(raw_state: bytes, blob: bytes) -> bytes:
    """``raw_state`` with the plugin's own state replaced by ``blob``."""
    root = _host_xml(raw_state)
    _, trailer = _split_component(root)
    comp = root.find("IComponent")
    assert comp is not None
    comp.text = _b64_encode(blob + trailer)
    text = ET.tostring(root, encoding="unicode").encode() + b"\x00"
    return _JUCE_BINARY_MAGIC.to_bytes(4, "little") + len(text).to_bytes(4, "little") + text


def _host_xml(raw_state: bytes) -> ET.Element:
    assert int.from_bytes(raw_state[:4], "little") == _JUCE_BINARY_MAGIC
    size = int.from_bytes(raw_state[4:8], "little")
    return ET.fromstring(raw_state[8 : 8 + size].rstrip(b"\x00").decode())


def _split_component(root: ET.Element) -> tuple[bytes, bytes]:
    comp = root.find("IComponent")
    assert comp is not None and comp.text
    data = _b64_decode(comp.text)
    assert int.from_bytes(data[:4], "little") == _JUCE_BINARY_MAGIC
    own = 8 + int.from_bytes(data[4:8], "little")
    return data[:own], data[own:]
