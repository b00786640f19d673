"""`vocalmidi demo` (what `make demo` runs): the file's notes and the plugin's live line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vocalmidi.cli.main import main


@pytest.mark.slow
def test_demo_prints_note_f1_and_the_live_emission_latency_beside_the_live_f1(
        model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo.mid"
    assert main(["demo", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    text = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    # The take as a file (the whole-take model): nearly every note, on time.
    f1 = float(re.search(r"note F1 \(onset ±50 ms\) ([0-9.]+)", text).group(1))
    assert f1 >= 0.9, text
    # Live through the plugin (its default, our note model): when the note-ons left and
    # how the recorded MIDI scores. SwiftF0, the old default, left a median ~140 ms late.
    live = re.search(r"note-ons left a median (\d+) ms .*?note F1@50 ([0-9.]+)", text)
    assert live, text
    assert int(live.group(1)) < 100 and float(live.group(2)) >= 0.5, live.group(0)
