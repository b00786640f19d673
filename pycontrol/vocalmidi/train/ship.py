"""Ship a trained note model into ``models/trained/<id>/``, measured.

``python -m vocalmidi.train.ship --config RECIPE.toml`` takes the recipe's run folder
(``best.onnx``, ``metrics.json``, ``curves.png``), measures the streaming model's CPU
cost (one hop per call, one thread), tries ONNX Runtime's dynamic int8 quantisation and
keeps it only if it is faster and as accurate on the dev clips, and writes
``<id>.onnx``, ``recipe.toml``, ``metrics.json`` and ``curves.png``. A streaming model
also gets ``<id>-int8.onnx``, the one-frame int8 graph the engine runs
(:mod:`vocalmidi.train.one_frame`): the manifest entry names that file, and ``<id>.onnx``
stays the float weights fine-tunes start from. It prints both files' SHA-256 and size for
the manifest entry. The data card is written by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["INT8_MAX_TIME_RATIO", "INT8_MAX_F1_DROP", "main", "ship"]

INT8_MAX_TIME_RATIO = 0.9  # int8 must take under 90 % of the fp32 time per hop
INT8_MAX_F1_DROP = 0.005  # and lose at most half a point of the dev selection metric


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _last_epoch(run: Path, summary: dict[str, Any], tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The run's last epoch as the model to ship: ``last.onnx`` (judged during the run
    with the decoder it carries, the recipe's) with its dev metrics written into the
    file, and the summary's dev figures, decoder and epoch made that epoch's."""
    import onnx

    last = summary["history"][-1]
    model = onnx.load(str(run / "last.onnx"))
    meta = {p.key: p.value for p in model.metadata_props}
    meta["vocalmidi.dev_metrics"] = json.dumps(last["dev"])
    onnx.helper.set_model_props(model, meta)
    path = tmp / "last.onnx"
    onnx.save(model, str(path))
    rest = {k: v for k, v in summary.items() if k != "dev_groups"}  # the best epoch's
    return path, {**rest, "dev": last["dev"], "decoder": json.loads(meta["vocalmidi.decoder"]),
                  "best_epoch": last["epoch"], "shipped_epoch": "last"}


