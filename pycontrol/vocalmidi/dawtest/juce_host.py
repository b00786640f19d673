"""Our headless JUCE host (:class:`vocalmidi.hosts.PluginHost`) as the harness drives it.

It is the one host here that sees the plugin's MIDI output, controls block sizes exactly,
and can play DAW tricks (blocks larger than prepared, real-time pacing, parameter changes
between sub-blocks), so most scenarios run on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vocalmidi.dawtest import signals
from vocalmidi.dawtest.oracles import Event
from vocalmidi.hosts import PluginHost

REF_BLOCK = 512
Blocks = int | Sequence[int]
# (sample, action): an action runs on the host between two sub-blocks at that sample.
Lane = Sequence[tuple[int, Callable[[PluginHost], None]]]


@dataclass
class Render:
    """One render: audio out, MIDI out, the latency reported after it, and its cost."""

    audio: np.ndarray
    events: list[Event]
    latency: int
    seconds: float
    allocations: tuple[int, int, int] | None  # plugin calls, blocks with them, host calls


class JuceRig:
    """Loads fresh VST3 instances and keeps reference renders (one per sample rate)."""

    def __init__(self, vst3: Path) -> None:
        self.vst3 = vst3
        self._refs: dict[int, Render] = {}

    def fresh(self, sample_rate: int = 48000, block: int = REF_BLOCK,
              params: dict[str, float | str] | None = None) -> PluginHost:
        """A new instance, parameters set, prepared for mono at ``sample_rate``."""
        host = PluginHost(self.vst3)
        for name, value in (params or {}).items():
            host.set_parameter(name, value)
        host.prepare(sample_rate, block, channels=1)
        return host

    def reference(self, sample_rate: int = 48000) -> Render:
        """The phrase rendered offline by a fresh instance in blocks of 512."""
        if sample_rate not in self._refs:
            with closing(self.fresh(sample_rate)) as host:
                self._refs[sample_rate] = render(host, phrase(sample_rate), REF_BLOCK)
        return self._refs[sample_rate]


@contextmanager
def closing(host: PluginHost) -> Iterator[PluginHost]:
    try:
        yield host
    finally:
        host.close()


@lru_cache(maxsize=16)
def phrase(sample_rate: int) -> np.ndarray:
    return signals.phrase(sample_rate).audio


def render(host: PluginHost, audio: np.ndarray, blocks: Blocks, *, realtime: bool = False,
           lane: Lane = ()) -> Render:
    """Run ``audio`` through ``host``; ``lane`` actions run at their samples, splitting blocks.

    A lane is how the harness automates at sub-block rate: the host block in progress is cut
    at the action's sample, the action (a parameter change, bypass, transport jump) runs,
    and processing goes on, as hosts with sample-accurate automation do.
    """
    n = audio.shape[-1]  # (n,) mono or (channels, n)
    points = sorted({min(max(0, s), n) for s, _ in lane} | {n})
    actions = sorted(lane, key=lambda a: a[0])
    outs: list[np.ndarray] = []
    events: list[Event] = []
    calls = blocks_with = host_calls = 0
    counted = True
    pos, k = 0, 0
    t0 = time.perf_counter()
    for end in points:
        while k < len(actions) and actions[k][0] <= pos:
            actions[k][1](host)
            k += 1
        if end > pos:
            out, midi = host.process(audio[..., pos:end], blocks, realtime=realtime,
                                     allow_nonfinite=True)
            outs.append(np.array(out, copy=True))
            events += [(pos + m.sample, m.data) for m in midi]
            counts = host.process_allocations
            if counts is None:
                counted = False
            else:
                calls, blocks_with = calls + counts[0], blocks_with + counts[1]
                host_calls += counts[2]
        pos = end
    seconds = time.perf_counter() - t0
    out = np.concatenate(outs, axis=-1) if outs else np.zeros(0, np.float32)
    return Render(out, events, host.latency_samples, seconds,
                  (calls, blocks_with, host_calls) if counted else None)
