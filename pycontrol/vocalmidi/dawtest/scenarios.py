"""The scenarios: named, reproducible cases of what DAWs do to a plugin, and per host how
each is run (or why that host cannot express it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vocalmidi.dawtest import instrument_cases as ic
from vocalmidi.dawtest import juce_cases as jc
from vocalmidi.dawtest import pedalboard_cases as pc
from vocalmidi.dawtest.results import Outcome

HOSTS = ("juce", "pedalboard", "jalv", "ardour")

# (rig, context) -> Outcome; the context holds what the worker loaded once (model bytes).
Case = Callable[[Any, "Context"], Outcome]


@dataclass(frozen=True)
class Context:
    default_model: bytes | None = None  # the default model's genuine bytes (model-corrupt)


@dataclass(frozen=True)
class Scenario:
    """One named case; ``cases`` maps a host to how it runs there, ``na`` to why it cannot."""

    name: str
    what: str
    cases: dict[str, Case]
    na: dict[str, str] = field(default_factory=dict)
    quick: frozenset[str] = frozenset()  # hosts that run it in --quick
    isolate: bool = False  # in a worker process of its own (it may corrupt the process)

    def reason_na(self, host: str) -> str:
        return self.na.get(host, _NA_DEFAULT.get(host, "not expressible on this host"))


NO_MIDI = "pedalboard drops the plugin's MIDI output; this scenario is about the notes"
NO_INSTRUMENT = "the instrument is about its MIDI out, which pedalboard drops"
NOT_JALV = "jalv runs only in real time through JACK; used for the live LV2 scenario only"
NOT_ARDOUR = "Ardour runs only in real time through JACK; used for the Ardour scenarios only"
_NA_DEFAULT = {"jalv": NOT_JALV, "ardour": NOT_ARDOUR}

RATES = (22050, 44100, 48000, 88200, 96000, 176400, 192000)
BLOCKS = (1, 2, 3, 7, 31, 64, 127, 128, 441, 1000, 2048, 4096, 8192)
QUICK_RATES = {22050, 96000}
QUICK_BLOCKS = {1, 7, 4096}
BOTH = frozenset({"juce", "pedalboard"})
JUCE = frozenset({"juce"})


def _scenarios() -> list[Scenario]:
    s: list[Scenario] = [
        Scenario("reference", "48 kHz, blocks of 512, offline: the sung notes, latency as reported",
                 {"juce": lambda r, c: jc.reference_sanity(r)},
                 {"pedalboard": NO_MIDI}, JUCE),
    ]
    for rate in RATES:
        s.append(Scenario(
            f"rate-{rate}", f"render at {rate} Hz: same notes as at 48 kHz, latency as measured",
            {"juce": lambda r, c, rate=rate: jc.sample_rate(r, rate),
             "pedalboard": lambda r, c, rate=rate: pc.sample_rate(r, rate)},
            quick=BOTH if rate in QUICK_RATES else (frozenset({"pedalboard"}) if rate == 44100
                                                    else frozenset())))
    for block in BLOCKS:
        s.append(Scenario(
            f"block-{block}", f"fixed blocks of {block}: output identical to blocks of 512",
            {"juce": lambda r, c, b=block: jc.block_size(r, b),
             "pedalboard": lambda r, c, b=block: pc.block_size(r, b)},
            quick=BOTH if block == 1 else (JUCE if block in QUICK_BLOCKS else frozenset())))
    s += [
        Scenario("block-random", "400 random block sizes 1..4096 in one render: identical output",
                 {"juce": lambda r, c: jc.random_blocks(r)},
                 {"pedalboard": "pedalboard renders in one fixed buffer size"}, JUCE),
        # JUCE 7.0.5's VST3 wrapper copied such blocks past its scratch buffers (heap
        # corruption); cmake/VocalmidiJUCE.cmake patches it to grow them. Runs alone, in
        # case a build without that patch corrupts its process.
        Scenario("block-oversized", "prepared for 64, handed blocks up to 4096: identical output",
                 {"juce": lambda r, c: jc.oversized_blocks(r)},
                 {"pedalboard": "pedalboard never passes more than it prepared"}, JUCE,
                 isolate=True),
        Scenario("prepare-release-cycle", "prepare/render/release x3 on one instance",
                 {"juce": lambda r, c: jc.prepare_cycle(r)},
                 {"pedalboard": "pedalboard prepares inside every call; no release to drive"},
                 JUCE),
        Scenario("rate-change", "one instance re-prepared 48k -> 44.1k -> 96k -> 48k",
                 {"juce": lambda r, c: jc.rate_change(r)},
                 {"pedalboard": "pedalboard learns a changed latency one render late (a known "
                                "quirk); the rate-* scenarios cover it with a warm-up render"},
                 JUCE),
        Scenario("reset-between-renders", "render into a note, reset(), render: nothing leaks",
                 {"juce": lambda r, c: jc.reset_between(r),
                  "pedalboard": lambda r, c: pc.reset_between(r)}, quick=BOTH),
        Scenario("realtime-vs-offline", "live render paced at real time vs offline; no heap "
                                        "calls on the audio thread",
                 {"juce": lambda r, c: jc.realtime(r)},
                 {"pedalboard": "pedalboard renders as fast as it can: no real-time pacing"},
                 JUCE),
        Scenario("automation-sensitivity", "Sensitivity changed every 700 samples mid-block",
                 {"juce": lambda r, c: jc.automate_sensitivity(r)},
                 {"pedalboard": "pedalboard sets parameters between renders only"}),
        Scenario("automation-key", "Key C -> F# mid-block (scale Major): later notes follow",
                 {"juce": lambda r, c: jc.automate_key(r)},
                 {"pedalboard": "pedalboard sets parameters between renders only"}, JUCE),
        Scenario("automation-model", "Model switched to crepe-tiny mid-render",
                 {"juce": lambda r, c: jc.automate_model(r)},
                 {"pedalboard": "pedalboard sets parameters between renders only"}),
        Scenario("state-restore", "save state -> new instance -> restore: identical output",
                 {"juce": lambda r, c: jc.state_restore(r),
                  "pedalboard": lambda r, c: pc.state_restore(r)}, quick=BOTH),
        Scenario("bypass-toggle", "bypass on/off mid-note: no notes bypassed, latency kept",
                 {"juce": lambda r, c: jc.bypass_toggle(r),
                  "pedalboard": lambda r, c: pc.bypass(r)}, quick=BOTH),
        Scenario("parallel-instances", "4 instances rendering on 4 threads at once",
                 {"juce": lambda r, c: jc.parallel_instances(r),
                  "pedalboard": lambda r, c: pc.parallel_instances(r)}, quick=JUCE),
        Scenario("input-silence", "digital silence: no notes, silence out",
                 {"juce": lambda r, c: jc.hostile_input(r, "silence")}, {"pedalboard": NO_MIDI}),
        Scenario("input-dc", "DC offset 0.5: no notes, finite out",
                 {"juce": lambda r, c: jc.hostile_input(r, "dc")}, {"pedalboard": NO_MIDI}),
        Scenario("input-noise", "full-scale white noise: finite out, every note ended",
                 {"juce": lambda r, c: jc.hostile_input(r, "noise"),
                  "pedalboard": lambda r, c: pc.hostile_input(r, "noise")}),
        Scenario("input-nan-inf-denormal", "NaN/Inf bursts and denormals: finite out, same notes",
                 {"juce": lambda r, c: jc.hostile_input(r, "nan-inf-denormal"),
                  "pedalboard": lambda r, c: pc.hostile_input(r, "nan-inf-denormal")},
                 quick=BOTH),
        Scenario("transport-start-stop", "play, stop, play from elsewhere: same notes",
                 {"juce": lambda r, c: jc.transport(r)},
                 {"pedalboard": "pedalboard gives plugins no play head"}, JUCE),
        Scenario("model-missing", "no model in the cache: audio passes, no notes, no crash",
                 {"juce": lambda r, c: jc.broken_model(r, "missing", c.default_model),
                  "pedalboard": lambda r, c: pc.broken_model(r, "missing", c.default_model)},
                 quick=frozenset({"pedalboard"})),
        Scenario("model-corrupt", "model bytes corrupted: audio passes, no notes, no crash",
                 {"juce": lambda r, c: jc.broken_model(r, "corrupt", c.default_model),
                  "pedalboard": lambda r, c: pc.broken_model(r, "corrupt", c.default_model)},
                 quick=JUCE),
        # The instrument variant ("VocalMIDI Instrument" VST3), fed through its side-chain.
        Scenario("instrument-sidechain", "the instrument fed through its mono/stereo "
                                         "side-chain: the effect's MIDI and latency, silence out",
                 {"juce": lambda r, c: ic.sidechain(r)}, {"pedalboard": NO_INSTRUMENT}, JUCE),
        Scenario("instrument-guide-tone", "the instrument at Monitor Mix 100 %: the effect's "
                                          "guide tone",
                 {"juce": lambda r, c: ic.guide_tone(r)}, {"pedalboard": NO_INSTRUMENT}, JUCE),
        Scenario("instrument-layouts", "the instrument's bus layouts: hosts' requests "
                                       "accepted, the rest refused with a reason",
                 {"juce": lambda r, c: ic.layouts(r)}, {"pedalboard": NO_INSTRUMENT}, JUCE),
        Scenario("instrument-state", "presets move between the effect and the instrument",
                 {"juce": lambda r, c: ic.state_exchange(r)}, {"pedalboard": NO_INSTRUMENT},
                 JUCE),
        Scenario("instrument-realtime", "the instrument live, paced at real time: the offline "
                                        "notes, no heap calls",
                 {"juce": lambda r, c: ic.realtime(r)}, {"pedalboard": NO_INSTRUMENT}, JUCE),
        Scenario("instrument-lv2-jalv", "the instrument's LV2 in jalv, the phrase into its "
                                        "side-chain ports: the effect's notes, silence out",
                 {"jalv": lambda r, c: ic.lv2_in_jalv(r)},
                 {"juce": "instrument-sidechain covers the VST3 in our host",
                  "pedalboard": NO_INSTRUMENT}, frozenset({"jalv"})),
        Scenario("lv2-live-jalv", "the LV2 in jalv under a JACK dummy server: sung notes out",
                 {"jalv": lambda r, c: r.live_phrase()},
                 {"juce": "covered by realtime-vs-offline (VST3); this one is the LV2 in jalv",
                  "pedalboard": "pedalboard loads VST3 here; this one is the LV2 in jalv"},
                 frozenset({"jalv"})),
        Scenario("lv2-live-jalv-settings", "the LV2 in jalv with settings loaded as a state: "
                                           "MIDI channel 10, velocity 90",
                 {"jalv": lambda r, c: r.live_settings()},
                 {"juce": "state-restore covers settings on the VST3",
                  "pedalboard": "state-restore covers settings on the VST3"}),
        # Ardour 7 headless (ardour7-lua on JACK): full matrix only (it takes ~15 s each).
        Scenario("ardour-live-lv2", "the LV2 on an Ardour audio track: its MIDI out port sends "
                                    "the sung notes",
                 {"ardour": lambda r, c: r.live("LV2")},
                 {"juce": "Ardour's own scenario", "pedalboard": "Ardour's own scenario"}),
        Scenario("ardour-live-vst3", "the VST3 on an Ardour audio track: its MIDI out port sends "
                                     "the sung notes",
                 {"ardour": lambda r, c: r.live("VST3")},
                 {"juce": "Ardour's own scenario", "pedalboard": "Ardour's own scenario"}),
        Scenario("ardour-instrument-vst3", "the instrument VST3 on an Ardour MIDI track, the "
                                           "phrase into the side-chain Ardour adds: its notes",
                 {"ardour": lambda r, c: r.live("VST3", instrument=True)},
                 {"juce": "Ardour's own scenario", "pedalboard": "Ardour's own scenario"}),
        Scenario("ardour-instrument-lv2", "the instrument LV2 on an Ardour MIDI track, the "
                                          "phrase into the side-chain Ardour adds: its notes",
                 {"ardour": lambda r, c: r.live("LV2", instrument=True)},
                 {"juce": "Ardour's own scenario", "pedalboard": "Ardour's own scenario"}),
    ]
    return s


SCENARIOS: list[Scenario] = _scenarios()
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def select(quick: bool, names: list[str] | None = None,
           hosts: tuple[str, ...] = HOSTS) -> list[tuple[Scenario, str]]:
    """The (scenario, host) pairs to report on: every host, run or not (n/a is reported)."""
    chosen = [BY_NAME[n] for n in names] if names else SCENARIOS
    pairs = []
    for sc in chosen:
        for host in hosts:
            if quick and not names and host not in sc.quick:
                continue
            pairs.append((sc, host))
    return pairs
