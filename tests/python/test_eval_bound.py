"""The pitch-model bound of emission latency: real SwiftF0 on rendered takes, and how the
bench reports it beside the measured emission."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from rich.console import Console
from test_eval_render import SR, STACCATO  # detached notes at 48 kHz (= RATE)

from vocalmidi.errors import BackendUnavailableError, UsageError
from vocalmidi.eval.bound import AHEAD_S, LABEL, emission_bound
from vocalmidi.eval.render import render_take
from vocalmidi.eval.report import latency_table, markdown_summary
from vocalmidi.eval.sweep import Take, pitch_model_bound
from vocalmidi.notes import Note


@pytest.fixture(scope="module")
def oohs() -> tuple[np.ndarray, list[Note]]:
    """Voice Oohs singing six detached notes, plainly (no scoops)."""
    return render_take(STACCATO, patch="voice_oohs", style="plain", seed=1, sample_rate=SR)


def test_bound_of_a_detached_note_is_its_first_frames_plus_the_audio_they_need(
        oohs: tuple[np.ndarray, list[Note]]) -> None:
    audio, truth = oohs
    st = emission_bound(truth, audio, SR)
    assert (st.n_truth, st.matched) == (6, 6)
    # Nothing before the note sounds, so no frame shows it before its onset: the bound is
    # at least the 32 ms a frame needs, and the patch speaks within a few 16 ms frames.
    for ms in st.latencies_ms:
        assert 1000 * AHEAD_S <= ms <= 1000 * AHEAD_S + 64
    # Claiming the notes began 100 ms sooner than sung adds 100 ms: the bound follows
    # the audio, not the ground truth.
    early = [Note(n.start - 0.1, n.end - 0.1, n.pitch) for n in truth]
    assert emission_bound(early, audio, SR).latencies_ms == pytest.approx(
        [ms + 100 for ms in st.latencies_ms])


def test_notes_whose_pitch_never_shows_are_not_found(
        oohs: tuple[np.ndarray, list[Note]]) -> None:
    audio, truth = oohs
    shown = emission_bound(truth, audio, SR).latencies_ms
    wrong_pitch = Note(truth[0].start, truth[0].end, truth[0].pitch + 5)
    in_silence = Note(truth[0].end + 0.2, truth[0].end + 0.5, 60)
    st = emission_bound([*truth, wrong_pitch, in_silence], audio, SR)
    assert (st.n_truth, st.matched, st.recall) == (8, 6, 0.75)
    assert st.latencies_ms == pytest.approx(shown)


def test_bound_says_what_is_missing_or_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="needs audio"):
        emission_bound(STACCATO, np.zeros(0, np.float32), SR)
    with pytest.raises(UsageError, match="sample rate"):
        emission_bound(STACCATO, np.zeros(SR, np.float32), 0)
    monkeypatch.setitem(sys.modules, "swift_f0", None)  # as if not installed
    with pytest.raises(BackendUnavailableError, match="swift-f0 is not installed"):
        emission_bound(STACCATO, np.zeros(SR, np.float32), SR)


def test_bench_shows_the_bound_beside_the_measured_emission(
        oohs: tuple[np.ndarray, list[Note]]) -> None:
    audio, truth = oohs
    bound = pitch_model_bound([Take("staccato", audio, truth)])
    e = bound["emission"]
    assert bound["system"] == LABEL and (e["matched"], e["n_truth"]) == (6, 6)
    assert 32 <= e["median_ms"] <= e["p95_ms"] <= 96
    # As the bench writes it when the plugin is not built (no host sweep): the bound
    # still has its row in the live table, under the table's header.
    doc = {"systems": {}, "live": {"host": [], "bound": bound}}
    lines = markdown_summary(doc).splitlines()
    row = next(line for line in lines if line.startswith(f"| {LABEL} |"))
    assert f"| {e['median_ms']:.0f} / {e['p95_ms']:.0f} | 6/6 |" in row
    assert "emission median / p95 ms" in lines[lines.index(row) - 2]
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(latency_table([], bound=bound))
    [shown] = [line for line in console.export_text().splitlines() if LABEL in line]
    assert f"{e['median_ms']:.1f}" in shown and "6/6" in shown
