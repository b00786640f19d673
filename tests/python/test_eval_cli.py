"""`vocalmidi eval make` -> `vocalmidi eval run` end to end, and `vocalmidi bench`."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocalmidi.cli import bench as bench_cli
from vocalmidi.cli import eval as eval_cli
from vocalmidi.errors import VocalMidiError
from vocalmidi.eval.dataset import load_set
from vocalmidi.eval.systems import get_system


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run our sub-commands the way `vocalmidi` does (exit codes from VocalMidiError)."""
    parser = argparse.ArgumentParser(prog="vocalmidi")
    sub = parser.add_subparsers(dest="command")
    eval_cli.register(sub)
    bench_cli.register(sub)
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except VocalMidiError as exc:
        print(f"vocalmidi: error: {exc}", file=__import__("sys").stderr)
        code = exc.exit_code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def quick_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vocalmidi.eval.dataset import make_set

    root = tmp_path_factory.mktemp("evalset")
    make_set(root, quick=True)
    return root


def digest(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "clips").iterdir())}


def test_make_writes_clips_truth_and_index(quick_set: Path) -> None:
    index = json.loads((quick_set / "index.json").read_text())
    conds = {c["condition"] for c in index["clips"]}
    assert conds == {"clean", "room", "noisy", "negative"}
    for entry in index["clips"]:
        audio, sr = sf.read(str(quick_set / entry["audio"]))
        assert sr == index["sample_rate"]
        assert len(audio) / sr == pytest.approx(entry["duration"], abs=1e-3)
        truth = json.loads((quick_set / entry["truth"]).read_text())
        assert len(truth["notes"]) == entry["notes"]
        assert (entry["notes"] == 0) == (entry["condition"] == "negative")
        for n in truth["notes"]:
            assert 0 <= n["start"] < n["end"] <= entry["duration"]
    s = load_set(quick_set)
    # The negatives a live rig hears: noise, clicks, speech and a piano, none silent.
    negatives = {c.meta["kind"]: c for c in s if c.negative}
    assert set(negatives) == {"pink", "clicks", "speech", "piano"}
    for kind in ("speech", "piano"):
        a, _ = negatives[kind].load_audio()
        assert -21.0 <= 20 * np.log10(np.max(np.abs(a))) <= -5.0, kind
    voices = {c.meta.get("voice") for c in s if not c.negative}
    assert voices == {"male", "female"}
    # The same take in every condition: the noisy clip is the clean one plus something.
    clean = next(c for c in s if c.condition == "clean")
    noisy = next(c for c in s if c.meta.get("take") == clean.meta["take"]
                 and c.condition == "noisy")
    assert noisy.notes == clean.notes
    a, _ = clean.load_audio()
    b, _ = noisy.load_audio()
    assert not np.allclose(a, b, atol=1e-3)


def test_make_is_reproducible(quick_set: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["eval", "make", str(tmp_path / "again"), "--quick"], capsys)
    assert code == 0 and out.strip().endswith("index.json")
    assert digest(tmp_path / "again") == digest(quick_set)


