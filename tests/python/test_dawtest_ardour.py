"""Ardour 7, headless: VocalMIDI's MIDI out leaves an Ardour track with the sung notes.

`vocalmidi dawtest --host ardour` drives ``ardour7-lua`` on a private JACK server: an audio
track with the effect (LV2 and VST3) plays the phrase from its input, a MIDI track with the
instrument gets it through the side-chain Ardour adds, and the track's MIDI output port must
send the offline reference's notes, which a MIDI track of the session records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vocalmidi.dawtest import run
from vocalmidi.dawtest.ardour_cases import ardour_missing
from vocalmidi.dawtest.results import PASS

pytestmark = [pytest.mark.slow, pytest.mark.jack]


@pytest.mark.skipif(ardour_missing() is not None, reason=str(ardour_missing()))
def test_ardour_passes_the_plugins_midi_out(model_cache: Path) -> None:
    names = ["ardour-live-lv2", "ardour-live-vst3", "ardour-instrument-lv2",
             "ardour-instrument-vst3"]
    results = run(quick=False, names=names, hosts=("ardour",))
    assert {r.scenario: r.status for r in results} == dict.fromkeys(names, PASS), \
        [(r.scenario, r.detail) for r in results]
    for r in results:
        checks = {c["name"]: c for c in r.checks}
        assert checks["Ardour gives the track the plugin's MIDI output"]["ok"]
