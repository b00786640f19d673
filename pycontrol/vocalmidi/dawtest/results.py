"""What a scenario produces: an :class:`Outcome` inside the worker, a :class:`Result` in the
report (plain data, JSON-friendly, so it crosses the worker's process boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vocalmidi.dawtest.oracles import Check, Event, notes_of

# Result statuses. "n/a": the host cannot express the scenario; "unavailable": the host is
# not installed or not working here; "crash": the worker process died in the scenario.
PASS, FAIL, ERROR, CRASH, NA, UNAVAILABLE = "pass", "FAIL", "error", "CRASH", "n/a", "unavailable"

# Prefix of the worker's protocol lines on stdout (a plugin may print there too).
MARK = "@@dawtest "


@dataclass
class Outcome:
    """What a scenario function returns: verdicts, facts, and notes for a piano roll."""

    checks: list[Check] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    roll: dict[str, Any] | None = None  # {"sample_rate", "actual", "reference"}: notes

    def add(self, check: Check | None) -> None:
        if check is not None:
            self.checks.append(check)

    def piano_roll(self, sample_rate: float, actual: list[Event],
                   reference: list[Event] | None = None) -> None:
        """Keep the notes (seconds) of a render, and of its reference, for the HTML report."""

        def secs(events: list[Event]) -> list[list[float]]:
            end = max((s for s, _ in events), default=0)
            return [[n.on / sample_rate, (n.off if n.off is not None else end) / sample_rate,
                     n.pitch] for n in notes_of(events)]

        self.roll = {"actual": secs(actual),
                     "reference": secs(reference) if reference is not None else None}


@dataclass
class Result:
    """One scenario on one host, as reported."""

    scenario: str
    host: str
    status: str
    seconds: float = 0.0
    checks: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    roll: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.status in (FAIL, ERROR, CRASH)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        return cls(**d)
