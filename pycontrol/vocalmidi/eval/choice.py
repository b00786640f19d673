"""Choose the default model and tracker settings from benchmark numbers, and record them.

``vocalmidi bench`` runs our engine (``vocalmidi``, and variants such as
``vocalmidi@crepe-tiny`` with another model) beside the peers, and each model live
through the plugin. :func:`choose_default` takes, among our variants that may be the
default, those whose note F1 (onset 50 ms, pitch) pooled over all conditions is within
:data:`F1_MARGIN` of the best, and of those the one whose note-ons leave the plugin soonest
(median emission latency); without live numbers, the best F1 (ties: F1 at 100 ms, then
fewer false notes). A variant may be the default when every user can pull its model (its
files come from a pinned wheel, a URL or this repository, not from a conversion recipe that
needs the development tools (torch) at pull time), the engine runs it live (an f0 model, or
our streaming note model) and it runs in the default latency mode (Instant, which a pitch
model runs as Fast): Accurate trades latency for steadier notes, a choice the user makes,
so it is measured side by side but not ranked against the default (:func:`ineligible`). Then
:func:`default_choice` writes down that choice with its numbers: the object stored as
``default_choice`` in ``models/manifest.json`` (schema: ``models/manifest.schema.json``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vocalmidi.errors import UsageError

__all__ = ["CONDITIONS", "F1_MARGIN", "choose_default", "default_choice", "engine_settings",
           "ineligible", "write_choice"]

CONDITIONS = ("clean", "room", "noisy", "all")
OURS = "vocalmidi"
F1_MARGIN = 0.02
"""Note-F1 differences this small (2 points) are within what another melody or two would
change on the full set; latency decides between such variants."""


def _is_ours(name: str) -> bool:
    return name == OURS or name.startswith((OURS + "@", OURS + "+"))


def ineligible(systems: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, str]:
    """Our variants that cannot be the default, with the reason."""
    models = {m["id"]: m for m in manifest.get("models", [])}

    def mode(name: str) -> str | None:
        meta = systems.get(name, {}).get("meta") or {}
        return (meta.get("settings") or {}).get("latency_mode")

    default_mode = mode(OURS)
    out: dict[str, str] = {}
    for name, doc in systems.items():
        if not _is_ours(name):
            continue
        model = (doc.get("meta") or {}).get("model")
        entry = models.get(model)
        if entry is None:
            out[name] = f"model {model!r} is not in the manifest"
            continue
        kinds = {f["source"]["type"] for f in entry["files"]}
        if not kinds <= {"wheel", "url", "path"}:
            out[name] = (f"{model} is made at pull time by a {'/'.join(sorted(kinds))} "
                         "source that needs the development tools (torch)")
        elif entry.get("task") != "f0" and entry.get("adapter") != "vocalnote":
            out[name] = f"{model} does not run live (an f0 model or our streaming note model)"
        elif default_mode is not None and mode(name) not in (None, default_mode):
            out[name] = (f"{mode(name)} latency mode: a trade-off the user picks; the default "
                         f"is {default_mode}")
    return out


def _live_median(name: str, live: Mapping[str, Any] | None) -> float | None:
    row = ((live or {}).get("variants") or {}).get(name)
    return row["emission"]["median_ms"] if row else None


def choose_default(systems: Mapping[str, Any], live: Mapping[str, Any] | None = None,
                   excluded: Mapping[str, str] | None = None) -> str:
    """Name of the best of our variants in a results document's ``systems``.

    Parameters
    ----------
    systems : mapping
        ``results["systems"]``.
    live : mapping, optional
        ``results["live"]``: its ``variants`` give each variant's emission latency.
    excluded : mapping, optional
        Variants that may not be the default (see :func:`ineligible`).

    Raises
    ------
    UsageError
        When the results hold none of our variants that may be the default.
    """
    ours = {k: v for k, v in systems.items() if _is_ours(k) and k not in (excluded or {})}
    if not ours:
        raise UsageError("the results hold no `vocalmidi` system that may be the default: "
                         "run the bench with it")

    def key(name: str) -> tuple[float, float, float]:
        c = ours[name]["conditions"]
        a = c.get("all", {})
        neg = c.get("negative", {}).get("false_per_min") or 0.0
        return (a.get("f1_50") or 0.0, a.get("f1_100") or 0.0, -neg)

    best = max(ours, key=key)
    near = [n for n in ours if key(n)[0] >= key(best)[0] - F1_MARGIN
            and _live_median(n, live) is not None]
    if near:
        return min(near, key=lambda n: (_live_median(n, live), [-x for x in key(n)]))
    return best


def engine_settings(**params: Any) -> dict[str, Any]:
    """The engine's tracker settings as a fresh engine has them, with ``params`` applied
    (enum settings by name, e.g. ``latency_mode: "fast"``)."""
    from vocalmidi.engine import PARAM_NAMES, BendMode, Engine, LatencyMode, Scale, VelocityMode

    enums = {"bend_mode": BendMode, "latency_mode": LatencyMode, "scale": Scale,
             "velocity_mode": VelocityMode}
    with Engine() as eng:
        for k, v in params.items():
            eng.set_param(k, v)
        out: dict[str, Any] = {}
        for name in PARAM_NAMES:
            v = eng.get_param(name)
            out[name] = (enums[name](int(v)).name.lower() if name in enums
                         else (int(v) if float(v).is_integer() else round(v, 4)))
    return out


def default_choice(results: Mapping[str, Any], command: str,
                   manifest: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``default_choice`` object for the manifest, from a ``results.json`` document.

    Parameters
    ----------
    results : mapping
        What ``vocalmidi bench`` wrote (systems, set, and the live sweep if it ran).
    command : str
        The command that produced ``results``.
    manifest : mapping, optional
        The manifest document that says which models may be the default (default: the
        one shipped with the package or source tree).
    """
    if manifest is None:
        from vocalmidi.models.manifest import bundled_manifest_path

        path = bundled_manifest_path()
        manifest = json.loads(path.read_text()) if path else {}
    systems = results["systems"]
    live = results.get("live") or {}
    excluded = ineligible(systems, manifest)
    name = choose_default(systems, live, excluded)
    sys_doc = systems[name]
    conds = sys_doc["conditions"]

    def per_cond(metric: str) -> dict[str, float | None]:
        return {c: conds[c].get(metric) for c in CONDITIONS if c in conds}

    meta = sys_doc.get("meta") or {}
    settings = dict(meta.get("settings") or {})
    rows = live.get("host", []) if name == OURS else [
        r for r in [(live.get("variants") or {}).get(name)] if r]
    emission = {
        str(r["block_size"]): {"median_ms": r["emission"]["median_ms"],
                               "p95_ms": r["emission"]["p95_ms"],
                               "notes_found": r["emission"]["recall"],
                               "reported_ms": r["reported_latency_ms"]}
        for r in rows
    }
    candidates = {
        n: {"model": (v.get("meta") or {}).get("model"),
            "note_f1_50": v["conditions"].get("all", {}).get("f1_50"),
            "note_f1_100": v["conditions"].get("all", {}).get("f1_100"),
            "false_notes_per_min": v["conditions"].get("negative", {}).get("false_per_min"),
            "emission_median_ms": _live_median(n, live),
            **({"not_eligible": excluded[n]} if n in excluded else {})}
        for n, v in systems.items() if _is_ours(n)
    }
    set_doc = results.get("set", {})
    return {
        "model": meta.get("model") or "",
        "system": name,
        "latency_mode": settings.get("latency_mode", "fast"),
        "settings": settings,
        "note_f1_50": per_cond("f1_50"),
        "note_f1_100": per_cond("f1_100"),
        "onset_offset_f1": per_cond("f1_offset"),
        "pitch_accuracy": per_cond("pitch_accuracy"),
        "false_notes_per_min": conds.get("negative", {}).get("false_per_min"),
        "emission_latency_ms": emission,
        "eval_set": {"clips": set_doc.get("clips"), "quick": set_doc.get("quick")},
        "candidates": candidates,
        "rule": "among variants in the default latency mode whose model every user can pull "
                "(wheel, URL or repository source) and the engine runs live, the best note "
                "F1@50ms over all conditions; within "
                f"{F1_MARGIN:.2f} of it, the lowest median emission latency through the plugin",
        "compared_with": sorted(k for k in systems if k != name),
        "date": datetime.date.today().isoformat(),
        "command": command,
    }


def write_choice(manifest_path: str | Path, choice: Mapping[str, Any]) -> None:
    """Store ``choice`` as ``default_choice`` in a manifest file (other keys untouched).

    Raises
    ------
    UsageError
        When a variant beat the default configuration (``vocalmidi``: the manifest's
        ``default_model`` with the engine's default settings), or the chosen model is not
        ``default_model``: change the defaults first, deliberately, and measure again.
    """
    path = Path(manifest_path)
    doc = json.loads(path.read_text())
    if choice["system"] != OURS or doc.get("default_model") != choice["model"]:
        raise UsageError(
            f"the numbers favour {choice['system']} (model {choice['model']!r}, "
            f"{choice['latency_mode']} mode) over the defaults ({path}: default_model "
            f"{doc.get('default_model')!r}): change the defaults first, then measure again")
    doc["default_choice"] = dict(choice)
    path.write_text(json.dumps(doc, indent=2) + "\n")
