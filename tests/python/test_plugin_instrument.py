"""The instrument variant, "VocalMIDI Instrument": what a host sees when it loads it.

Ableton Live takes MIDI out of instruments only, so the voice goes into the instrument's
side-chain. These tests run the dawtest instrument scenarios (the real VST3 in our JUCE
host and the LV2 in jalv, audio through the side-chain bus) and check the bundles'
identity: own IDs and LV2 URI, an instrument, audio in only through the side-chain, MIDI
out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vocalmidi import native
from vocalmidi.cli.main import main
from vocalmidi.dawtest.results import PASS
from vocalmidi.dawtest.scenarios import SCENARIOS
from vocalmidi.hosts import PluginHost, list_plugins

INSTRUMENT_SCENARIOS = [s.name for s in SCENARIOS if s.name.startswith("instrument-")]


@pytest.fixture(scope="module")
def instrument_vst3() -> Path:
    return native.instrument_vst3_path()


def test_every_instrument_scenario_is_in_quick() -> None:
    assert len(INSTRUMENT_SCENARIOS) == 6
    assert all(s.quick and s.quick <= set(s.cases)
               for s in SCENARIOS if s.name in INSTRUMENT_SCENARIOS)


@pytest.mark.slow
def test_instrument_scenarios_pass(model_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["dawtest", "--host", "juce", "--host", "jalv", "--json", "--no-html"]
    for name in INSTRUMENT_SCENARIOS:
        args += ["-s", name]
    rc = main(args)
    report = json.loads(capsys.readouterr().out)
    results = {r["scenario"]: r for r in report["results"] if r["status"] != "n/a"}
    bad = {n: (r["status"], r["detail"]) for n, r in results.items() if r["status"] != PASS}
    assert rc == 0 and not bad, bad
    assert set(results) == set(INSTRUMENT_SCENARIOS)
    side = {c["name"]: c for c in results["instrument-sidechain"]["checks"]}
    # The notes came through the side-chain (mono and stereo), identical to the effect's.
    assert side["1-channel side-chain: MIDI identical to the effect's"]["ok"]
    assert side["2-channel side-chain: MIDI identical to the effect's"]["ok"]
    assert results["instrument-sidechain"]["info"]["latency"] > 0
    layouts = [c["name"] for c in results["instrument-layouts"]["checks"]]
    assert "refuses 3 side-chain / 2 out channels" in layouts
    assert "accepts 0 side-chain / 2 out channels" in layouts
    # The LV2 in jalv: the phrase through its side-chain ports, live.
    assert results["instrument-lv2-jalv"]["info"]["latency"] == \
        results["instrument-sidechain"]["info"]["latency"]


def test_vst3_is_a_midi_instrument_of_its_own(instrument_vst3: Path) -> None:
    (fmt, ident, name), = list_plugins(instrument_vst3)
    (_, effect_ident, effect_name), = list_plugins(native.vst3_path())
    assert (fmt, name, effect_name) == ("VST3", "VocalMIDI Instrument", "VocalMIDI")
    assert ident != effect_ident
    with PluginHost(instrument_vst3) as host:
        assert host.produces_midi and host.accepts_midi
        # Same parameters as the effect: presets carry over.
        with PluginHost(native.vst3_path()) as effect:
            assert list(host.parameters) == list(effect.parameters)
        assert "Virtual MIDI Out" in host.parameters
        assert host.get_parameter("Virtual MIDI Out") == 0.0  # off in a plugin


def test_lv2_is_an_instrument_with_its_own_uri() -> None:
    from vocalmidi.hosts.lv2_bundle import lv2_plugin

    bundle = native.plugin_paths().instrument_lv2
    assert bundle is not None, "the instrument's LV2 is not built"
    plugin = lv2_plugin(bundle)
    effect = lv2_plugin(native.plugin_paths().lv2)
    assert plugin.uri == "https://vocalmidi.org/plugins/vocalmidi-instrument" != effect.uri
    ttl = "".join(p.read_text() for p in bundle.glob("*.ttl"))
    assert "lv2:InstrumentPlugin" in ttl
    # Its audio inputs are a side-chain, not a main input (hosts route a side-chain there).
    assert ttl.count("lv2:portProperty lv2:isSideChain") == 2 and "pg:mainInput" not in ttl
    audio_in = [p for p in plugin.ports if p.is_audio and "InputPort" in p.types]
    audio_out = [p for p in plugin.ports if p.is_audio and "OutputPort" in p.types]
    assert len(audio_in) == 2 and len(audio_out) == 2  # the stereo side-chain, stereo out
    assert plugin.latency_port is not None


@pytest.mark.skipif(shutil.which("ardour7-lua") is None, reason="Ardour 7 is not installed")
def test_a_vst3_host_sees_a_side_chain_and_no_main_input(instrument_vst3: Path,
                                                        tmp_path: Path) -> None:
    """Ardour's VST3 scanner (another host's VST3 code) reads the buses as Live does: the
    audio input is an aux (side-chain) bus, there is no main input, and MIDI goes out."""
    from vocalmidi.dawtest.ardour_cases import ARDOUR_LIB

    bundle = tmp_path / instrument_vst3.name
    shutil.copytree(instrument_vst3, bundle, symlinks=True)
    env = {**os.environ, "HOME": str(tmp_path), "LD_LIBRARY_PATH": str(ARDOUR_LIB),
           "DISPLAY": os.environ.get("DISPLAY") or ":65000"}
    scan = subprocess.run([str(ARDOUR_LIB / "ardour-vst3-scanner"), "-v", str(bundle)], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    info = dict(re.findall(r'(\w+)="([^"]*)"', re.search(r"<VST3Info [^>]*>", scan.stdout
                                                            + scan.stderr).group(0)))
    assert (info["name"], info["category"]) == ("VocalMIDI Instrument", "Instrument")
    assert (info["n_inputs"], info["n_aux_inputs"]) == ("0", "2")
    assert (info["n_outputs"], info["n_midi_outputs"]) == ("2", "1")
