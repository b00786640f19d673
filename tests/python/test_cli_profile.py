"""`vocalmidi profile TAKE`: the engine's profile as a user gets it, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from test_transcribe import sing

from vocalmidi.cli.main import main
from vocalmidi.profile import format_report

REPO = Path(__file__).resolve().parents[2]
FIGURES = {
    "resample_mean_us", "resample_p99_us", "model_mean_us", "model_p99_us", "decoder_mean_us",
    "decoder_p99_us", "ml_cpu_share", "audio_block_share_mean", "audio_block_share_p99",
    "queue_fill", "frames_dropped", "frames_late", "deadline_misses", "overflow_samples",
    "model_errors", "priority_inversions", "emission_latency_mean_ms", "emission_latency_p99_ms",
}


@pytest.fixture
def take(tmp_path: Path) -> Path:
    path = tmp_path / "take.wav"
    sf.write(path, sing(48000), 48000)
    return path


def _profile(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["profile", *args])
    return rc, capsys.readouterr().out


def test_json_report_has_every_figure_beside_its_target(
        model_cache: Path, take: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _profile(capsys, str(take), "--model", "swiftf0", "--json")
    assert rc == 0
    report = json.loads(out)
    assert report["schema"] == "vocalmidi-profile/1"
    figures = {f["id"]: f for f in report["figures"]}
    # Offline the ML work runs inside process(): no audio-thread figures.
    assert set(figures) == FIGURES - {"audio_block_share_mean", "audio_block_share_p99"}
    for f in figures.values():
        assert f["ok"] == (f["value"] <= f["limit"]), f
    missed = [f["label"] for f in report["figures"] if not f["ok"]]
    assert [w.split(" is ")[0] for w in report["warnings"]] == missed
    # The model really ran over the whole take (SwiftF0: 16 ms frames).
    seconds = report["take"]["seconds"]
    assert report["stats"]["ml"]["frames_analysed"] >= int(seconds / 0.016) - 2
    assert figures["model_mean_us"]["value"] > 0
    assert figures["ml_cpu_share"]["value"] > 0
    assert report["take"]["note_ons"] >= 3
    assert report["threads"]["ml"]["does"] == "resample, model, decoder"


def test_text_report_warns_where_a_figure_misses(
        model_cache: Path, take: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _profile(capsys, str(take), "--model", "swiftf0", "--json")
    report = json.loads(out)
    # The emission latency of SwiftF0 in Fast mode (~80 ms) misses the 25 ms target.
    text = format_report(report)
    for f in report["figures"]:
        line = next(ln for ln in text.splitlines() if ln.startswith(f["label"]))
        assert ("WARNING" in line) == (not f["ok"]), line
    assert not next(f for f in report["figures"] if f["id"] == "emission_latency_mean_ms")["ok"]
    assert f"{len(report['warnings'])} figure(s) miss their target" in text


def test_realtime_profile_runs_the_ml_thread(
        model_cache: Path, take: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _profile(capsys, str(take), "--model", "swiftf0", "--realtime", "--json")
    assert rc == 0
    report = json.loads(out)
    assert report["realtime"] is True
    assert {f["id"] for f in report["figures"]} == FIGURES
    assert report["take"]["wall_seconds"] >= report["take"]["seconds"]
    assert report["threads"]["ml"]["priority"] != "none"
    assert report["threads"]["ml"]["cpu_share"] > 0


def test_missing_take_is_a_clear_error(model_cache: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["profile", str(tmp_path / "nope.wav"), "--model", "swiftf0"])
    assert rc != 0
    assert "nope.wav" in capsys.readouterr().err
