"""`vocalmidi bench`: accuracy, live latency and cost of every system, as tables and plots.

    vocalmidi bench [--set DIR] [--quick] [--system NAME ...] [--out DIR]
                    [--no-live | --live-only] [--block-sizes 64,128,256,512]
                    [--rates 48000] [--live-model ID] [--live-hosts juce[,jalv]]
                    [--live-takes 3] [--live-negatives 0]
                    [--write-choice models/manifest.json]

Without ``--set`` it renders a set into ``OUT/evalset`` first (or reuses one there).
Without ``--system`` it runs every system that can run here and says which cannot,
and variants of our engine (other models, the accurate latency mode).
Unless ``--no-live``, it then measures the built VST3 live in our headless host
(emission latency per block size, realtime mode at real-time pace: about
takes × 12 s per block size) beside the pitch-model bound on the same takes (the earliest
any tracker on SwiftF0's pitch could emit each note), the engine's audio/ML-thread cost
per block size, and the offline real-time factor and memory of each cached model. It
writes ``results.json``, ``summary.md`` (with the clean takes per voice patch) and PNG
plots into OUT.

The live matrix of issue 14 (our note model at every block size and sample rate, in our
JUCE host and in jalv on JACK's dummy driver, each figure beside its target)::

    vocalmidi bench --live-only --live-model vocalnote-s --live-hosts juce,jalv \
        --block-sizes 32,64,128,256,512,1024 --rates 44100,48000,96000 --live-negatives 1

``--live-only`` skips the offline accuracy run of the systems; ``--live-model`` is the
model the plugin runs (a note model runs in the Instant latency mode); ``--rates``
resamples the takes to each host rate (the truth stays in seconds).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from vocalmidi.cli.eval import add_system_args, build_systems, parse_params
from vocalmidi.errors import BackendUnavailableError, ModelError, NotBuiltError, UsageError

# The f0 models of the manifest our engine runs live; each is costed offline.
_F0_MODELS = ("swiftf0", "crepe-tiny", "pesto")
# Variants of our engine run beside the default (`vocalmidi`) so that the choice of the
# default model and latency mode is made by the numbers (accuracy and live latency).
# The default is our note model (Instant); the pitch models run as Fast (Instant on a pitch
# model), and SwiftF0 also in Accurate, the user's trade of latency for steadier notes.
_VARIANTS = ("vocalmidi@swiftf0", "vocalmidi@crepe-tiny", "vocalmidi@pesto",
             "vocalmidi@swiftf0+latency_mode=accurate",
             # our note model with its decision budget (MlPipeline::noteModelBudgetMs)
             "vocalmidi@vocalnote-s+latency_mode=fast",
             "vocalmidi@vocalnote-s+latency_mode=accurate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="accuracy/latency table and plots for all systems")
    p.add_argument("--set", type=Path, dest="set_dir",
                   help="evaluation set folder (default: OUT/evalset, made if missing)")
    p.add_argument("--quick", action="store_true", help="make the small set if one is made")
    add_system_args(p)
    p.add_argument("--out", type=Path, default=Path("vocalmidi-bench"),
                   help="folder for results.json and plots (default: ./vocalmidi-bench)")
    p.add_argument("--no-live", dest="live", action="store_false",
                   help="skip the live latency sweep and the cost measurements")
    p.add_argument("--block-sizes", default="64,128,256,512",
                   help="host block sizes of the latency sweep (default: 64,128,256,512)")
    p.add_argument("--rates", default="48000",
                   help="host sample rates of the latency sweep (default: 48000)")
    p.add_argument("--live-model", metavar="ID",
                   help="model the plugin runs in the sweep (default: the manifest's default; "
                        "a note model runs in the Instant latency mode)")
    p.add_argument("--live-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a plugin parameter for the sweep, by its name in the plugin, e.g. "
                        "'MIDI Timing=Aligned' (repeatable)")
    p.add_argument("--live-hosts", default="juce",
                   help="hosts of the sweep: juce (the VST3 in our host), jalv (the LV2 on "
                        "JACK's dummy driver); default: juce")
    p.add_argument("--live-only", action="store_true",
                   help="only the live measurements (no offline accuracy run of the systems)")
    p.add_argument("--live-takes", type=int, default=3,
                   help="clean takes streamed through the plugin per block size (default 3)")
    p.add_argument("--live-negatives", type=int, default=0,
                   help="negative clips (no notes) streamed after them: false notes/min "
                        "(default 0)")
    p.add_argument("--no-pull", dest="pull", action="store_false",
                   help="do not fetch missing models before a run of all systems (those whose "
                        "model is not in the cache are then left out, and listed as not run)")
    p.add_argument("--write-choice", type=Path, metavar="MANIFEST",
                   help="record the chosen default (best vocalmidi variant) and its numbers "
                        "as default_choice in this manifest file")
    p.set_defaults(func=_bench)


def _pull_models(say: Any) -> dict[str, str]:
    """Fetch every model of the manifest (the peers' as well as ours) that the cache lacks,
    so the run compares against the peers instead of quietly leaving them out. Returns
    model id -> why, for each that could not be had (offline, no network)."""
    from vocalmidi.errors import DownloadError
    from vocalmidi.models import load_manifest, pull

    failed: dict[str, str] = {}
    for model_id in load_manifest().models:
        try:
            for r in pull([model_id]):
                if r.fetched:
                    say(f"fetched {model_id} ({', '.join(r.fetched)})")
        except (DownloadError, ModelError) as exc:
            failed[model_id] = str(exc)
    return failed


def _live_params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--live-param {item!r}: give NAME=VALUE, e.g. 'MIDI Timing=Aligned'")
        out[name.strip()] = value.strip()
    return out


def _block_sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(not 1 <= s <= 8192 for s in sizes):
        raise UsageError(f"--block-sizes {text!r}: give sizes 1..8192 separated by commas")
    return sizes


def _rates(text: str) -> list[int]:
    try:
        rates = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        rates = []
    if not rates or any(not 8000 <= r <= 192000 for r in rates):
        raise UsageError(f"--rates {text!r}: give sample rates 8000..192000 separated by commas")
    return rates


def _hosts(text: str) -> list[str]:
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    if not hosts or any(h not in ("juce", "jalv") for h in hosts):
        raise UsageError(f"--live-hosts {text!r}: give juce and/or jalv separated by commas")
    return hosts


def _plugin_parameters(name: str) -> dict[str, str] | None:
    """Plugin parameters that make the VST3 run our variant ``name``; None if some setting
    has no plugin parameter here."""
    from vocalmidi.eval.systems import parse_variant

    model, settings = parse_variant(name) or (None, {})
    params = {"Model": model} if model else {}
    for key, value in settings.items():
        if key != "latency_mode":
            return None
        params["Latency Mode"] = str(value).capitalize()
    return params


def _live(eval_set: Any, blocks: list[int], takes: int, say: Any, variants: list[str],
          rates: list[int] | None = None, model: str | None = None,
          hosts: list[str] | None = None, negatives: int = 0,
          extra: dict[str, str] | None = None) -> dict[str, Any]:
    """The latency sweep through the plugin (the swept model at every sample rate and
    block size, in each host, with the ``extra`` plugin parameters; one block at 48 kHz for
    each variant of ours), the engine's cost, and offline cost per model."""
    from vocalmidi import native
    from vocalmidi.errors import BackendUnavailableError
    from vocalmidi.eval.sweep import (
        causal_peer_emission,
        engine_cost_sweep,
        host_latency_sweep,
        join_takes,
        note_model_bound,
        offline_cost,
        pitch_model_bound,
        takes_from_set,
    )
    from vocalmidi.hosts import PluginHostError
    from vocalmidi.models import get_model_path
    from vocalmidi.transcribe import resolve_model

    rates = rates or [48000]
    hosts = hosts or ["juce"]
    # The plugin loads the swept model from the cache: make sure it is there.
    get_model_path(model)
    resolved, _ = resolve_model(model)
    swept = {**_swept_parameters(model, resolved.adapter), **(extra or {})}
    chosen = takes_from_set(eval_set, takes)
    if not chosen:
        raise UsageError("the evaluation set has no clean takes for the latency sweep")
    negs = takes_from_set(eval_set, negatives, "negative") if negatives > 0 else []
    # The rate the single-rate tables (and the variants) use: 48 kHz when swept.
    main_rate = 48000 if 48000 in rates else rates[0]
    live: dict[str, Any] = {"model": resolved.id, "parameters": swept,
                            "takes": [t.id for t in chosen + negs], "sample_rate": main_rate,
                            "rates": rates, "hosts": hosts, "mode": "realtime, real-time pace",
                            "host": [], "matrix": []}
    try:
        plugin = native.vst3_path()
    except NotBuiltError as exc:
        say(f"skipping the host latency sweep: {exc}")
    else:
        if "juce" in hosts:
            live["matrix"] = [r.as_dict() for r in host_latency_sweep(
                chosen + negs, blocks, plugin=plugin, parameters=swept, progress=say,
                rates=rates)]
            live["host"] = [r for r in live["matrix"] if r["sample_rate"] == main_rate]
    if "jalv" in hosts:
        live["matrix"] += _jalv_rows(chosen + negs, blocks, rates, swept, say)
    if live["host"] and model is None:
        # Each variant of ours in the run, live at one block size, for the default choice
        # (beside the default model's own row: not when another model is swept).
        block = 256 if 256 in blocks else blocks[0]
        live["variants"] = {"vocalmidi": next(r for r in live["host"]
                                              if r["block_size"] == block)}
        for name in variants:
            params = _plugin_parameters(name)
            if params is None:
                say(f"no live sweep of {name}: only the model and latency_mode map to plugin "
                    "parameters")
                continue
            params = {**params, **(extra or {})}
            try:
                [r] = host_latency_sweep(chosen, [block], plugin=plugin, parameters=params,
                                         rates=[main_rate],
                                         progress=lambda line, n=name: say(f"{n}: {line}"))
            except PluginHostError as exc:
                say(f"no live sweep of {name}: {exc}")
                continue
            live["variants"][name] = r.as_dict()
    # Beside ours on the same stream: a causal peer, how soon any SwiftF0 tracker could
    # be, and (for a note model) how soon any decoder of that model could be.
    bounds: list[tuple[str, Any, str]] = [
        ("peer", causal_peer_emission, "aubio (causal peer)"),
        ("bound", pitch_model_bound, "pitch-model bound (swiftf0)")]
    if resolved.adapter == "vocalnote":
        bounds.append(("note_bound",
                       lambda t: note_model_bound(t, resolved.path, resolved.id),
                       f"note-model bound ({resolved.id})"))
    for key, measure, label in bounds:
        try:
            live[key] = measure(chosen)
        except BackendUnavailableError as exc:
            say(f"no {label}: {exc}")
            continue
        e = live[key]["emission"]
        say(f"{label}: emission median {e['median_ms']} ms / p95 {e['p95_ms']} ms, "
            f"{e['matched']}/{e['n_truth']} notes")
    if resolved.adapter == "vocalnote" and live["host"]:
        _phase_spread(live, chosen, resolved.path, swept, say)
    audio = join_takes(chosen[:1])[0]
    live["engine"] = engine_cost_sweep(
        resolved.path, resolved.adapter, audio, blocks, progress=say,
        params={"latency_mode": "instant"} if "Latency Mode" in swept else None)
    live["offline"] = offline_cost(_F0_MODELS, audio, 48000, progress=say)
    return live


def _phase_spread(live: dict[str, Any], takes: list[Any], model: Any,
                  swept: dict[str, str], say: Any) -> None:
    """The noise floor of the recorded-F1 rows: the same stream offline through the
    engine at every phase of the note model's 5 ms grid (:mod:`vocalmidi.eval.phase_spread`)."""
    from vocalmidi.eval.phase_spread import engine_params_from_plugin, grid_phase_spread
    from vocalmidi.eval.sweep import RATE, join_takes

    try:
        params = engine_params_from_plugin(swept)
    except KeyError as exc:
        say(f"no grid-phase spread: plugin parameter {exc} has no engine twin")
        return
    stream, truth = join_takes(takes)
    spread = live["phase_spread"] = grid_phase_spread(stream, truth, RATE, model, params)
    say(f"grid-phase spread (offline, {len(spread['shifts'])} phases of the 5 ms grid): "
        f"recorded F1@50 {spread['min']:.3f}-{spread['max']:.3f}, mean {spread['mean']:.3f}: "
        "a live row sits on one phase, plus what real time adds")


def _swept_parameters(model: str | None, adapter: str) -> dict[str, str]:
    """Plugin parameters of the swept model: none for the default; a note model runs in
    the Instant latency mode (reported latency = its lookahead), as the plugin offers it."""
    if model is None:
        return {}
    params = {"Model": model}
    if adapter == "vocalnote":
        params["Latency Mode"] = "Instant"
    return params


def _jalv_rows(takes: list[Any], blocks: list[int], rates: list[int],
               params: dict[str, str], say: Any) -> list[dict[str, Any]]:
    """The LV2 in jalv at each rate and period; a run that fails is a row with its error
    (one flaky start must not lose the rest of the matrix)."""
    from vocalmidi.eval.live_stream import jalv_latency_sweep
    from vocalmidi.hosts.lv2_bundle import Lv2Error

    rows: list[dict[str, Any]] = []
    for rate in rates:
        for block in blocks:
            try:
                [r] = jalv_latency_sweep(takes, [block], [rate], parameters=params,
                                         progress=say)
            except BackendUnavailableError as exc:
                say(f"no jalv sweep: {exc}")
                return rows
            except Lv2Error as exc:
                say(f"jalv, {rate} Hz, block {block}: {exc}")
                rows.append({"host": "jalv", "sample_rate": rate, "block_size": block,
                             "error": str(exc).splitlines()[0][:300]})
                continue
            rows.append(r.as_dict())
    return rows


def _bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vocalmidi.eval.dataset import load_set, make_set
    from vocalmidi.eval.report import (
        census_table,
        cost_table,
        group_table,
        latency_table,
        markdown_summary,
        negatives_table,
        peers_table,
        print_table,
        results_table,
        variants_table,
        write_live_plots,
        write_plots,
    )
    from vocalmidi.eval.runner import evaluate, results_to_json
    from vocalmidi.eval.systems import SYSTEMS, parse_variant
    from vocalmidi.eval.targets import live_matrix_table, targets_table

    console = Console(stderr=True)
    out: Path = args.out
    blocks = _block_sizes(args.block_sizes)
    rates, hosts = _rates(args.rates), _hosts(args.live_hosts)
    if args.live_only and not args.live:
        raise UsageError("--live-only and --no-live exclude each other")
    if args.write_choice and (args.live_model or args.live_param):
        raise UsageError("--write-choice weighs the default plugin's live rows: "
                         "run it without --live-model and --live-param")
    live_params = _live_params(args.live_param)
    set_dir: Path = args.set_dir or out / "evalset"
    if not (set_dir / "index.json").is_file():
        if args.set_dir:
            raise UsageError(f"{set_dir} is not an evaluation set: make one with "
                             "`vocalmidi eval make`")
        console.print(f"rendering the evaluation set into {set_dir} ...")
        make_set(set_dir, quick=args.quick)
    eval_set = load_set(set_dir)

    params = parse_params(args.param)
    if args.pull and not args.system:  # the full comparison; named systems are the user's pick
        for model_id, why in _pull_models(console.print).items():
            console.print(f"[yellow]could not fetch {model_id}: {why}[/yellow]")
    not_run: dict[str, str] = {}
    if args.live_only:
        systems = []
    elif args.system:
        systems = build_systems(args.system, params)
    else:
        systems = []
        for name in [*SYSTEMS, *_VARIANTS]:
            try:
                systems.extend(build_systems([name], params))
            except (BackendUnavailableError, NotBuiltError, ModelError) as exc:
                console.print(f"[yellow]skipping {name}: {exc}[/yellow]")
                not_run[name] = str(exc)
        if not systems:
            raise BackendUnavailableError("no system can run here")

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    results = evaluate(systems, eval_set, progress=say) if systems else []
    out.mkdir(parents=True, exist_ok=True)
    doc = results_to_json(results)
    doc["set"] = {"dir": str(set_dir), "clips": len(eval_set), "quick": eval_set.quick}
    doc["not_run"] = not_run
    doc["command"] = "vocalmidi " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] \
        else "vocalmidi bench"
    if args.live:
        ours = [s.name for s in systems if parse_variant(s.name) is not None]
        doc["live"] = _live(eval_set, blocks, args.live_takes, say, ours, rates=rates,
                            extra=live_params,
                            model=args.live_model, hosts=hosts, negatives=args.live_negatives)
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "summary.md").write_text(markdown_summary(doc))
    from vocalmidi.eval.choice import default_choice

    # The default is chosen among runs of our engine that include its plain default (its
    # live rows are another model's when --live-model is given).
    choice = default_choice(doc, doc["command"]) \
        if "vocalmidi" in doc["systems"] and not args.live_model else None
    if choice:
        (out / "default_choice.json").write_text(json.dumps(choice, indent=2) + "\n")
    plots = []
    if results:
        plots = write_plots(results, out)
        print_table(results_table(results, title=f"Note transcription ({len(eval_set)} clips)"))
        print_table(group_table(results, "patch", title="Clean takes per voice patch"))
        print_table(census_table(results))
        negatives = negatives_table(doc)
        if negatives is not None:
            print_table(negatives)
        peers = peers_table(doc)
        if peers is not None:
            print_table(peers)
        print_table(targets_table(doc))
    if args.live:
        live = doc["live"]
        if live["matrix"]:
            print_table(live_matrix_table(live["matrix"]))
        plots += write_live_plots(live["host"], live["engine"], out, peer=live.get("peer"))
        print_table(latency_table(
            live["host"], live["engine"], peer=live.get("peer"), bound=live.get("bound"),
            note_bound=live.get("note_bound"),
            title=f"Live: emission latency and cost per block size "
                  f"({live['sample_rate'] / 1000:g} kHz, our host)"))
        if live.get("variants"):
            print_table(variants_table(live["variants"]))
        print_table(cost_table(live["offline"]))
    if args.write_choice:
        from vocalmidi.eval.choice import write_choice

        if choice is None:
            raise UsageError("--write-choice needs the vocalmidi system in the run")
        write_choice(args.write_choice, choice)
        say(f"default_choice in {args.write_choice}: {choice['system']} "
            f"(model {choice['model']})")
    for p in [out / "results.json", *plots]:
        print(p, file=sys.stderr)
    return 0
