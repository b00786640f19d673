"""Run systems over an evaluation set and collect per-condition metrics and timings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vocalmidi.eval.census import Census, census, census_by_kind
from vocalmidi.eval.dataset import EvalSet
from vocalmidi.eval.latency import EmissionStats, emission_latencies
from vocalmidi.eval.metrics import ClipScore, Summary, score_clip, summarize
from vocalmidi.eval.systems import System

__all__ = ["SystemResult", "evaluate", "results_to_json"]

ALL = "all"


@dataclass
class SystemResult:
    """One system's results on a set.

    ``by_condition`` maps each condition (and ``"all"``) to a :class:`Summary`; the
    ``"negative"`` condition only fills ``false_per_min``, and ``"all"`` pools every
    positive clip with the negatives' false notes. ``rtf`` is processing time divided by
    audio time (below 1 is faster than real time). ``meta`` is the system's settings.
    ``scores`` keeps each clip's condition, set metadata and score, for :meth:`by`.
    ``emission`` (systems that say when each note-on was available, see
    :func:`evaluate`) maps each condition and ``"all"`` to its emission latencies.
    ``census`` maps each positive condition and ``"all"`` to the error census of its
    notes (:mod:`vocalmidi.eval.census`); :meth:`census_by` groups it by clip metadata.
    ``note_kinds`` maps the same keys to the true notes' census per note kind (after a
    rest, legato change, repeated pitch), from each clip's in ``kind_censuses``;
    :meth:`note_kinds_by` groups them by clip metadata, e.g. per voice source (a patch
    sung legato sounds its old note on under the new one's attack, a sung-syllable voice
    glides: docs/evaluation.md).
    """

    system: str
    by_condition: dict[str, Summary]
    clips: list[dict[str, Any]] = field(default_factory=list)
    seconds_audio: float = 0.0
    seconds_cpu: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    scores: list[tuple[str, dict[str, Any], ClipScore]] = field(default_factory=list,
                                                               repr=False)
    emission: dict[str, EmissionStats] = field(default_factory=dict)
    censuses: list[tuple[str, dict[str, Any], Census]] = field(default_factory=list,
                                                               repr=False)
    kind_censuses: list[tuple[str, dict[str, Any], dict[str, Census]]] = field(
        default_factory=list, repr=False)

    @property
    def census(self) -> dict[str, Census]:
        out: dict[str, Census] = {}
        for cond, _, c in self.censuses:
            for key in (cond, ALL):
                out[key] = out.get(key, Census()) + c
        return out

    def census_by(self, key: str) -> dict[str, Census]:
        """The census of every positive clip pooled per value of ``meta[key]``, sorted."""
        out: dict[str, Census] = {}
        for _, meta, c in self.censuses:
            if key in meta:
                out[str(meta[key])] = out.get(str(meta[key]), Census()) + c
        return dict(sorted(out.items()))

    @staticmethod
    def _pool_kinds(keyed: Iterable[tuple[str, dict[str, Census]]],
                    ) -> dict[str, dict[str, Census]]:
        out: dict[str, dict[str, Census]] = {}
        for key, kinds in keyed:
            got = out.setdefault(key, {})
            for kind, c in kinds.items():
                got[kind] = got.get(kind, Census()) + c
        return out

    @property
    def note_kinds(self) -> dict[str, dict[str, Census]]:
        return self._pool_kinds((key, kinds) for cond, _, kinds in self.kind_censuses
                                for key in (cond, ALL))

    def note_kinds_by(self, key: str) -> dict[str, dict[str, Census]]:
        """The note-kind census of every positive clip pooled per value of ``meta[key]``,
        sorted."""
        return dict(sorted(self._pool_kinds((str(meta[key]), kinds)
                                            for _, meta, kinds in self.kind_censuses
                                            if key in meta).items()))

    @property
    def rtf(self) -> float:
        return self.seconds_cpu / self.seconds_audio if self.seconds_audio else 0.0

    def by(self, key: str) -> dict[str, dict[str, Summary]]:
        """Summaries per condition and per value of the clips' ``meta[key]``.

        Parameters
        ----------
        key : str
            A field of the clips' metadata (see :func:`vocalmidi.eval.dataset.make_set`),
            e.g. ``patch`` (voice patch), ``style``, ``voice`` or ``soundfont``. Clips
            without it (the negatives) are left out.

        Returns
        -------
        dict
            ``{condition: {value: Summary}}``, values sorted.
        """
        groups: dict[str, dict[str, list[ClipScore]]] = {}
        for cond, meta, score in self.scores:
            if key in meta:
                groups.setdefault(cond, {}).setdefault(str(meta[key]), []).append(score)
        return {c: {v: summarize(g[v]) for v in sorted(g)} for c, g in groups.items()}


def evaluate(
    systems: Sequence[System],
    eval_set: EvalSet,
    progress: Callable[[str], None] | None = None,
) -> list[SystemResult]:
    """Transcribe every clip with every system and score the results.

    Parameters
    ----------
    systems : sequence of System
        Constructed systems (see :func:`vocalmidi.eval.systems.get_system`).
    eval_set : EvalSet
        A loaded set.
    progress : callable, optional
        Called with one line per system and clip.

    A system that has an ``emissions`` attribute (``(seconds, pitch)`` of each note-on of
    its last ``transcribe``, at the time it became available) also gets emission
    latencies per condition: available minus true onset, same pitch.
    """
    audio_cache = {c.id: c.load_audio() for c in eval_set}
    results: list[SystemResult] = []
    for system in systems:
        scores: dict[str, list[ClipScore]] = {}
        res = SystemResult(system.name, {}, meta=dict(getattr(system, "meta", {})))
        for clip in eval_set:
            audio, sr = audio_cache[clip.id]
            t0 = time.perf_counter()
            est = system.transcribe(audio, sr)
            dt = time.perf_counter() - t0
            s = score_clip(clip.notes, est, clip.duration, clip.negative)
            scores.setdefault(clip.condition, []).append(s)
            res.scores.append((clip.condition, clip.meta, s))
            if not clip.negative:
                res.censuses.append((clip.condition, clip.meta, census(clip.notes, est)))
                res.kind_censuses.append((clip.condition, clip.meta,
                                          census_by_kind(clip.notes, est)))
            emitted = getattr(system, "emissions", None)
            if emitted is not None and not clip.negative:
                e = emission_latencies(clip.notes, emitted)
                for key in (clip.condition, ALL):
                    res.emission[key] = res.emission[key].merge(e) if key in res.emission \
                        else e
            res.seconds_audio += clip.duration
            res.seconds_cpu += dt
            res.clips.append({"id": clip.id, "condition": clip.condition, "n_ref": s.n_ref,
                              "n_est": s.n_est, "hits_50": s.hits_50, "seconds": round(dt, 4),
                              "duration": round(clip.duration, 3)})
            if progress:
                progress(f"{system.name}: {clip.id}: {s.n_est} notes "
                         f"({s.hits_50}/{s.n_ref} right) in {dt:.2f} s")
        for cond, group in scores.items():
            res.by_condition[cond] = summarize(group)
        res.by_condition[ALL] = summarize(s for g in scores.values() for s in g)
        results.append(res)
    return results


def results_to_json(results: Sequence[SystemResult],
                    by: Sequence[str] = ("patch", "kind")) -> dict[str, Any]:
    """Plain-JSON form of the results (per system: conditions, timings, clips).

    For each ``key`` of ``by``, ``by_<key>`` holds the summaries per condition and value
    of that clip metadata (:meth:`SystemResult.by`): ``by_patch`` per voice patch,
    ``by_kind`` per kind of negative clip (speech, piano, ...).
    ``census`` holds the error census per condition, ``census_by_soundfont`` per voice
    source (all conditions pooled), ``census_by_note_kind`` the true notes' classes per
    condition and note kind, ``census_by_note_kind_and_soundfont`` per voice source and
    note kind.
    """
    return {
        "systems": {
            r.system: {
                "meta": r.meta,
                "rtf": round(r.rtf, 4),
                "seconds_audio": round(r.seconds_audio, 3),
                "seconds_cpu": round(r.seconds_cpu, 3),
                "conditions": {c: s.as_dict() for c, s in r.by_condition.items()},
                **({"emission": {c: e.as_dict() for c, e in r.emission.items()}}
                   if r.emission else {}),
                **{f"by_{key}": {c: {v: s.as_dict() for v, s in g.items()}
                                 for c, g in r.by(key).items()} for key in by},
                "census": {c: v.as_dict() for c, v in r.census.items()},
                "census_by_soundfont": {k: v.as_dict()
                                        for k, v in r.census_by("soundfont").items()},
                "census_by_note_kind": {c: {k: v.as_dict() for k, v in g.items()}
                                        for c, g in r.note_kinds.items()},
                "census_by_note_kind_and_soundfont": {
                    src: {k: v.as_dict() for k, v in g.items()}
                    for src, g in r.note_kinds_by("soundfont").items()},
                "clips": r.clips,
            }
            for r in results
        }
    }
