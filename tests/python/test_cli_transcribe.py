"""`vocalmidi transcribe` as a user runs it: folders, formats, outputs, errors, cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_transcribe import MELODY, sing

from vocalmidi.cli.main import main
from vocalmidi.midi_io import read_notes


@pytest.fixture
def takes(tmp_path: Path) -> Path:
    """A folder of takes: stereo WAV at 44.1 kHz, FLAC at 16 kHz in a sub-folder, OGG."""
    src = tmp_path / "takes"
    (src / "day2").mkdir(parents=True)
    mono = sing(44100)
    sf.write(src / "a.wav", np.stack([mono, mono], axis=1), 44100)
    sf.write(src / "day2" / "b.flac", sing(16000), 16000)
    sf.write(src / "c.ogg", sing(48000), 48000)
    return src


def test_folder_to_midi_csv_json_in_parallel(fresh_cache: Path, takes: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main(["transcribe", str(takes), "-o", str(out), "--csv", "--json", "-j", "2"])
    assert rc == 0, capsys.readouterr().err
    expected = [p for p, _ in MELODY]
    for rel in ("a", "day2/b", "c"):
        for suffix in (".mid", ".csv", ".json"):
            notes = read_notes(out / f"{rel}{suffix}")
            assert [n.pitch for n in notes] == expected, (rel, suffix, notes)
    doc = json.loads((out / "a.json").read_text())
    assert set(doc["notes"][0]) >= {"start", "end", "pitch", "velocity"}
    assert "3 of 3 file(s) transcribed" in capsys.readouterr().err

    # A re-run is served from the result cache and writes the same files.
    (out / "c.mid").unlink()
    assert main(["transcribe", str(takes), "-o", str(out), "-j", "2"]) == 0
    assert "(3 from cache)" in capsys.readouterr().err
    assert [n.pitch for n in read_notes(out / "c.mid")] == expected


def test_one_file_to_a_named_midi_file(fresh_cache: Path, takes: Path, tmp_path: Path) -> None:
    target = tmp_path / "song.mid"
    assert main(["transcribe", str(takes / "a.wav"), "-o", str(target), "-q",
                 "--set", "note_max=61"]) == 0
    assert [n.pitch for n in read_notes(target)] == [57, 60]


def test_bad_files_fail_alone_with_one_line_each(fresh_cache: Path, takes: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sf.write(takes / "nan.wav", np.full(8000, np.nan, np.float32), 16000, subtype="FLOAT")
    (takes / "text.wav").write_text("not audio")
    out = tmp_path / "out"
    rc = main(["transcribe", str(takes), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert rc == 5  # AudioInputError
    problems = [line for line in err.splitlines() if line.startswith("vocalmidi: error:")]
    assert len(problems) == 2, err
    assert any("nan.wav" in p and "NaN" in p for p in problems)
    assert any("text.wav" in p for p in problems)
    # The good files were still transcribed.
    assert all((out / f"{r}.mid").exists() for r in ("a", "day2/b", "c"))


def test_user_errors_have_exit_codes(fresh_cache: Path, takes: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = str(tmp_path / "out")
    assert main(["transcribe", str(takes), "-o", out, "--model", "nope"]) == 4
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main(["transcribe", str(tmp_path / "missing.wav"), "-o", out]) == 5
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["transcribe", str(takes), "-o", str(tmp_path / "x.mid")]) == 2
    assert "give a folder" in capsys.readouterr().err
    monkeypatch.setenv("VOCALMIDI_NATIVE_DIR", str(tmp_path / "no-build"))
    assert main(["transcribe", str(takes), "-o", out]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "VOCALMIDI_NATIVE_DIR" in err
