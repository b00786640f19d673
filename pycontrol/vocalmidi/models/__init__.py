"""Model supply: the manifest, the cache, and pulling verified models into it.

Typical use::

    from vocalmidi import models

    path = models.get_model_path()            # default model, pulled if needed
    models.pull(["basic-pitch"])              # fetch, verify, place atomically
    data = models.load_bytes("swiftf0")       # memoised within the process

See ``models/README.md`` in the source tree for the manifest format.
"""

from vocalmidi.models.cache import FileCheck, GcReport, ModelCache, cache_root
from vocalmidi.models.http import CacheWriteError, DownloadCancelled
from vocalmidi.models.manifest import (
    FileEntry,
    Manifest,
    ModelEntry,
    bundled_manifest_path,
    load_manifest,
    parse_manifest,
)
from vocalmidi.models.memo import clear_memo, get_model_path, load_bytes
from vocalmidi.models.progress import Progress, ProgressCallback
from vocalmidi.models.pull import PullOptions, PullResult, offline_from_env, pull, pull_preset

__all__ = [
    "CacheWriteError",
    "DownloadCancelled",
    "FileCheck",
    "FileEntry",
    "GcReport",
    "Manifest",
    "ModelCache",
    "ModelEntry",
    "Progress",
    "ProgressCallback",
    "PullOptions",
    "PullResult",
    "bundled_manifest_path",
    "cache_root",
    "clear_memo",
    "get_model_path",
    "load_bytes",
    "load_manifest",
    "offline_from_env",
    "parse_manifest",
    "pull",
    "pull_preset",
]
