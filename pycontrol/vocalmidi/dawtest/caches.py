"""Model caches for the missing/corrupt-model scenarios, and pointing instances at them."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The plugin's default model (its "Model" parameter's default), which the broken caches
# damage: the plugin looks it up by id, so the fake manifest names it with its own file.
DEFAULT_MODEL = ("vocalnote-s", "vocalnote", "vocalnote-s-int8.onnx")  # id, adapter, file


def write_broken_cache(root: Path, kind: str, genuine: bytes | None) -> None:
    """Fill ``root`` as a cache whose default model is ``"missing"`` (no files at all) or
    ``"corrupt"`` (the manifest names the genuine model's SHA-256, the file's bytes differ)."""
    if kind == "missing":
        return
    if genuine is None:
        raise ValueError("a corrupt cache needs the genuine model's bytes")
    model_id, adapter, name = DEFAULT_MODEL
    data = bytes(b ^ 0x5A for b in genuine[:4096]) + genuine[4096:]
    target = root / "models" / model_id / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    (root / "manifest.json").write_text(json.dumps({
        "schema_version": 1, "default_model": model_id,
        "models": [{"id": model_id, "adapter": adapter, "files": [{
            "name": name, "role": "onnx", "size": len(genuine),
            "sha256": hashlib.sha256(genuine).hexdigest()}]}]}))


@contextmanager
def model_cache(path: Path | None) -> Iterator[None]:
    """Point VOCALMIDI_CACHE at ``path`` while instances are created (None: unchanged).

    The plugin reads the variable when its model loader runs, i.e. at construction.
    """
    if path is None:
        yield
        return
    old = os.environ.get("VOCALMIDI_CACHE")
    os.environ["VOCALMIDI_CACHE"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("VOCALMIDI_CACHE", None)
        else:
            os.environ["VOCALMIDI_CACHE"] = old


@contextmanager
def broken_model_cache(kind: str, genuine: bytes | None) -> Iterator[None]:
    """A temporary cache made by :func:`write_broken_cache`, in use while the block runs."""
    with tempfile.TemporaryDirectory(prefix="vocalmidi-dawtest-") as tmp:
        root = Path(tmp)
        write_broken_cache(root, kind, genuine)
        with model_cache(root):
            yield
