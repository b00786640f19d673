"""Where the model cache lives; a leaf module so the manifest and the cache both use it.

:mod:`vocalmidi.models.cache` reads and writes the cache and imports the manifest parser;
:mod:`vocalmidi.models.manifest` only needs the root (a manifest copy may be cached there),
so the root sits here and the two import one way: cache → manifest → cache_location.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_root"]


def cache_root() -> Path:
    """Return the cache root: ``$VOCALMIDI_CACHE`` or the per-user cache folder."""
    override = os.environ.get("VOCALMIDI_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("vocalmidi", appauthor=False))
