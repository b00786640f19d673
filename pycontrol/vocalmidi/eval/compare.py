"""Is a candidate really better? Two result files on one evaluation set, compared take by take.

A fine-tune that moves note F1@50 by 0.01 on the evaluation set may only have been lucky
with a few takes. :func:`compare` answers with a paired bootstrap: it draws the set's takes
with replacement many times, the same draw for both systems, and reports the 95 % interval
of the difference in pooled F1@50 (and in false notes per minute, over the negative clips).
A take's clean, room and noisy renderings are drawn together (they share one performance),
so the interval is honest about how many independent takes there are.

Input: the JSON of ``vocalmidi eval run --out`` or a bench's ``results.json`` (per clip:
``n_ref``, ``n_est``, ``hits_50``; ``duration`` for the negatives, written since 2026-12-05).
:func:`select` narrows both to a part of the set by clip id (one voice, the renderings
never looked at while choosing, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.errors import UsageError

__all__ = ["CELLS", "Difference", "compare", "load_clips", "peer_differences", "select"]

CONDITIONS = ("clean", "room", "noisy", "all")
RESAMPLES = 4000
CELLS = ("figure", "condition", "base", "new", "new - base", "95 % interval", "units",
         "verdict")  # the column names of Difference.cells


@dataclass(frozen=True)
class Difference:
    """One figure of two systems and the 95 % bootstrap interval of ``new - base``."""

    metric: str  # "f1_50" or "false_per_min"
    condition: str
    base: float
    new: float
    low: float
    high: float
    units: int  # independent units drawn: takes, or negative clips

    @property
    def delta(self) -> float:
        return self.new - self.base

    @property
    def verdict(self) -> str:
        """``better`` / ``worse`` when the interval excludes 0, else ``no clear difference``."""
        better_up = self.metric == "f1_50"
        if self.low > 0:
            return "better" if better_up else "worse"
        if self.high < 0:
            return "worse" if better_up else "better"
        return "no clear difference"

    def cells(self) -> list[str]:
        """figure, condition, base, new, new - base, interval, units, verdict: as printed."""
        f1 = self.metric == "f1_50"
        return ["F1@50" if f1 else "false notes/min", self.condition, f"{self.base:.3f}",
                f"{self.new:.3f}", f"{self.delta:+.3f}", f"{self.low:+.3f} .. {self.high:+.3f}",
                f"{self.units} {'takes' if f1 else 'clips'}", self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "condition": self.condition, "base": self.base,
                "new": self.new, "delta": self.delta, "ci95": [self.low, self.high],
                "units": self.units, "verdict": self.verdict}


def load_clips(spec: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """``FILE`` or ``FILE:SYSTEM`` -> (system name, per-clip records by clip id).

    Raises
    ------
    UsageError
        When the file is missing or not a results file, or names several systems and
        ``:SYSTEM`` does not pick one of them.
    """
    path, name = spec, ""
    if not Path(spec).exists() and ":" in spec:
        path, _, name = spec.rpartition(":")
    try:
        doc = json.loads(Path(path).read_text())
        systems = doc["systems"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a results file of `vocalmidi eval run --out` or "
                         f"`vocalmidi bench` ({exc})") from exc
    if not name:
        if len(systems) != 1:
            raise UsageError(f"{path} holds systems {sorted(systems)}: write {path}:NAME")
        name = next(iter(systems))
    if name not in systems:
        raise UsageError(f"{path} has no system {name!r} (it holds {sorted(systems)})")
    clips = systems[name].get("clips") or []
    if not clips:
        raise UsageError(f"{path}: system {name!r} has no per-clip results")
    return name, {c["id"]: c for c in clips}


def select(clips: dict[str, dict[str, Any]], patterns: Sequence[str]
           ) -> dict[str, dict[str, Any]]:
    """The clips whose id matches one of the shell patterns (all of them when none given).

    Ids name the melody, singer, voice, style, rendering and condition, e.g.
    ``bach-bwv1.6-male-musescore-voice_oohs-expressive-r3-room`` and ``negative-pink-0``:
    ``*voice_oohs*`` keeps one voice, ``*-r4-*`` ``*-r5-*`` ``negative-*`` the fourth and
    fifth renderings and the negatives.

    Raises
    ------
    UsageError
        When no clip matches.
    """
    if not patterns:
        return clips
    kept = {i: c for i, c in clips.items() if any(fnmatchcase(i, p) for p in patterns)}
    if not kept:
        raise UsageError(f"no clip id matches {' or '.join(patterns)} "
                         f"(ids look like {min(clips)})")
    return kept


def _take(clip: dict[str, Any]) -> str:
    """The performance a clip renders: its id less the condition suffix."""
    suffix = "-" + clip["condition"]
    return clip["id"][: -len(suffix)] if clip["id"].endswith(suffix) else clip["id"]


def _f1_sums(clips: list[dict[str, Any]], groups: list[list[int]]) -> np.ndarray:
    """Per group (take): summed (hits, n_ref + n_est), shape (groups, 2)."""
    return np.array([[sum(clips[i]["hits_50"] for i in g),
                      sum(clips[i]["n_ref"] + clips[i]["n_est"] for i in g)] for g in groups],
                    dtype=float)


def _f1(sums: np.ndarray) -> np.ndarray:
    """Pooled F1 of summed (hits, n_ref + n_est) over the last-but-one axis."""
    hits, total = sums[..., 0], sums[..., 1]
    return np.where(total > 0, 2 * hits / np.maximum(total, 1), 0.0)


def compare(base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
            resamples: int = RESAMPLES, seed: int = 0) -> list[Difference]:
    """F1@50 per condition and false notes per minute, ``new`` against ``base``.

    Raises
    ------
    UsageError
        When the two were not run on the same clips.
    """
    if set(base) != set(new):
        only = sorted(set(base) ^ set(new))
        raise UsageError(f"the two results cover different clips ({len(only)} in one only, "
                         f"e.g. {only[0]}): run both on the same evaluation set")
    ids = sorted(base)
    rng = np.random.default_rng(seed)
    out: list[Difference] = []
    for cond in CONDITIONS:
        chosen = [i for i in ids if base[i]["condition"] != "negative"
                  and (cond == "all" or base[i]["condition"] == cond)]
        if not chosen:
            continue
        takes: dict[str, list[int]] = {}
        for k, i in enumerate(chosen):
            takes.setdefault(_take(base[i]), []).append(k)
        groups = list(takes.values())
        a = _f1_sums([base[i] for i in chosen], groups)
        b = _f1_sums([new[i] for i in chosen], groups)
        draw = rng.integers(0, len(groups), size=(resamples, len(groups)))
        deltas = _f1(b[draw].sum(1)) - _f1(a[draw].sum(1))
        low, high = np.percentile(deltas, [2.5, 97.5])
        out.append(Difference("f1_50", cond, float(_f1(a.sum(0))), float(_f1(b.sum(0))),
                              float(low), float(high), len(groups)))
    negatives = [i for i in ids if base[i]["condition"] == "negative"]
    if negatives and all("duration" in base[i] for i in negatives):
        minutes = np.array([base[i]["duration"] for i in negatives]) / 60.0
        a = np.array([base[i]["n_est"] for i in negatives], dtype=float)
        b = np.array([new[i]["n_est"] for i in negatives], dtype=float)
        draw = rng.integers(0, len(negatives), size=(resamples, len(negatives)))
        deltas = (b[draw].sum(1) - a[draw].sum(1)) / minutes[draw].sum(1)
        low, high = np.percentile(deltas, [2.5, 97.5])
        out.append(Difference("false_per_min", "negative", float(a.sum() / minutes.sum()),
                              float(b.sum() / minutes.sum()), float(low), float(high),
                              len(negatives)))
    return out


def peer_differences(doc: Mapping[str, Any], ours: tuple[str, ...] = ("vocalmidi",
                                                                      "vocalnote-offline")
                     ) -> list[tuple[str, str, Difference]]:
    """For a bench's ``results.json`` document: each of our systems against each peer of
    the same run, as (ours, peer, difference) for F1@50 "all" and false notes/min, with
    ``new`` = ours and ``base`` = the peer (a positive F1 difference: ours is ahead)."""
    from vocalmidi.eval.systems import PEERS

    systems = doc.get("systems") or {}
    rows = []
    for mine in (s for s in ours if systems.get(s, {}).get("clips")):
        for peer in (p for p in PEERS if systems.get(p, {}).get("clips")):
            clips = [{c["id"]: c for c in systems[name]["clips"]} for name in (peer, mine)]
            rows += [(mine, peer, d) for d in compare(*clips)
                     if d.condition in ("all", "negative")]
    return rows
