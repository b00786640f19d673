"""Training clips as ``vocalmidi train data`` writes them, and their cached features.

A data folder holds ``index.json`` and ``clips/<id>.npz``; each clip has ``audio``
(float32, 16 kHz) and the label arrays of :data:`vocalmidi.train.contract.LABEL_KEYS`,
one value per label frame. The ground-truth notes of a clip are read back from its
labels (a note starts at an onset frame, ends where sounding stops or the next note
starts), so scoring needs nothing beyond the labels the model trains on.

Front-end features are computed once per clip and cached as float16 ``.npy`` under
``<data>/features/<front-end version>/`` (about 0.75 KB per 5 ms frame).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note
from vocalmidi.train.contract import HOP, LABEL_KEYS, SAMPLE_RATE, num_frames

if TYPE_CHECKING:
    from vocalmidi.train.features import FrontEnd

__all__ = ["FEATURE_VERSION", "Clip", "clip_entries", "clip_features", "clip_ids",
           "feature_version", "load_clip", "notes_from_labels", "read_clips"]

FEATURE_VERSION = "fe1"  # bump when vocalmidi.train.features changes


def feature_version(front: FrontEnd) -> str:
    """Cache folder name of a front end (with its optional blocks or without)."""
    return (FEATURE_VERSION + (f"+mid{front.mid_window}" if front.mid_window else "")
            + (f"+lag{front.lag_window}" if front.lag_window else "")
            + ("+peak" if front.lag_peak else ""))


@dataclass
class Clip:
    """One clip: audio, labels and (once computed) features."""

    id: str
    audio: np.ndarray
    labels: dict[str, np.ndarray]
    features: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # the clip's index entry

    @property
    def frames(self) -> int:
        return len(self.labels["onset"])

    @property
    def negative(self) -> bool:
        """A clip that holds no note (speech, noise, chords...)."""
        return not bool(np.any(self.labels["sounding"]))

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    def notes(self) -> list[Note]:
        return notes_from_labels(self.labels)


def clip_entries(root: Path) -> list[dict[str, Any]]:
    """Index entries of a data folder's clips (``id`` at least), in index order.

    Without an index (a generator run that was stopped), the clip files found, sorted.
    """
    index = root / "index.json"
    if index.exists():
        data = json.loads(index.read_text())
        entries = data.get("clips", data) if isinstance(data, dict) else data
        found = [e if isinstance(e, dict) else {"id": str(e)} for e in entries]
        if found:
            return found
    found = [{"id": p.stem} for p in sorted((root / "clips").glob("*.npz"))]
    if not found:
        raise UsageError(f"{root} holds no clips (expected index.json and clips/*.npz; "
                         "make them with `vocalmidi train data`)")
    return found


def clip_ids(root: Path) -> list[str]:
    """Clip ids of a data folder (see :func:`clip_entries`)."""
    return [e["id"] for e in clip_entries(root)]


def load_clip(root: Path, cid: str) -> Clip:
    """Read one clip and check its arrays agree with the contract."""
    path = root / "clips" / f"{cid}.npz"
    try:
        with np.load(path) as z:
            audio = np.asarray(z["audio"], np.float32)
            labels = {k: np.asarray(z[k]) for k in LABEL_KEYS}
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(f"cannot read training clip {path}: {exc}") from exc
    frames = num_frames(len(audio))
    bad = [k for k, v in labels.items() if len(v) != frames]
    if bad:
        raise UsageError(f"{path}: label arrays {bad} do not have {frames} frames "
                         f"for {len(audio)} samples")
    return Clip(cid, audio, labels)


def clip_features(front: FrontEnd, audio: np.ndarray) -> np.ndarray:
    """``front``'s features of a clip's audio, one row per label frame (float32): the
    stream starts from a zero context, as the streaming model's does."""
    import torch

    from vocalmidi.train.contract import CONTEXT, LOOKAHEAD_HOPS
    from vocalmidi.train.export import pad_for_frames

    padded, frames = pad_for_frames(audio)
    buf = torch.from_numpy(np.concatenate([np.zeros(CONTEXT, np.float32), padded]))[None]
    with torch.no_grad():
        return front(buf)[0, LOOKAHEAD_HOPS:LOOKAHEAD_HOPS + frames].numpy()


def _cached_features(root: Path, clip: Clip, front: FrontEnd) -> np.ndarray:
    path = root / "features" / feature_version(front) / f"{clip.id}.npy"
    if path.exists():
        feats = np.load(path)
        if len(feats) == clip.frames:
            return feats
    feats = clip_features(front, clip.audio).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, feats)
    tmp.replace(path)
    return feats


def read_clips(root: str | Path, front: FrontEnd | None = None,
               limit: int | None = None) -> Iterator[Clip]:
    """Yield the clips of a data folder, with ``front``'s features (cached in the folder)
    when a front end is given (:mod:`vocalmidi.train.features`)."""
    root = Path(root)
    for entry in clip_entries(root)[:limit]:
        clip = load_clip(root, entry["id"])
        clip.meta = entry
        if front is not None:
            clip.features = _cached_features(root, clip, front)
        yield clip


def notes_from_labels(labels: dict[str, np.ndarray]) -> list[Note]:
    """Ground-truth notes of a clip from its frame labels (times at frame starts)."""
    onset = np.asarray(labels["onset"]).astype(bool)
    sounding = np.asarray(labels["sounding"]).astype(bool)
    note = np.asarray(labels["note"])
    t = HOP / SAMPLE_RATE
    notes: list[Note] = []
    starts = np.flatnonzero(onset)
    for i, k in enumerate(starts):
        stop = int(starts[i + 1]) if i + 1 < len(starts) else len(onset)
        quiet = np.flatnonzero(~sounding[k + 1:stop])
        end = k + 1 + int(quiet[0]) if quiet.size else stop
        if note[k] >= 0:
            notes.append(Note(k * t, end * t, int(note[k])))
    return notes
