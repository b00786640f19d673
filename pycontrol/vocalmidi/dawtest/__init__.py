"""`vocalmidi dawtest`: drive the built plugin through what DAWs do to it, and check it.

Scenarios (:mod:`~vocalmidi.dawtest.scenarios`) run on three hosts: our headless JUCE host
(sees MIDI out), pedalboard (audio, state, parameters, latency) and jalv under a JACK dummy
server (the LV2, live). Oracles (:mod:`~vocalmidi.dawtest.oracles`) judge the output;
:mod:`~vocalmidi.dawtest.report` prints a table and writes JSON and HTML.

Examples
--------
>>> from vocalmidi import dawtest                       # doctest: +SKIP
>>> results = dawtest.run(quick=True)
>>> [r for r in results if r.failed]
[]
"""

from vocalmidi.dawtest.results import Result
from vocalmidi.dawtest.runner import run
from vocalmidi.dawtest.scenarios import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Result", "Scenario", "run"]
