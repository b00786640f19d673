"""The LV2 build live in jalv under a JACK dummy server (``vocalmidi.hosts.jalv``).

Real time, so only two scenarios: the phrase played through (notes as the offline VST3
reference's, every note ended, audio finite and delayed by the latency jalv reports), and
the same with settings loaded as a state (the MIDI channel and velocity must follow).
"""

from __future__ import annotations

from vocalmidi.dawtest import oracles as o
from vocalmidi.dawtest.juce_host import JuceRig, phrase
from vocalmidi.dawtest.results import Outcome

# JACK delivers the buffer in periods of 256 and the analysis runs on its own thread:
# stated tolerance for live LV2 onsets against the offline reference.
JALV_TOLERANCE_S = 0.08


class JalvRig:
    """Runs the LV2 bundle in jalv; the offline VST3 render is the reference."""

    def __init__(self) -> None:
        from vocalmidi import native

        self.lv2 = native.plugin_paths().lv2
        self.juce = JuceRig(native.vst3_path())

    def live_phrase(self) -> Outcome:
        from vocalmidi.hosts.jalv import render_lv2_in_jalv

        out = Outcome()
        if self.lv2 is None:
            out.add(o.Check("LV2 bundle built", False, "no VocalMIDI.lv2 in the native folder"))
            return out
        audio = phrase(48000)
        ref = self.juce.reference()
        got = render_lv2_in_jalv(self.lv2, audio, 48000, period=256, tail=1.0)
        ref_notes = o.sung_notes(ref.events, 48000)
        out.add(o.live_notes_cover(got.events, ref_notes, 48000, JALV_TOLERANCE_S,
                                   "live LV2 notes as the offline reference"))
        out.add(o.no_stuck_notes(got.events))
        out.add(o.finite(got.audio_out))
        if got.latency_samples is not None:
            out.add(o.latency_matches(got.latency_samples, audio, got.audio_out[0], 4 * 48000))
        out.info.update(xruns=got.xruns, period=got.period, latency=got.latency_samples)
        out.piano_roll(48000, got.events, ref.events)
        return out

    def live_settings(self) -> Outcome:
        """Settings through jalv's state loading: MIDI channel 10, fixed velocity 90."""
        from vocalmidi.hosts.jalv import render_lv2_in_jalv

        out = Outcome(info={"controls": {"MIDI Channel": 10, "Velocity Mode": "Fixed",
                                         "Fixed Velocity": 90}})
        if self.lv2 is None:
            out.add(o.Check("LV2 bundle built", False, "no VocalMIDI.lv2 in the native folder"))
            return out
        got = render_lv2_in_jalv(self.lv2, phrase(48000), 48000, period=256, tail=1.0,
                                 controls=out.info["controls"])
        ons = o.note_ons(got.events)
        out.add(o.Check("notes on MIDI channel 10 with velocity 90",
                        bool(ons) and all(d[0] & 0x0F == 9 and d[2] == 90 for _, d in ons),
                        o.fmt_events(ons) or "no notes"))
        out.add(o.no_stuck_notes(got.events))
        out.info.update(xruns=got.xruns)
        return out
