"""A MIDI message with the sample it happens at, as every host here reports MIDI.

Our JUCE host (:mod:`vocalmidi.hosts.plugin_host`) and the jalv harness
(:mod:`vocalmidi.hosts.jalv`) both return these, so results compare one to one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MidiMessage"]


@dataclass(frozen=True)
class MidiMessage:
    """One MIDI message and the sample it happens at.

    Attributes
    ----------
    sample
        Sample index, counted from the first sample of the host's ``process`` call (or
        recording) that produced (or consumes) it.
    data
        The raw MIDI bytes (status byte first).
    """

    sample: int
    data: bytes

    @property
    def status(self) -> int:
        return self.data[0] & 0xF0 if self.data else 0

    @property
    def channel(self) -> int:
        """MIDI channel, 1..16."""
        return (self.data[0] & 0x0F) + 1 if self.data else 0

    @property
    def is_note_on(self) -> bool:
        return len(self.data) >= 3 and self.status == 0x90 and self.data[2] > 0

    @property
    def is_note_off(self) -> bool:
        return len(self.data) >= 3 and (
            self.status == 0x80 or (self.status == 0x90 and self.data[2] == 0)
        )

    @property
    def note(self) -> int | None:
        """Note number of a note-on/off, else None."""
        return self.data[1] if (self.is_note_on or self.is_note_off) else None

    @property
    def velocity(self) -> int | None:
        return self.data[2] if (self.is_note_on or self.is_note_off) else None

    @classmethod
    def note_on(cls, sample: int, note: int, velocity: int = 100, channel: int = 1) -> MidiMessage:
        return cls(sample, bytes([0x90 | (channel - 1), note, velocity]))

    @classmethod
    def note_off(cls, sample: int, note: int, channel: int = 1) -> MidiMessage:
        return cls(sample, bytes([0x80 | (channel - 1), note, 0]))