def test_make_renders_each_melody_again_by_other_voices(quick_set: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # --renderings 2: the set itself, byte for byte, plus each melody sung once more by
    # the next validation voice from another seed: twice the performances to compare on.
    code, _, _ = run_cli(["eval", "make", str(tmp_path / "x2"), "--quick", "--renderings", "2"],
                         capsys)
    assert code == 0
    base, twice = digest(quick_set), digest(tmp_path / "x2")
    assert {k: twice[k] for k in base} == base
    s = load_set(tmp_path / "x2")
    first = {c.meta["melody"]: c for c in s if c.condition == "clean" and "rendering" not in c.meta}
    again = {c.meta["melody"]: c for c in s if c.condition == "clean" and c.meta.get("rendering")}
    assert set(again) == set(first) and len(first) == len(load_set(quick_set, ["clean"]))
    for melody, clip in again.items():
        assert clip.meta["soundfont"] != first[melody].meta["soundfont"]
        assert clip.meta["seed"] != first[melody].meta["seed"]
        assert clip.notes != first[melody].notes  # another performance of the same tune
    code, _, err = run_cli(["eval", "make", str(tmp_path / "x0"), "--renderings", "0"], capsys)
    assert code == 2 and "at least 1" in err


def test_make_with_one_singer_sings_every_take_with_it(quick_set: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # --singer flite:slt: the quick set's melodies, styles and seeds, every take sung by
    # flite's slt (a voice made from a real speaker, held apart from training).
    code, _, _ = run_cli(["eval", "make", str(tmp_path / "slt"), "--quick", "--singer",
                          "flite:slt"], capsys)
    assert code == 0
    s, base = load_set(tmp_path / "slt"), load_set(quick_set)
    sung = [c for c in s if not c.negative]
    assert {(c.meta["soundfont"], c.meta["patch"]) for c in sung} == {("flite", "slt")}
    assert sorted(c.meta["seed"] for c in sung) == sorted(
        c.meta["seed"] for c in base if not c.negative)
    assert all(c.notes for c in sung)
    code, _, err = run_cli(["eval", "make", str(tmp_path / "bad"), "--quick", "--singer",
                            "flite:awb"], capsys)  # a training voice
    assert code == 2 and "not a validation voice" in err


def test_run_scores_a_peer_per_condition(quick_set: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["eval", "run", str(quick_set), "--system", "swift-f0",
                            "--json"], capsys)
    assert code == 0
    res = json.loads(out)["systems"]["swift-f0"]
    conds = res["conditions"]
    assert set(conds) == {"clean", "room", "noisy", "negative", "all"}
    # A real pitch tracker finds most notes of a clean take within 100 ms.
    assert conds["clean"]["f1_100"] > 0.5
    assert conds["clean"]["pitch_accuracy"] > 0.8
    assert conds["negative"]["false_per_min"] is not None
    # ...and per kind of negative: a pitch tracker alone plays the piano chords as notes.
    by_kind = res["by_kind"]["negative"]
    assert set(by_kind) == {"pink", "clicks", "speech", "piano"}
    assert by_kind["piano"]["false_per_min"] > 2.0
    assert conds["all"]["lag_median_ms"] is not None
    assert res["rtf"] > 0


def test_run_by_patch_prints_each_voice_patch(quick_set: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["eval", "run", str(quick_set), "--system", "swift-f0",
                            "--condition", "clean", "--by", "patch"], capsys)
    assert code == 0 and "Accuracy per patch" in out
    patch_rows = [line for line in out.splitlines() if "voice_oohs" in line
                  or "choir_aahs" in line]
    assert len(patch_rows) == 2
    with pytest.raises(SystemExit) as exc:
        run_cli(["eval", "run", str(quick_set), "--system", "swift-f0", "--by", "colour"],
                capsys)
    assert exc.value.code == 2 and "invalid choice: 'colour'" in capsys.readouterr().err


def test_run_scores_a_system_that_transcribes_nothing_as_zero(quick_set: Path) -> None:
    # Transcribing the negative clips' audio in place of the takes finds no notes.
    s = load_set(quick_set, ["clean"])
    sys_ = get_system("swift-f0")
    neg = load_set(quick_set, ["negative"]).clips[0]
    silence, sr = neg.load_audio()
    from vocalmidi.eval.metrics import score_clip, summarize

    summary = summarize([score_clip(c.notes, sys_.transcribe(silence, sr), c.duration)
                         for c in s])
    assert summary.f1_50 == 0.0


def test_run_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               quick_set: Path) -> None:
    code, _, err = run_cli(["eval", "run", str(tmp_path), "--system", "swift-f0"], capsys)
    assert code == 2 and "not an evaluation set" in err
    code, _, err = run_cli(["eval", "run", str(quick_set), "--system", "nope"], capsys)
    assert code == 2 and "unknown system 'nope'" in err
    code, _, err = run_cli(["eval", "run", str(quick_set), "--system", "swift-f0",
                            "--param", "swift-f0.no_such=1"], capsys)
    assert code == 2 and "bad --param" in err


def test_bench_prints_table_and_writes_plots(quick_set: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "bench"
    code, out, _ = run_cli(["bench", "--set", str(quick_set), "--system", "swift-f0",
                            "--system", "aubio", "--out", str(out_dir), "--no-live"],
                           capsys)
    assert code == 0
    assert "swift-f0" in out and "aubio" in out and "F1@50ms" in out
    for name in ("accuracy_by_condition.png", "onset_lag_hist.png"):
        data = (out_dir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    doc = json.loads((out_dir / "results.json").read_text())
    assert set(doc["systems"]) == {"swift-f0", "aubio"}
    # The clean takes per voice patch: one row per patch in the set and system, the
    # patches' notes adding up to the pooled clean count.
    clean = doc["systems"]["swift-f0"]["by_patch"]["clean"]
    # (the quick set: TimGM6mb Voice Oohs, a held-apart syllable voice, MuseScore Choir Aahs)
    assert set(clean) == {"voice_oohs", "choir_aahs", "en-us+m5"}
    assert sum(v["n_ref"] for v in clean.values()) == \
        doc["systems"]["swift-f0"]["conditions"]["clean"]["n_ref"]
    summary = (out_dir / "summary.md").read_text()
    rows = [line for line in summary.splitlines() if "| voice_oohs |" in line
            or "| choir_aahs |" in line]
    assert len(rows) == 4 and rows[0].startswith("| swift-f0 | ")
    assert f"| {100 * clean['voice_oohs']['onset_f1_50']:.1f} |" in rows[0] + rows[1]
    assert "Clean takes per voice patch" in out
    # Where F1@50 is lost: every true note of the positive takes sorted once, per
    # condition and per voice source, in the terminal and in the summary.
    census = doc["systems"]["swift-f0"]["census"]
    for cond in ("clean", "room", "noisy", "all"):
        c = census[cond]
        assert c["on_time"] + c["late_100"] + c["late"] + c["missed"] == c["n_ref"] \
            == doc["systems"]["swift-f0"]["conditions"][cond]["n_ref"]
        assert c["f1_50_all_late_on_time"] >= c["f1_50_late_100_on_time"] >= c["f1_50"]
    assert abs(census["all"]["f1_50"]
               - doc["systems"]["swift-f0"]["conditions"]["all"]["f1_50"]) < 0.03
    by_source = doc["systems"]["swift-f0"]["census_by_soundfont"]
    assert set(by_source) == {"timgm6mb", "musescore", "espeak"}
    assert sum(v["n_ref"] for v in by_source.values()) == census["all"]["n_ref"]
    assert "Where F1@50 is lost" in out
    lines = summary.splitlines()
    head = next(i for i, line in enumerate(lines) if "| F1 no guesses |" in line)
    clean_row = lines[head + 2].split("|")
    assert clean_row[1:3] == [" swift-f0 ", " clean "]
    assert int(clean_row[3]) == census["clean"]["on_time"]
    # The note kinds per voice source add up to the pooled ones, and the summary has a
    # row for the legato changes of each source that sang one.
    kinds = doc["systems"]["swift-f0"]["census_by_note_kind"]["all"]
    per_source = doc["systems"]["swift-f0"]["census_by_note_kind_and_soundfont"]
    assert set(per_source) == set(by_source)
    for kind, c in kinds.items():
        assert sum(g[kind]["on_time"] for g in per_source.values()) == c["on_time"]
        assert sum(g[kind]["n_ref"] for g in per_source.values()) == c["n_ref"]
    legato_rows = {src for src, g in per_source.items() if g["legato change"]["n_ref"]}
    assert legato_rows and all(f"| legato change: {src} (all) |" in summary
                               for src in legato_rows)


def test_bench_fetches_peers_and_lists_those_it_could_not_run(
        quick_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # An empty cache, offline: the bench tries to fetch every model of the manifest, gets
    # our own (they ship in the repository), and says which peers it could not run and why
    # (in the terminal, results.json and summary.md) instead of leaving them out quietly.
    monkeypatch.setenv("VOCALMIDI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VOCALMIDI_OFFLINE", "1")
    out_dir = tmp_path / "bench"
    code, out, err = run_cli(["bench", "--set", str(quick_set), "--out", str(out_dir),
                              "--no-live"], capsys)
    assert code == 0
    assert "could not fetch crepe-tiny" in " ".join((out + err).split())
    doc = json.loads((out_dir / "results.json").read_text())
    assert "vocalnote-live" in doc["systems"]  # fetched from the repository
    assert "models pull swiftf0" in doc["not_run"]["vocalmidi@swiftf0"]
    assert "crepe-tiny" in doc["not_run"] and "crepe-tiny" not in doc["systems"]
    summary = (out_dir / "summary.md").read_text()
    assert "- vocalmidi@swiftf0: model swiftf0 is not downloaded" in summary


def test_vocalmidi_system_says_when_the_engine_is_not_built(
        quick_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VOCALMIDI_NATIVE_DIR", str(tmp_path))  # a folder with no library
    code, _, err = run_cli(["eval", "run", str(quick_set), "--system", "vocalmidi"], capsys)
    assert code == 3
    assert "make build" in err and len(err.strip().splitlines()) == 1


def test_compare_tells_a_real_loss_from_a_tie(quick_set: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # The shipped live twin against the same model whose decoder holds every fresh note
    # back 200 ms (it waits for a certainty it never gets): F1@50 drops on every take,
    # and `eval compare` must call that worse; the twin against itself is a tie.
    model = Path(__file__).resolve().parents[2] / "models/trained/vocalnote-s/vocalnote-s.onnx"
    base, late = tmp_path / "base.json", tmp_path / "late.json"
    for out, extra in ((base, []), (late, ["--param", "vocalnote-live.start_conf=1.01",
                                           "--param", "vocalnote-live.start_wait_frames=40"])):
        code, _, _ = run_cli(["eval", "run", str(quick_set), "--system", "vocalnote-live",
                              "--param", f"vocalnote-live.model={model}", *extra,
                              "--out", str(out), "--json"], capsys)
        assert code == 0
    code, out, _ = run_cli(["eval", "compare", str(base), str(late), "--json"], capsys)
    assert code == 0
    diffs = {(d["metric"], d["condition"]): d for d in json.loads(out)["differences"]}
    f1 = diffs["f1_50", "all"]
    assert f1["new"] < f1["base"] - 0.1 and f1["verdict"] == "worse"
    assert f1["ci95"][1] < 0 and f1["units"] == len(load_set(quick_set, ["clean"]))
    assert diffs["false_per_min", "negative"]["verdict"] == "no clear difference"

    code, out, _ = run_cli(["eval", "compare", f"{base}:vocalnote-live", str(base)], capsys)
    assert code == 0 and "no clear difference" in out and "better" not in out

    # Results of another set (here: its clean takes only) are refused, not compared.
    clean = tmp_path / "clean.json"
    run_cli(["eval", "run", str(quick_set), "--system", "swift-f0", "--condition", "clean",
             "--out", str(clean), "--json"], capsys)
    code, _, err = run_cli(["eval", "compare", str(base), str(clean)], capsys)
    assert code == 2 and "different clips" in err
    # --only narrows both to the clips they share: the clean takes, and no negatives.
    code, out, _ = run_cli(["eval", "compare", str(base), str(clean), "--only", "*-clean",
                            "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["differences"]
    assert [(d["metric"], d["condition"]) for d in rows] == [("f1_50", "clean"),
                                                            ("f1_50", "all")]
    assert rows[0]["units"] == len(load_set(quick_set, ["clean"]))
    code, _, err = run_cli(["eval", "compare", str(base), str(late), "--only", "nothing*"],
                           capsys)
    assert code == 2 and "no clip id matches nothing*" in err
    code, _, err = run_cli(["eval", "compare", str(base), f"{base}:swift-f0"], capsys)
    assert code == 2 and "no system 'swift-f0'" in err


def test_bench_says_whether_ours_is_ahead_of_each_peer(quick_set: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # Beside the tables, the bench tells whether our file model is ahead of each peer of
    # the same run or only on these takes: the paired bootstrap of `eval compare`.
    out_dir = tmp_path / "bench"
    code, out, _ = run_cli(["bench", "--set", str(quick_set), "--system", "vocalnote-offline",
                            "--system", "swift-f0", "--system", "aubio", "--out", str(out_dir),
                            "--no-live"], capsys)
    assert code == 0 and "Ours against each peer" in out
    doc = json.loads((out_dir / "results.json").read_text())
    summary = (out_dir / "summary.md").read_text().splitlines()
    rows = [cells for cells in (line.split(" | ") for line in summary)
            if cells[0] == "| vocalnote-offline" and cells[1] in ("swift-f0", "aubio")]
    assert [(r[1], r[2]) for r in rows] == [("swift-f0", "F1@50"),
                                            ("swift-f0", "false notes/min"),
                                            ("aubio", "F1@50"), ("aubio", "false notes/min")]
    for r in rows:
        if r[2] == "F1@50":
            peer, ours = (doc["systems"][n]["conditions"]["all"]["f1_50"]
                          for n in (r[1], "vocalnote-offline"))
            assert (float(r[4]), float(r[5])) == (round(peer, 3), round(ours, 3))
        low, high = (float(x) for x in r[7].split(" .. "))
        verdict = r[9].rstrip(" |")
        assert low <= high
        assert verdict == "no clear difference" or (low > 0 or high < 0)
