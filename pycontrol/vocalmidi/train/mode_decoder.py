"""A latency mode's own decoder thresholds, tuned and written into a shipped note model.

In Fast and Accurate the engine holds every note event for a decision budget (15 / 40 ms,
``MlPipeline::noteModelBudgetMs``) and never sends a wrong guess that a retrigger corrects
within it (:func:`~vocalmidi.train.decode.cancel_unsent_guesses`). A decoder tuned for
Instant cannot use that: it waits for a sure pitch before every note-on. Tuned for
Accurate's budget it may guess sooner and correct for free (measured in session 14: dev
live F1@50 0.806 -> 0.823, validation voices 0.792 -> 0.823; docs/engine.md).

The thresholds go into the ONNX file as metadata ``vocalmidi.decoder.<mode>`` (the
engine's NoteModel and the Python twin read it; a model without it decodes every mode with
``vocalmidi.decoder``), and into the model's metrics.json (``decoder_modes``) with the
dev metrics before and after. Only the dev split is used: the validation voices stay
unseen. Run from the repository root, after making the dev data of the model's recipe::

    python -m vocalmidi.train.mode_decoder models/trained/vocalnote-s --mode accurate
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vocalmidi.errors import UsageError

__all__ = ["BUDGET_MS", "MODES", "decoder_for", "metadata_key", "mode_for_budget", "tune_mode"]

# The engine's decision budget per latency mode (MlPipeline::noteModelBudgetMs).
BUDGET_MS = {"instant": 0, "fast": 15, "accurate": 40}
# Modes that get thresholds of their own: Fast's 15 ms is too short to cancel a guess (a
# retrigger needs 3 frames; measured tuned for it: dev 0.799 -> 0.803, not worth a second set).
MODES = ("accurate",)


def metadata_key(mode: str) -> str:
    return f"vocalmidi.decoder.{mode}"


def mode_for_budget(budget_ms: float) -> str:
    """The latency mode whose decision budget this is (``instant`` for any other)."""
    for mode, ms in BUDGET_MS.items():
        if abs(ms - budget_ms) < 1e-6:
            return mode
    return "instant"


def decoder_for(metadata: dict[str, str], mode: str):  # -> DecoderConfig
    """The live decoder's thresholds for ``mode`` from a model's metadata: the mode's own
    set when the model has one, else the shipped ``vocalmidi.decoder`` (else defaults)."""
    from vocalmidi.train.decode import DecoderConfig

    shipped = metadata.get(metadata_key(mode)) or metadata.get("vocalmidi.decoder")
    return DecoderConfig.from_dict(json.loads(shipped)) if shipped else DecoderConfig()


def _dev_dirs(model_dir: Path) -> list[Path]:
    import tomllib

    recipe = tomllib.loads((model_dir / "recipe.toml").read_text())
    dev = recipe.get("data", {}).get("dev", [])
    return [Path(d) for d in ([dev] if isinstance(dev, str) else dev)]


def tune_mode(model_dir: Path, mode: str, passes: int = 2) -> dict[str, Any]:
    """Tune ``mode``'s thresholds on the recipe's dev split, starting from the shipped
    ones, and write them into the model (ONNX metadata, metrics.json). Returns the
    metrics.json entry."""
    import onnx

    from vocalmidi.models.hashing import sha256_file
    from vocalmidi.train.decode import DecoderConfig
    from vocalmidi.train.trainer import TUNE_REFINE, _load, evaluate, model_outputs, tune_decoder

    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    metrics_path = model_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    onnx_path = model_dir / metrics["file"]
    budget = BUDGET_MS[mode] / 1000.0
    clips = _load(_dev_dirs(model_dir), 0, "dev")
    outputs = model_outputs(onnx_path, clips)
    base = DecoderConfig.from_dict(metrics["decoder"])
    before = evaluate(outputs, clips, base, budget)
    cfg, after = tune_decoder(outputs, clips, base, grid={}, refine=TUNE_REFINE, passes=passes,
                              budget_s=budget)
    proto = onnx.load(str(onnx_path))
    key = metadata_key(mode)
    for prop in [p for p in proto.metadata_props if p.key == key]:
        proto.metadata_props.remove(prop)
    prop = proto.metadata_props.add()
    prop.key, prop.value = key, json.dumps(cfg.as_dict())
    onnx.save(proto, str(onnx_path))
    entry = {"budget_ms": BUDGET_MS[mode], "decoder": cfg.as_dict(),
             "dev_shipped_decoder": before, "dev": after,
             "how": f"python -m vocalmidi.train.mode_decoder {model_dir} --mode {mode}"}
    metrics.setdefault("decoder_modes", {})[mode] = entry
    metrics["sha256"] = sha256_file(onnx_path)
    metrics["size"] = onnx_path.stat().st_size
    metrics_path.write_text(json.dumps(metrics, indent=1) + "\n")
    return entry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_dir", type=Path, help="models/trained/<id>/ (ONNX, recipe, metrics)")
    p.add_argument("--mode", default="accurate", choices=MODES)
    p.add_argument("--passes", type=int, default=2, help="coordinate passes of the tuner")
    args = p.parse_args(argv)
    entry = tune_mode(args.model_dir, args.mode, args.passes)
    keys = ("live_f1_50", "f1_50", "emission_median_ms", "emission_recall", "false_per_min")
    print(json.dumps({"shipped decoder": {k: entry["dev_shipped_decoder"][k] for k in keys},
                      f"{args.mode} decoder": {k: entry["dev"][k] for k in keys}}, indent=1))
    print(f"wrote {args.model_dir}: update the manifest's sha256 and the engine's golden data "
          "(tests/engine/golden/make_note_golden.py)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
