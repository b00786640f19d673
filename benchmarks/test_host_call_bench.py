"""Our JUCE host from Python: start-up through cppyy, and the cost of one block call.

- ``import``: ``from vocalmidi.hosts import juce; juce.load()`` in a fresh interpreter,
  cold (no cached precompiled header: Cling parses JUCE's headers and the PCH is written)
  and warm (PCH cached in the build tree), plus the first plugin load after it (scan and
  instantiate the built VST3). Numbers in ``extra_info``.
- ``block-call``: one 64-sample block through x42's onset trigger (an LV2 plugin whose
  DSP costs next to nothing, so the call is what is measured), the same plugin in the same
  process four ways: :meth:`PluginHost.process` (ctypes C ABI plus its Python checks), the
  same on cppyy (``CppyyPluginHost``), ``vmh_process`` called directly through ctypes, and
  ``HostedPlugin::process`` called directly through cppyy with numpy arrays as ``float*``.

Run: ``pytest benchmarks/test_host_call_bench.py --benchmark-only``. Needs the native
build, cppyy (``dev`` extra) and Debian's x42-plugins.
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
    pytest.skip("cppyy is not installed (dev extra)", allow_module_level=True)

ONSET = "/usr/lib/lv2/onsettrigger.lv2"
ONSET_MONO = "Onset Trigger - Bassdrum Detection Mono"
SR, BLOCK = 48000, 64

_STARTUP = """
import json, time
t0 = time.perf_counter()
from vocalmidi.hosts import juce
cpp = juce.load()
t1 = time.perf_counter()
from vocalmidi import native
found = juce.scan(native.vst3_path())
error = cpp.juce.String()
plugin = cpp.host.py.instantiate(found[0], 48000.0, 512, error)
assert plugin, error.toStdString()
t2 = time.perf_counter()
print(json.dumps(dict(juce.load_stats(), import_and_load_s=t1 - t0, first_plugin_s=t2 - t1)))
"""


def _startup(cache: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if cache:
        env["VOCALMIDI_CLING_CACHE"] = cache
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_STARTUP)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_cold(benchmark: Any) -> None:
    """First import ever: the precompiled header is made (into a fresh cache folder)."""
    benchmark.group = "juce-import"
    with tempfile.TemporaryDirectory() as cache:
        stats = benchmark.pedantic(_startup, args=(cache,), rounds=1, iterations=1)
    assert stats["built_pch"]
    benchmark.extra_info.update({k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in stats.items()})


def test_import_warm(benchmark: Any) -> None:
    """Later imports: the cached PCH is mapped, JUCE's headers are not parsed again."""
    benchmark.group = "juce-import"
    _startup(None)  # make sure the build tree's PCH exists
    stats = benchmark.pedantic(_startup, args=(None,), rounds=3, iterations=1)
    assert stats["pch"] and not stats["built_pch"]
    benchmark.extra_info.update({k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in stats.items()})


@pytest.fixture(scope="module")
def kick() -> np.ndarray:
    t = np.arange(BLOCK) / SR
    return (0.5 * np.sin(2 * np.pi * 60 * t)).astype(np.float32).reshape(1, -1)


@pytest.fixture(scope="module")
def ctypes_host() -> Any:
    from vocalmidi.hosts import PluginHost

    host = PluginHost(ONSET, plugin=ONSET_MONO)
    host.prepare(SR, BLOCK, channels=1)
    yield host
    host.close()


@pytest.fixture(scope="module")
def cppyy_plugin() -> Any:
    from vocalmidi.hosts import juce

    cpp = juce.load()
    plugin = cpp.host.HostedPlugin()
    assert plugin.load(juce.jstring(ONSET), juce.jstring(ONSET_MONO)) == 0
    plugin.setNonRealtime(True)
    assert plugin.prepare(SR, BLOCK, 1, 1) == 0
    yield cpp, plugin
    cpp.host.py.control()
    del plugin


def test_block_call_plugin_host_ctypes(benchmark: Any, ctypes_host: Any, kick: np.ndarray) -> None:
    benchmark.group = "block-call"
    benchmark(ctypes_host.process, kick[0], BLOCK)


def test_block_call_plugin_host_cppyy(benchmark: Any, cppyy_plugin: Any, kick: np.ndarray) -> None:
    """The same PluginHost API on HostedPlugin through cppyy (VOCALMIDI_HOST_BACKEND=cppyy)."""
    from vocalmidi.hosts.cppyy_host import CppyyPluginHost

    benchmark.group = "block-call"
    with CppyyPluginHost(ONSET, plugin=ONSET_MONO) as host:
        host.prepare(SR, BLOCK, channels=1)
        benchmark(host.process, kick[0], BLOCK)


def test_block_call_vmh_process_ctypes(benchmark: Any, ctypes_host: Any, kick: np.ndarray) -> None:
    benchmark.group = "block-call"
    lib, handle = ctypes_host._lib, ctypes_host._handle()
    out = np.zeros_like(kick)
    sizes = np.array([BLOCK], np.int32)
    args = (handle, kick.ctypes.data, out.ctypes.data, BLOCK, sizes.ctypes.data, 1, None, 0, None)
    assert lib.vmh_process(*args) >= 0
    benchmark(lib.vmh_process, *args)


def test_block_call_hosted_plugin_cppyy(benchmark: Any, cppyy_plugin: Any,
                                        kick: np.ndarray) -> None:
    benchmark.group = "block-call"
    cpp, plugin = cppyy_plugin
    out = np.zeros_like(kick)
    sizes = np.array([BLOCK], np.int32)
    import cppyy

    null = cppyy.nullptr
    assert plugin.process(kick, out, BLOCK, sizes, 1, null, 0, null) >= 0
    benchmark(plugin.process, kick, out, BLOCK, sizes, 1, null, 0, null)
