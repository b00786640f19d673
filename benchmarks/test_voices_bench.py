"""Render speed of the training/validation voices: CPU seconds per second of audio.

Run: PYTHONPATH=pycontrol pytest benchmarks/test_voices_bench.py --benchmark-only -s
Target: the data generator makes 1-2 hours of audio in <= 15 min on 2 cores, so a voice
should cost well under 0.1 CPU s per audio s (augmentation needs the rest). The CPU time
counts FluidSynth's child processes too; each voice is warmed up once first (the
syllable voice analyses its syllables on first use).
"""

from __future__ import annotations

import resource
import warnings
from typing import Any

import pytest

from vocalmidi.eval.melodies import corpus_specs, load_melody
from vocalmidi.eval.perform import STYLES, perform
from vocalmidi.notes import Note

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pytest.importorskip("pyworld")

from vocalmidi.train.voices.gm import GMVoice  # noqa: E402
from vocalmidi.train.voices.hum import HumVoice  # noqa: E402
from vocalmidi.train.voices.syllable import SyllableVoice  # noqa: E402

VOICES = {
    "syllable": lambda: SyllableVoice("en-us+f3"),
    "hum": lambda: HumVoice("mm"),
    "whistle": lambda: HumVoice("whistle"),
    "gm-fluidr3": lambda: GMVoice("fluidr3", "voice_oohs"),
    "gm-timgm6mb": lambda: GMVoice("timgm6mb", "choir_aahs"),
}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _takes() -> list[list[Note]]:
    out = []
    for i, spec in enumerate(corpus_specs("all")[20:24]):  # not eval-set melodies
        score, _ = load_melody(spec, voice=("female", "male")[i % 2], max_seconds=10.0)
        out.append(perform(score, STYLES["sung"], i))
    return out


@pytest.mark.parametrize("kind", list(VOICES))
@pytest.mark.parametrize("rate", [16000, 48000])
def test_voice_render_cpu_per_audio_second(benchmark: Any, kind: str, rate: int) -> None:
    voice = VOICES[kind]()
    takes = _takes()
    voice.render(takes[0], rate, 0)  # warm-up: analysis cache, numba compile

    def render_all() -> float:
        c0, seconds = _cpu(), 0.0
        for i, notes in enumerate(takes):
            audio, _ = voice.render(notes, rate, i)
            seconds += audio.size / rate
        return (_cpu() - c0) / seconds

    cost = benchmark.pedantic(render_all, rounds=1, iterations=1)
    benchmark.extra_info["cpu_s_per_audio_s"] = round(cost, 4)
    print(f"{voice.name} {rate} Hz: {cost:.3f} CPU s per audio s")
    assert cost < 0.1
