"""The live sweep across sample rates and block sizes (issue 14's matrix): the built plugin
runs our note model at real-time pace in our JUCE host (VST3) and in jalv (LV2, JACK's
dummy driver), and its MIDI stream is scored as a DAW records it.

Only what must hold on any machine is asserted (the notes are found at each rate and
block size, the stream is scored); the timing goals live in the bench
(``vocalmidi bench --live-only ...``), not here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocalmidi.eval.live_stream import negative_spans, score_stream, stream_notes
from vocalmidi.eval.sweep import RATE, Take
from vocalmidi.notes import Note

MODEL = "vocalnote-s"
PARAMS = {"Model": MODEL, "Latency Mode": "Instant"}
TAKE_S = 4.0  # the first notes of the demo tune: a short take keeps the test under a minute


def on(note: int, vel: int = 100) -> bytes:
    return bytes([0x90, note, vel])


def off(note: int) -> bytes:
    return bytes([0x80, note, 0])


def test_stream_notes_pair_ons_with_offs_and_end_open_ones() -> None:
    midi = [(1.0, on(60)), (1.4, off(60)), (1.5, on(62)), (1.6, on(62)),  # re-attack
            (1.9, bytes([0x90, 62, 0])), (2.0, bytes([0xB0, 7, 100])), (2.5, on(64))]
    notes = stream_notes(midi, end_s=3.0)
    assert [(n.start, n.end, n.pitch) for n in notes] == [
        (1.0, 1.4, 60), (1.5, 1.6, 62), (1.6, 1.9, 62), (2.5, 3.0, 64)]


def test_stream_score_compensates_the_reported_latency_only() -> None:
    truth = [Note(1.0, 1.5, 60), Note(2.0, 2.5, 62)]
    # Each note-on leaves 40 ms after its onset; the plugin reports 30 ms.
    midi = [(1.04, on(60)), (1.54, off(60)), (2.04, on(62)), (2.54, off(62)),
            (4.5, on(70)), (4.6, off(70))]  # inside the negative span
    s = score_stream(truth, midi, latency_s=0.030, duration_s=6.0, negatives=[(4.0, 6.0)])
    assert s["f1_50"] == 1.0 and s["false_notes"] == 0
    assert s["negative_notes"] == 1 and s["negative_false_per_min"] == 30.0
    # 100 ms late after compensation: outside ±50 ms, so both count as false notes.
    late = [(t + 0.07, d) for t, d in midi[:4]]
    s = score_stream(truth, late, latency_s=0.0, duration_s=6.0)
    assert s["f1_50"] == 0.0 and s["false_notes"] == 2 and s["negative_false_per_min"] is None


def test_negative_spans_follow_the_joined_stream() -> None:
    takes = [Take("a", np.zeros(RATE, np.float32), [Note(0.1, 0.5, 60)]),
             Take("neg", np.zeros(2 * RATE, np.float32), [])]
    assert negative_spans(takes, gap_s=1.0) == [(2.0, 5.0)]


@pytest.fixture(scope="module")
def short_take(tmp_path_factory: pytest.TempPathFactory) -> Take:
    """The demo tune's first notes (a voice patch with vibrato and scoops), cut after the
    last note that ends within :data:`TAKE_S`."""
    from vocalmidi.eval.render import render_demo_melody

    audio, sr, truth = render_demo_melody(tmp_path_factory.mktemp("take") / "demo.wav")
    assert sr == RATE
    notes = [n for n in truth if n.end <= TAKE_S]
    assert len(notes) >= 4
    end = int((notes[-1].end + 0.2) * RATE)
    return Take("demo-start", audio[:end], notes)


@pytest.fixture
def note_cache(fresh_cache: Path) -> Path:
    from vocalmidi.models import pull

    pull([MODEL], cache=fresh_cache)
    return fresh_cache


def assert_found(res: object, take: Take, rate: int, block: int) -> None:
    from vocalmidi.eval.sweep import HostBlockResult

    assert isinstance(res, HostBlockResult)
    assert (res.sample_rate, res.block_size) == (rate, block)
    assert res.reported_latency_samples > 0
    e, st = res.emission, res.stream
    where = f"{res.host} {rate} Hz block {block}: {e.as_dict()} {st}"
    # Each note of the take left the plugin at its pitch (one may be lost on a loaded box).
    assert e.matched >= len(take.notes) - 1, where
    assert st["true_notes"] == len(take.notes) and st["f1_50"] is not None, where
    assert st["notes"] <= 2 * len(take.notes), where  # no flood of notes


@pytest.mark.slow
def test_host_sweep_finds_the_notes_at_each_rate_and_block(note_cache: Path,
                                                           short_take: Take) -> None:
    from vocalmidi.eval.sweep import host_latency_sweep

    rates, blocks = [44100, 96000], [64, 1024]
    results = host_latency_sweep([short_take], blocks, rates=rates, parameters=PARAMS)
    assert [(r.host, r.sample_rate, r.block_size) for r in results] == [
        ("juce", rate, block) for rate in rates for block in blocks]
    for r in results:
        assert_found(r, short_take, r.sample_rate, r.block_size)
        stream_len = int(round((short_take.audio.size / RATE + 1.0) * r.sample_rate))
        assert abs(r.blocks - stream_len / r.block_size) <= 2  # the resampled stream, all of it
        assert r.as_dict()["sample_rate"] == r.sample_rate


@pytest.mark.slow
def test_jalv_sweep_finds_the_notes_at_each_rate(note_cache: Path, short_take: Take) -> None:
    from vocalmidi import native
    from vocalmidi.eval.live_stream import jalv_latency_sweep

    if native.plugin_paths().lv2 is None:
        pytest.fail("the LV2 was not built")
    [low] = jalv_latency_sweep([short_take], [32], [44100], parameters=PARAMS)
    [high] = jalv_latency_sweep([short_take], [1024], [96000], parameters=PARAMS)
    for r, rate, block in ((low, 44100, 32), (high, 96000, 1024)):
        assert r.host == "jalv" and r.xruns is not None
        assert_found(r, short_take, rate, block)
