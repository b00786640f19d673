"""The reference note decoder: per-frame model outputs -> note events, causally.

This is the golden reference for the engine's C++ decoder, so it is a small explicit
per-frame state machine (:class:`NoteDecoder`) with every threshold in
:class:`DecoderConfig`; numpy only. Each event carries the frame at which it was
decided, so the time it can leave the engine is known:
``(decided + 1 + LOOKAHEAD_HOPS) * HOP / SAMPLE_RATE`` (the model's output for frame k
needs audio up to the end of frame k + LOOKAHEAD_HOPS).

Rules, per frame ``k`` (see docs/note-model.md):

1. Onset edge: ``onset >= onset_on`` while armed is a rising edge; the detector then
   disarms until ``onset < onset_off`` (refractory, so one peak is one note).
2. No note held: a rising edge starts the note named by ``note`` as soon as
   ``sounding >= sounding_on`` (at that frame or within ``onset_wait_frames`` after it;
   the onset is stamped at the edge), with ``note_conf >= start_conf`` or, failing that,
   once ``start_wait_frames`` have passed since the edge (a guess the model is unsure of
   waits a little for the pitch, then goes anyway), unless the sound ends first
   (``sounding < sounding_off`` for ``off_frames`` frames while it waits: no note; a
   note's faded-out end can look like an onset, and the wait then started a note of
   whatever was named in the silence). A note that sounds for ``sounding_start_frames``
   without any onset edge (none waiting for its pitch) also starts (onset stamped at the
   first of those frames): a soft attack the onset head missed is late rather than lost.
3. A note held:
   - ``sounding < sounding_off`` for ``off_frames`` frames: note-off (the note ends at
     the first quiet frame);
   - a rising edge at least ``reattack_frames`` after the note-on: re-attack (note-off,
     then note-on of ``note``; repeated syllables on one pitch). With
     ``reattack_wait_frames`` > 0 the re-attack waits that many frames for the pitch:
     ``note`` naming another pitch with ``note_conf >= change_conf`` in the wait makes it
     a note change at once, else the same note re-attacks when the wait ends (both
     stamped at the edge). At a sung note change the onset fires while ``note`` still
     names the old pitch, so without the wait the re-attack repeats the old note;
   - early correction: within ``correction_frames`` of the note-on, when ``note``
     names another pitch for ``correction_persist`` frames running, with confidence
     ``>= correction_conf``: ``retrigger`` (note-off, note-on of the new note, stamped
     at the original onset) or ``bend`` (a pitch-bend event to it); once per note;
   - legato change: after the correction window, ``note`` names another pitch for
     ``change_frames`` frames running, the last with ``note_conf >= change_conf``:
     note-off, note-on of the new note, stamped at the first of those frames.
4. Velocity comes from the frame level (dB of the audio), linearly from
   ``velocity_floor_db`` (velocity 1) to 0 dBFS (127).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from vocalmidi.notes import Note
from vocalmidi.train.contract import HOP, LOOKAHEAD_HOPS, SAMPLE_RATE

__all__ = ["DecoderConfig", "NoteDecoder", "NoteEvent", "cancel_unsent_guesses", "decode",
           "emission_time", "events_to_notes", "events_to_stream", "frame_levels_db",
           "hold_frames"]

EventKind = Literal["on", "off", "bend"]


@dataclass
class DecoderConfig:
    """Thresholds of the reference decoder (frames are 5 ms hops)."""

    onset_on: float = 0.5
    onset_off: float = 0.3
    sounding_on: float = 0.5
    sounding_off: float = 0.35
    off_frames: int = 3
    onset_wait_frames: int = 4
    sounding_start_frames: int = 8
    reattack_frames: int = 12
    correction_frames: int = 8
    correction_persist: int = 2
    correction_conf: float = 0.5
    correction: Literal["retrigger", "bend", "none"] = "retrigger"
    change_frames: int = 4
    change_conf: float = 0.0  # a legato change also needs this confidence in the new note
    start_conf: float = 0.0  # 0: a note starts with whatever ``note`` names at once
    start_wait_frames: int = 0
    reattack_wait_frames: int = 0  # 0: a re-attack takes whatever ``note`` names at once
    velocity_floor_db: float = -60.0

    def __post_init__(self) -> None:
        if self.correction not in ("retrigger", "bend", "none"):
            raise ValueError(f"correction must be retrigger, bend or none, "
                             f"got {self.correction!r}")
        if not 0.0 <= self.onset_off <= self.onset_on <= 1.0:
            raise ValueError("need 0 <= onset_off <= onset_on <= 1")
        if not 0.0 <= self.sounding_off <= self.sounding_on <= 1.0:
            raise ValueError("need 0 <= sounding_off <= sounding_on <= 1")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DecoderConfig:
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown decoder keys: {', '.join(unknown)}")
        return cls(**d)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NoteEvent:
    """One decision of the decoder.

    Attributes
    ----------
    kind : {"on", "off", "bend"}
        Note-on, note-off, or a pitch bend of the held note.
    frame : int
        Label frame the event stands for (a note-on's onset frame, a note-off's first
        quiet frame, a bend's decision frame).
    decided : int
        Frame at which the decoder decided it (``>= frame``); sets the emission time.
    note : int
        MIDI note (for ``off`` the note that ends).
    velocity : int
        Note-on velocity (1..127), 0 for other kinds.
    bend : float
        For ``bend``: semitones relative to the held note.
    corrects : bool
        A note-on or bend that corrects the pitch of the note just started.
    """

    kind: EventKind
    frame: int
    decided: int
    note: int
    velocity: int = 0
    bend: float = 0.0
    corrects: bool = False


@dataclass
class _Held:
    note: int
    onset: int
    on_decided: int
    bent: float = 0.0
    corrected: bool = False


@dataclass
class NoteDecoder:
    """Causal frame-by-frame decoder; call :meth:`step` once per frame, then :meth:`finish`."""

    config: DecoderConfig = field(default_factory=DecoderConfig)
    _armed: bool = True
    _held: _Held | None = None
    _quiet: int = 0
    _loud: int = 0
    _candidate: int = -1
    _candidate_run: int = 0
    _pending: int = -1
    _started: int = -1  # frame the pending onset met ``sounding_on`` (waiting for the pitch)
    _reattack: int = -1  # frame of a held note's onset edge whose re-attack waits for the pitch
    _frame: int = -1

    def _velocity(self, level_db: float) -> int:
        floor = self.config.velocity_floor_db
        v = 1.0 + 126.0 * (level_db - floor) / (0.0 - floor)
        return int(np.clip(round(v), 1, 127))

    def _on(self, note: int, onset: int, k: int, level_db: float,
            corrects: bool = False) -> NoteEvent:
        self._held = _Held(note, onset, k)
        self._pending = self._started = self._reattack = -1
        self._quiet = 0
        self._candidate, self._candidate_run = -1, 0
        return NoteEvent("on", onset, k, note, self._velocity(level_db), corrects=corrects)

    def _off(self, frame: int, k: int) -> NoteEvent:
        assert self._held is not None
        ev = NoteEvent("off", frame, k, self._held.note)
        self._held = None
        self._reattack = -1
        return ev

    def step(self, onset: float, sounding: float, note: float, note_conf: float,
             level_db: float) -> list[NoteEvent]:
        """Take the model outputs of the next frame; return the events decided now."""
        cfg = self.config
        self._frame += 1
        k = self._frame
        note_i = int(round(note))
        rising = self._armed and onset >= cfg.onset_on
        if rising:
            self._armed = False
        elif onset < cfg.onset_off:
            self._armed = True
        self._loud = self._loud + 1 if sounding >= cfg.sounding_on else 0
        events: list[NoteEvent] = []
        held = self._held
        if held is None:
            if rising:
                self._pending = k
            if self._pending >= 0 and self._started < 0 and sounding >= cfg.sounding_on:
                self._started = k  # the wait for a sure pitch runs from here
            if self._started < 0 and self._pending >= 0 and \
                    k - self._pending > cfg.onset_wait_frames:
                self._pending = -1
            if self._started >= 0:  # the sound may end before its pitch is sure: no note
                self._quiet = self._quiet + 1 if sounding < cfg.sounding_off else 0
                if self._quiet >= cfg.off_frames:
                    self._pending = self._started = -1
                    self._quiet = 0
            if self._started >= 0 and (note_conf >= cfg.start_conf
                                       or k - self._started >= cfg.start_wait_frames):
                events.append(self._on(note_i, self._pending, k, level_db))
            elif self._started < 0 and self._loud >= cfg.sounding_start_frames:
                # (Until 2026-12-04 this also cut short an onset's wait for a sure pitch:
                # start_wait_frames acted as at most sounding_start_frames.)
                events.append(self._on(note_i, k - self._loud + 1, k, level_db))
            return events

        # A note is held.
        if sounding < cfg.sounding_off:
            self._quiet += 1
            if self._quiet >= cfg.off_frames:
                events.append(self._off(k - self._quiet + 1, k))
                self._quiet = 0
            return events
        self._quiet = 0
        age = k - held.onset
        sounds = round(held.note + held.bent)  # the pitch the held note sounds at
        if rising and age >= cfg.reattack_frames:
            self._reattack = k
        if self._reattack >= 0:
            edge = self._reattack
            changed = note_i != sounds and note_conf >= cfg.change_conf
            if changed or k - edge >= cfg.reattack_wait_frames:
                events.append(self._off(edge, k))
                events.append(self._on(note_i, edge, k, level_db))
                return events
        if note_i == sounds:
            self._candidate, self._candidate_run = -1, 0
            return events
        self._candidate_run = self._candidate_run + 1 if note_i == self._candidate else 1
        self._candidate = note_i
        if (cfg.correction != "none" and not held.corrected and age < cfg.correction_frames
                and self._candidate_run >= cfg.correction_persist
                and note_conf >= cfg.correction_conf):
            if cfg.correction == "retrigger":
                onset_frame = held.onset
                events.append(self._off(k, k))
                events.append(self._on(note_i, onset_frame, k, level_db, corrects=True))
                assert self._held is not None
                self._held.corrected = True
            else:
                held.bent = float(note_i - held.note)
                held.corrected = True
                self._candidate, self._candidate_run = -1, 0
                events.append(NoteEvent("bend", k, k, held.note, bend=held.bent,
                                        corrects=True))
            return events
        if age >= cfg.correction_frames and self._candidate_run >= cfg.change_frames \
                and note_conf >= cfg.change_conf:
            start = k - self._candidate_run + 1
            events.append(self._off(start, k))
            events.append(self._on(note_i, start, k, level_db))
        return events

    def finish(self) -> list[NoteEvent]:
        """End of stream: the held note (if any) ends after the last frame."""
        if self._held is None:
            return []
        return [self._off(self._frame + 1, self._frame)]


def decode(onset: np.ndarray, sounding: np.ndarray, note: np.ndarray, note_conf: np.ndarray,
           level_db: np.ndarray, config: DecoderConfig | None = None) -> list[NoteEvent]:
    """Run a fresh :class:`NoteDecoder` over whole per-frame arrays (label frames 0..T-1)."""
    dec = NoteDecoder(config or DecoderConfig())
    events: list[NoteEvent] = []
    for k in range(len(onset)):
        events += dec.step(float(onset[k]), float(sounding[k]), float(note[k]),
                           float(note_conf[k]), float(level_db[k]))
    return events + dec.finish()


def frame_levels_db(audio: np.ndarray, floor_db: float = -100.0) -> np.ndarray:
    """Per label frame, the RMS level in dB of the frame's own hop (model-rate audio)."""
    n = -(-len(audio) // HOP)
    padded = np.zeros(n * HOP, dtype=np.float64)
    padded[:len(audio)] = audio
    ms = np.mean(padded.reshape(n, HOP) ** 2, axis=1)
    return np.maximum(10.0 * np.log10(ms + 1e-12), floor_db)


def emission_time(decided: int) -> float:
    """Seconds from stream start at which a decision made at frame ``decided`` can leave."""
    return (decided + 1 + LOOKAHEAD_HOPS) * HOP / SAMPLE_RATE


def events_to_notes(events: Sequence[NoteEvent]) -> tuple[list[Note], list[float]]:
    """Turn decoder events into notes and, per note, when its right pitch was emitted.

    A retriggered correction replaces the short wrong note it corrects (the corrected
    note keeps the original onset); a bend changes the note's pitch to the bend target.
    The emission time of a note is when its final pitch left: the correcting event's
    decision for corrected notes, the note-on's otherwise.

    Returns
    -------
    notes : list of Note
        Onset at the start of the onset frame, end at the start of the note-off frame.
    emitted : list of float
        Seconds, one per note, in the same order.
    """
    notes: list[Note] = []
    emitted: list[float] = []
    open_on: NoteEvent | None = None
    pitch = 0
    sent = 0.0
    t = HOP / SAMPLE_RATE
    for ev in events:
        if ev.kind == "on":
            if ev.corrects and notes and notes[-1].start == ev.frame * t:
                notes.pop()  # the wrong note this one corrects
                emitted.pop()
            open_on, pitch, sent = ev, ev.note, emission_time(ev.decided)
        elif ev.kind == "bend" and open_on is not None:
            pitch, sent = int(round(open_on.note + ev.bend)), emission_time(ev.decided)
        elif ev.kind == "off" and open_on is not None:
            end = max(ev.frame, open_on.frame) * t
            notes.append(Note(open_on.frame * t, end, pitch, max(1, open_on.velocity)))
            emitted.append(sent)
            open_on = None
    return notes, emitted


def hold_frames(budget_s: float) -> int:
    """Frames of a decision budget (``MlPipeline::noteModelBudgetMs``): 3 for Fast's 15 ms,
    8 for Accurate's 40 ms."""
    return int(round(budget_s * SAMPLE_RATE / HOP))


def cancel_unsent_guesses(events: Sequence[NoteEvent], hold: int) -> list[NoteEvent]:
    """``events`` less the wrong guesses a retrigger corrected before they were sent.

    With a decision budget of ``hold`` frames the engine keeps each event back until it
    decodes frame ``event.frame + hold - 1`` (one hop before the event is due, for the ML
    thread's polling; ``NoteHoldQueue``). A retriggered correction decided by then
    replaces the guess it corrects: the guess's note-on and note-off are never sent and
    the corrected note-on (stamped at the same onset) goes out in its place, so the
    recording holds one note at the onset instead of a short wrong note and a late right
    one. Other events are kept as they are.
    """
    out: list[NoteEvent] = []
    for ev in events:
        if ev.kind == "on" and ev.corrects and len(out) >= 2:
            off, guess = out[-1], out[-2]
            if (off.kind == "off" and guess.kind == "on" and guess.frame == ev.frame
                    and off.decided == ev.decided
                    and ev.decided <= max(guess.decided, guess.frame + hold - 1)):
                del out[-2:]
        out.append(ev)
    return out


def events_to_stream(events: Sequence[NoteEvent], budget_s: float = 0.0) -> list[Note]:
    """The notes a DAW records from the live MIDI stream of ``events``.

    Unlike :func:`events_to_notes`, nothing is stamped back to its onset frame: each
    note starts when its note-on can leave (:func:`emission_time`) minus the latency the
    plugin reports (the model's lookahead, which the host compensates), and ends likewise
    at its note-off. A retriggered correction stays two notes (the short wrong one and
    the corrected one), and a bend leaves the note number as it was sent. This is what
    the plugin's users get, so the live decoder is tuned on it.

    ``budget_s`` is the engine's decision budget (its Fast and Accurate latency modes on a
    note model, ``MlPipeline::noteModelBudgetMs``): the plugin reports that much more
    latency and holds every event until ``budget_s`` after the earliest moment it could
    have left (:func:`emission_time` of its own frame), and a wrong guess corrected in
    that time is never sent (:func:`cancel_unsent_guesses`).
    """
    compensated = LOOKAHEAD_HOPS * HOP / SAMPLE_RATE + budget_s
    if budget_s > 0:
        events = cancel_unsent_guesses(events, hold_frames(budget_s))

    def leaves(ev: NoteEvent) -> float:
        return max(emission_time(ev.decided), emission_time(ev.frame) + budget_s)

    notes: list[Note] = []
    open_on: NoteEvent | None = None
    for ev in events:
        if ev.kind == "on":
            open_on = ev
        elif ev.kind == "off" and open_on is not None:
            start = leaves(open_on) - compensated
            end = max(start, leaves(ev) - compensated)
            notes.append(Note(start, end, open_on.note, max(1, open_on.velocity)))
            open_on = None
    return notes
