"""`vocalmidi cache gc`: the result cache is evicted least recently used first down to a
size cap, leftover temporary files go, and an evicted result is simply transcribed again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import soundfile as sf
from test_transcribe import sing

from vocalmidi.cli.main import main


def _results(root: Path) -> list[Path]:
    return sorted((root / "results").glob("*/*.json"))


def test_gc_evicts_least_recently_used_results_to_the_cap(
        fresh_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    takes = tmp_path / "takes"
    takes.mkdir()
    for i, sr in enumerate((16000, 22050, 44100)):
        sf.write(takes / f"t{i}.wav", sing(sr), sr)
    out = tmp_path / "out"
    assert main(["transcribe", str(takes), "-o", str(out), "-q"]) == 0
    entries = _results(fresh_cache)
    assert len(entries) == 3
    # Age them: t-entries used 300, 200 and 100 s ago; then a re-run reads t0's result
    # back, which makes it the most recently used.
    now = time.time()
    for age, path in zip((300, 200, 100), entries, strict=True):
        os.utime(path, (now - age, now - age))
    by_input = {json.loads(p.read_text())["meta"]["input"]: p for p in entries}
    t0 = by_input[str((takes / "t0.wav").resolve())]
    assert main(["transcribe", str(takes / "t0.wav"), "-o", str(tmp_path / "x.mid"), "-q"]) == 0
    leftover = fresh_cache / "results" / "ab" / "dead.123.tmp"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_text("{")
    os.utime(leftover, (now - 7200, now - 7200))
    capsys.readouterr()

    one = t0.stat().st_size
    assert main(["cache", "gc", "--max-size", str(one), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evicted"] == 2 and report["temp_removed"] == 1
    assert _results(fresh_cache) == [t0]
    assert report["total_after"] == one and not leftover.exists()

    # An evicted result is transcribed again; the kept one comes from the cache.
    assert main(["transcribe", str(takes), "-o", str(out), "--json-summary", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["from_cache"] == 1 and summary["decoded"] == 2


def test_gc_without_a_cap_keeps_results(fresh_cache: Path,  # noqa: F811
                                        capsys: pytest.CaptureFixture[str]) -> None:
    entry = fresh_cache / "results" / "ab" / "abc.json"
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps({"meta": {}, "notes": []}))
    assert main(["cache", "gc"]) == 0
    assert entry.exists()
    assert "evicted 0 result(s)" in capsys.readouterr().out
