"""Our JUCE host from Python: start-up through cppyy, and what a call costs.

- ``juce-import``: in a fresh interpreter, ``from vocalmidi.hosts import PluginHost``, the
  first ``PluginHost()`` (cppyy starts and maps JUCE's precompiled headers) and the first
  plugin loaded (our VST3). Cold: no cached precompiled header (Cling parses JUCE's
  headers and writes it); warm: the build tree's PCH. Seconds per step in ``extra_info``.
- ``block-call``: one 64-sample block through x42's onset trigger (an LV2 plugin whose DSP
  costs next to nothing, so the call is what is measured): :meth:`PluginHost.process`
  (its Python checks, then one cppyy call into ``HostedPlugin::process``) and
  ``HostedPlugin::process`` called directly through cppyy with numpy arrays as ``float*``.
- ``block-loop``: one second of audio in 64-sample blocks (750 blocks) through the same
  plugin, as one ``process`` call whose block loop runs in C++, and as one Python call per
  block. ``extra_info`` has the cost per block of each: what the per-block loop in C++
  saves the timing of a live render.

The ctypes C ABI that PluginHost used before (``libvocalmidi_host``) is gone; its numbers,
measured beside these in the same run before it went, are in docs/measurements.md.

Run: ``pytest benchmarks/test_host_call_bench.py --benchmark-only``. Needs the native
build, cppyy and Debian's x42-plugins.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from typing import Any

import numpy as np
import pytest

# Not importorskip: importing cppyy here would start it before vocalmidi.hosts.juce picks
# its precompiled header.
if importlib.util.find_spec("cppyy") is None:
    pytest.skip("cppyy is not installed", allow_module_level=True)

ONSET = "/usr/lib/lv2/onsettrigger.lv2"
ONSET_MONO = "Onset Trigger - Bassdrum Detection Mono"
SR, BLOCK = 48000, 64
LOOP_BLOCKS = SR // BLOCK  # one second

_STARTUP = """
import json, time
t0 = time.perf_counter()
from vocalmidi.hosts import PluginHost, juce
t1 = time.perf_counter()
host = PluginHost()
t2 = time.perf_counter()
from vocalmidi import native
host.load(native.vst3_path())
t3 = time.perf_counter()
host.close()
print(json.dumps(dict(juce.load_stats(), import_hosts_s=t1 - t0, first_host_s=t2 - t1,
                      import_and_load_s=t2 - t0, first_plugin_s=t3 - t2)))
"""


def _startup(cache: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if cache:
        env["VOCALMIDI_CLING_CACHE"] = cache
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_STARTUP)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _record(benchmark: Any, stats: dict[str, Any]) -> None:
    benchmark.extra_info.update({k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in stats.items()})


def test_import_cold(benchmark: Any) -> None:
    """First use ever: the precompiled header is made (into a fresh cache folder)."""
    benchmark.group = "juce-import"
    with tempfile.TemporaryDirectory() as cache:
        stats = benchmark.pedantic(_startup, args=(cache,), rounds=1, iterations=1)
    assert stats["built_pch"]
    _record(benchmark, stats)


def test_import_warm(benchmark: Any) -> None:
    """Later uses: the cached PCH is mapped, JUCE's headers are not parsed again."""
    benchmark.group = "juce-import"
    _startup(None)  # make sure the build tree's PCH exists
    stats = benchmark.pedantic(_startup, args=(None,), rounds=3, iterations=1)
    assert stats["pch"] and not stats["built_pch"]
    _record(benchmark, stats)


@pytest.fixture(scope="module")
def host() -> Any:
    from vocalmidi.hosts import PluginHost

    with PluginHost(ONSET, plugin=ONSET_MONO) as h:
        h.prepare(SR, BLOCK, channels=1)
        yield h


def _kick(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return (0.5 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)


def test_block_call_plugin_host(benchmark: Any, host: Any) -> None:
    benchmark.group = "block-call"
    benchmark(host.process, _kick(BLOCK), BLOCK)


def test_block_call_hosted_plugin(benchmark: Any, host: Any) -> None:
    """``HostedPlugin::process`` itself, as cppyy calls it (what PluginHost adds is the rest)."""
    import cppyy

    benchmark.group = "block-call"
    plugin, null = host._plugin(), cppyy.nullptr
    x = _kick(BLOCK).reshape(1, -1)
    out = np.zeros_like(x)
    sizes = np.array([BLOCK], np.int32)
    assert plugin.process(x, out, BLOCK, sizes, 1, null, 0, null) >= 0
    benchmark(plugin.process, x, out, BLOCK, sizes, 1, null, 0, null)


def _per_block(benchmark: Any) -> None:
    median = benchmark.stats.stats.median
    benchmark.extra_info["us_per_block"] = round(median / LOOP_BLOCKS * 1e6, 2)


def test_block_loop_in_cpp(benchmark: Any, host: Any) -> None:
    """One call, 750 blocks: the loop runs in HostedPlugin::process."""
    benchmark.group = "block-loop"
    x = _kick(LOOP_BLOCKS * BLOCK)
    benchmark(host.process, x, BLOCK)
    _per_block(benchmark)


def test_block_loop_in_python(benchmark: Any, host: Any) -> None:
    """750 calls of one block each: the same audio, Python paying each call."""
    benchmark.group = "block-loop"
    blocks = _kick(LOOP_BLOCKS * BLOCK).reshape(LOOP_BLOCKS, BLOCK)

    def loop() -> None:
        for block in blocks:
            host.process(block, BLOCK)

    benchmark.pedantic(loop, rounds=5, iterations=1, warmup_rounds=1)
    _per_block(benchmark)