def ship(recipe_path: Path, dest: Path, name: str | None = None,
         allow_int8: bool = True, epoch: str = "best") -> dict[str, Any]:
    """Copy, measure and describe the recipe's best model; returns the written metrics.

    ``name`` names the shipped model (default: the recipe's name), e.g. when a later
    training stage of a model has a recipe of its own. ``allow_int8=False`` ships the
    float graph whatever int8 measured (it is still measured and reported): a float file
    is what :mod:`vocalmidi.train.from_onnx` can fine-tune from. ``epoch="last"`` ships
    the run's last epoch instead of the one the dev split chose (its decoder is the
    recipe's, as the run judged it), for when a voice the dev split lacks decides.
    """
    if epoch not in ("best", "last"):
        raise ValueError(f"epoch must be best or last, not {epoch!r}")
    from vocalmidi.errors import UsageError
    from vocalmidi.notemodel.offline import OfflineConfig
    from vocalmidi.train.contract import MAX_FILE_BYTES
    from vocalmidi.train.decode import DecoderConfig
    from vocalmidi.train.export import (
        CONTRACT_ID,
        FEATURES_CONTRACT_ID,
        OFFLINE_CONTRACT_ID,
        measure_hop_cost,
        measure_take_cost,
        quantize_int8,
        reexport_onnx,
    )
    from vocalmidi.train.model import ModelConfig
    from vocalmidi.train.one_frame import one_frame_from_file
    from vocalmidi.train.trainer import (
        Recipe,
        _load,
        evaluate,
        evaluate_offline,
        model_outputs,
        select_metric,
    )

    recipe = Recipe.load(recipe_path)
    name = name or recipe.name
    run = recipe.out
    summary = json.loads((run / "metrics.json").read_text())
    model_cfg = ModelConfig.from_dict(recipe.model)
    metric = select_metric(model_cfg)
    if model_cfg.causal:  # the engine's streaming model: cost per one-hop call
        decoder: Any = DecoderConfig.from_dict(summary["decoder"])
        scorer, measure, time_key = evaluate, measure_hop_cost, "ms_per_hop"
        how = "thread CPU time per one-hop call, onnxruntime 1 thread, 200 hops/s"
    else:  # a whole-take model: cost per second of a take
        decoder = OfflineConfig.from_dict(summary["decoder"])
        scorer, measure, time_key = evaluate_offline, measure_take_cost, "rtf_per_core"
        how = "thread CPU time / audio time over a 60 s take, onnxruntime 1 thread"
    chosen = run / f"{epoch}.onnx"  # checked before the dev clips take minutes to load
    if model_cfg.causal and chosen.stat().st_size > MAX_FILE_BYTES:
        raise UsageError(f"{chosen} takes {chosen.stat().st_size / 1e6:.2f} MB, over the "
                         f"{MAX_FILE_BYTES / 1e6:.0f} MB a streaming model may: store its "
                         "weights as float16 ([model] half_weights = true)")
    dev_clips = _load(recipe.dev_data, 0, "dev")
    with tempfile.TemporaryDirectory() as tmp:
        # The float graph (float32 compute; its weights may be stored as float16)
        float_file = chosen
        if epoch == "last":
            float_file, summary = _last_epoch(run, summary, Path(tmp))
            decoder = type(decoder).from_dict(summary["decoder"])  # live or whole-take
        cost = measure(float_file)
        paced = measure_hop_cost(float_file, calls=400, pause_s=0.005) if model_cfg.causal else None
        q = quantize_int8(float_file, Path(tmp) / "int8.onnx")
        q_cost = measure(q)
        q_dev = scorer(model_outputs(q, dev_clips), dev_clips, decoder)
        q_size = q.stat().st_size
        keep = (allow_int8 and q_cost[time_key] < INT8_MAX_TIME_RATIO * cost[time_key]
                and (q_dev[metric] or 0) >= (summary["dev"].get(metric) or 0) - INT8_MAX_F1_DROP)
        dest.mkdir(parents=True, exist_ok=True)
        model_file = dest / f"{name}.onnx"
        features_in = model_cfg.causal and not keep
        engine_file: Path | None = None  # the one-frame graph beside a features graph
        if features_in:
            # The engine's graph: the front end outside it (note-features/1, computed in
            # C++), the same weights and outputs at about 60 % of the cost per hop.
            reexport_onnx(float_file, model_file, features_in=True)
            engine_file = one_frame_from_file(model_file, dest / f"{name}-int8.onnx")
        else:
            shutil.copyfile(q if keep else float_file, model_file)
    shutil.copyfile(recipe_path, dest / "recipe.toml")
    shutil.copyfile(run / "curves.png", dest / "curves.png")
    metrics = {
        "model": name,
        "recipe": recipe.name,
        "file": model_file.name,
        "sha256": _sha256(model_file),
        "size": model_file.stat().st_size,
        # The costs below are the trained note-model/1 graph's (and its int8 copy's), as
        # the int8 rule compares them; a features graph costs less in the engine.
        "graph": {"contract": FEATURES_CONTRACT_ID if features_in else
                  OFFLINE_CONTRACT_ID if not model_cfg.causal else CONTRACT_ID},
        # What the manifest ships for the engine (a streaming model): the one-frame graph.
        **({"engine_file": {"file": engine_file.name, "sha256": _sha256(engine_file),
                            "size": engine_file.stat().st_size, "int8": "gru"}}
           if engine_file else {}),
        "weights": "int8-dynamic" if keep else
                   "float16" if model_cfg.half_weights else "float32",
        "cost": {**cost, "how": f"{how} (python -m vocalmidi.train.ship)"},
        **({"cost_paced": {**paced, "how": f"{how}, a 5 ms pause before each call as in "
                                          "the engine; includes the Python binding's own "
                                          "cold per-call cost (python -m vocalmidi.train.ship)"}}
           if paced else {}),
        "int8": {"kept": keep, "size": q_size, **q_cost, "dev": q_dev,
                 "rule": f"kept only if < {INT8_MAX_TIME_RATIO:.0%} of the fp32 {time_key} "
                         f"and dev {metric} within {INT8_MAX_F1_DROP}"},
        **{k: summary[k] for k in ("dev", "dev_groups", "decoder", "best_epoch", "shipped_epoch",
                                   "epochs_run",
                                   "train_hours", "train_clips", "dev_clips", "train_seconds",
                                   "feature_prep_seconds", "device", "threads", "history")
           if k in summary},
    }
    (dest / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vocalmidi.train.ship",
                                description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, type=Path, help="the recipe that was trained")
    p.add_argument("--name", help="model id (default: the recipe's name)")
    p.add_argument("--dest", type=Path, help="default: models/trained/<model id>")
    p.add_argument("--epoch", choices=("best", "last"), default="best",
                   help="the epoch the dev split chose (default) or the run's last one")
    p.add_argument("--float32", action="store_true",
                   help="ship the float graph even if int8 measures faster (int8 is still "
                        "measured); the next stage can then fine-tune from the shipped file")
    args = p.parse_args(argv)
    from vocalmidi.train.trainer import Recipe

    name = args.name or Recipe.load(args.config).name
    m = ship(args.config, args.dest or Path("models/trained") / name, name,
             allow_int8=not args.float32, epoch=args.epoch)
    print(json.dumps({k: m[k] for k in ("file", "sha256", "size", "weights", "cost", "engine_file")
                      if k in m}, indent=1))
    cost_key = next(k for k in ("ms_per_hop", "rtf_per_core") if k in m["int8"])
    print(f"int8: kept={m['int8']['kept']} {cost_key} {m['int8'][cost_key]} "
          f"F1@50 {m['int8']['dev']['f1_50']} (fp32 {m['dev']['f1_50']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
