"""The default model choice: recorded with its numbers in the manifest, and made by them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from test_eval_cli import quick_set  # noqa: F401 (fixture)

from vocalmidi.cli.main import main
from vocalmidi.engine import PARAM_NAMES
from vocalmidi.errors import UsageError
from vocalmidi.eval.choice import choose_default, default_choice, write_choice
from vocalmidi.eval.dataset import load_set
from vocalmidi.eval.runner import evaluate, results_to_json
from vocalmidi.eval.systems import get_system, parse_variant

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "models" / "manifest.json"
SCHEMA = json.loads((REPO / "models" / "manifest.schema.json").read_text())


def test_manifest_records_the_default_choice_and_its_numbers() -> None:
    doc = json.loads(MANIFEST.read_text())
    jsonschema.validate(doc, SCHEMA)
    choice = doc["default_choice"]
    assert choice["model"] == doc["default_model"]
    assert choice["system"] == "vocalmidi" or choice["system"].startswith("vocalmidi@")
    assert set(choice["settings"]) == set(PARAM_NAMES)
    assert choice["settings"]["latency_mode"] == choice["latency_mode"]
    for cond in ("clean", "room", "noisy", "all"):
        assert 0 < choice["note_f1_50"][cond] <= choice["note_f1_100"][cond] <= 1
    lat = choice["emission_latency_ms"]
    assert {"64", "128", "256", "512"} <= set(lat)
    for row in lat.values():
        assert 0 <= row["median_ms"] <= row["p95_ms"]
        assert row["reported_ms"] > 0
    assert choice["command"].startswith("vocalmidi bench")


def test_schema_rejects_a_choice_without_its_numbers() -> None:
    doc = json.loads(MANIFEST.read_text())
    del doc["default_choice"]["note_f1_50"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_variant_names_say_model_and_settings() -> None:
    assert parse_variant("vocalmidi") is None and parse_variant("swift-f0") is None
    assert parse_variant("vocalmidi@pesto") == ("pesto", {})
    assert parse_variant("vocalmidi+latency_mode=accurate+min_note_ms=80") == (
        None, {"latency_mode": "accurate", "min_note_ms": 80})
    for bad in ("vocalmidi@", "vocalmidi+min_note_ms"):
        with pytest.raises(UsageError):
            parse_variant(bad)


def test_latency_decides_between_variants_of_nearly_equal_accuracy() -> None:
    def system(f1: float) -> dict:
        return {"conditions": {"all": {"f1_50": f1, "f1_100": f1}}}

    systems = {"vocalmidi": system(0.50), "vocalmidi@pesto": system(0.51),
               "vocalmidi@crepe-tiny": system(0.40), "swift-f0": system(0.9)}
    assert choose_default(systems) == "vocalmidi@pesto"
    live = {"variants": {n: {"emission": {"median_ms": ms}} for n, ms in
                         (("vocalmidi", 120.0), ("vocalmidi@pesto", 180.0),
                          ("vocalmidi@crepe-tiny", 60.0))}}
    # pesto's extra point of F1 is within the margin; the default's notes leave sooner.
    # crepe-tiny is faster still but 10 points less accurate.
    assert choose_default(systems, live) == "vocalmidi"


def test_only_models_every_user_can_pull_may_be_the_default() -> None:
    from vocalmidi.eval.choice import ineligible

    manifest = json.loads(MANIFEST.read_text())
    systems = {n: {"meta": {"model": m, "settings": {"latency_mode": mode}}}
               for n, m, mode in (
                   ("vocalmidi", "vocalnote-s", "instant"),
                   ("vocalmidi@swiftf0", "swiftf0", "instant"),
                   ("vocalmidi@swiftf0+min_note_ms=80", "swiftf0", "instant"),
                   ("vocalmidi@swiftf0+latency_mode=accurate", "swiftf0", "accurate"),
                   ("vocalmidi@crepe-tiny", "crepe-tiny", "instant"),
                   ("vocalmidi@basic-pitch", "basic-pitch", "instant"),
                   ("vocalmidi@vocalnote-offline-s", "vocalnote-offline-s", "instant"),
                   ("swift-f0", None, None))}
    out = ineligible(systems, manifest)
    # Our note model ships in the repository: every user can pull it. crepe-tiny is
    # converted with torch at pull time; basic-pitch and the whole-take note model do not
    # run live; the latency mode is the user's trade-off, not ranked against the default's.
    assert set(out) == {"vocalmidi@crepe-tiny", "vocalmidi@basic-pitch",
                        "vocalmidi@vocalnote-offline-s", "vocalmidi@swiftf0+latency_mode=accurate"}
    assert "torch" in out["vocalmidi@crepe-tiny"]
    assert "does not run live" in out["vocalmidi@vocalnote-offline-s"]
    assert "accurate latency mode" in out["vocalmidi@swiftf0+latency_mode=accurate"]


@pytest.mark.slow
def test_the_best_of_our_variants_is_chosen_and_written(quick_set: Path,  # noqa: F811
                                                        model_cache: Path,
                                                        tmp_path: Path) -> None:
    eval_set = load_set(quick_set)
    results = evaluate([get_system("vocalmidi"), get_system("swift-f0")], eval_set)
    doc = results_to_json(results)
    doc["set"] = {"clips": len(eval_set), "quick": True}
    # A peer never wins the choice, whatever it scores: only our engine can be the default.
    assert choose_default(doc["systems"]) == "vocalmidi"
    # A worse variant of ours (SwiftF0, notes shorter than 0.5 s dropped) loses to the default.
    worse = evaluate([get_system("vocalmidi@swiftf0", min_note_ms=500)], eval_set)
    doc["systems"].update(results_to_json(worse)["systems"])
    assert choose_default(doc["systems"]) == "vocalmidi"

    choice = default_choice(doc, "vocalmidi bench --quick")
    assert choice["model"] == "vocalnote-s" and choice["latency_mode"] == "instant"
    assert choice["note_f1_50"]["all"] == doc["systems"]["vocalmidi"]["conditions"]["all"][
        "f1_50"]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(MANIFEST.read_text())
    write_choice(manifest, choice)
    written = json.loads(manifest.read_text())
    jsonschema.validate(written, SCHEMA)
    assert written["default_choice"]["note_f1_50"] == choice["note_f1_50"]
    assert written["models"] == json.loads(MANIFEST.read_text())["models"]

    other = json.loads(MANIFEST.read_text())
    other["default_model"] = "pesto"
    manifest.write_text(json.dumps(other))
    with pytest.raises(UsageError, match="default_model 'pesto'"):
        write_choice(manifest, choice)
    # A variant that beats the defaults is not written down as if it were the default.
    manifest.write_text(MANIFEST.read_text())
    with pytest.raises(UsageError, match="favour vocalmidi@pesto"):
        write_choice(manifest, {**choice, "system": "vocalmidi@pesto"})


def test_models_list_and_info_show_the_choice(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--manifest", str(MANIFEST), "--cache", str(tmp_path), "--offline"]
    assert main(["models", "list", *args]) == 0
    out = capsys.readouterr().out
    assert "default chosen by: vocalmidi" in out and "note F1@50ms clean" in out
    assert main(["models", "info", *args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default_choice"]["model"] == info["id"]
    assert main(["models", "info", "pesto", *args, "--json"]) == 0
    assert "default_choice" not in json.loads(capsys.readouterr().out)
