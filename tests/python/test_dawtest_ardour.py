"""Ardour 7, headless: VocalMIDI's MIDI out leaves an Ardour track with the sung notes.

`vocalmidi dawtest --host ardour` drives ``ardour7-lua`` on a private JACK server: an audio
track with the plugin (LV2 and VST3) plays the phrase from its input, and the track's MIDI
output port must send the offline reference's notes.
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
    results = run(quick=False, names=["ardour-live-lv2", "ardour-live-vst3"], hosts=("ardour",))
    assert {r.scenario: r.status for r in results} == {"ardour-live-lv2": PASS,
                                                       "ardour-live-vst3": PASS}, \
        [(r.scenario, r.detail) for r in results]
    for r in results:
        checks = {c["name"]: c for c in r.checks}
        assert checks["Ardour gives the track the plugin's MIDI output"]["ok"]
