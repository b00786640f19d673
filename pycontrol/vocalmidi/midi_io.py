"""Read and write note lists: Standard MIDI Files, CSV and JSON.

``write_notes``/``read_notes`` pick the format from the file suffix (``.mid``/``.midi``,
``.csv``, ``.json``). MIDI files are written as type 1 (a tempo track and one note
track); pitch-bend curves become pitch-wheel events with the bend range announced by
RPN 0, so any synth renders them the same way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import mido

from vocalmidi.errors import AudioInputError, UsageError
from vocalmidi.notes import Note, sort_notes

__all__ = [
    "NOTE_SUFFIXES",
    "read_midi",
    "read_notes",
    "write_midi",
    "write_notes",
    "notes_to_midifile",
]

NOTE_SUFFIXES = (".mid", ".midi", ".csv", ".json")
_CSV_FIELDS = ("start", "end", "pitch", "velocity")


def notes_to_midifile(
    notes: Sequence[Note],
    *,
    tempo_bpm: float = 120.0,
    ticks_per_beat: int = 960,
    program: int | None = None,
    channel: int = 0,
    bend_range: int = 2,
    end_padding: float = 0.0,
    controls: Sequence[tuple[float, int, int]] = (),
) -> mido.MidiFile:
    """Build a :class:`mido.MidiFile` holding ``notes`` on one channel.

    Parameters
    ----------
    notes : sequence of Note
        Notes to write; overlapping notes are allowed (legato).
    tempo_bpm : float
        Tempo of the file; times are exact to one tick (0.52 ms at the defaults).
    ticks_per_beat : int
        MIDI time resolution.
    program : int, optional
        Zero-based General MIDI program to select first (e.g. 52 = Choir Aahs).
    channel : int
        MIDI channel 0..15.
    bend_range : int
        Pitch-bend range in semitones announced with RPN 0; bend curves are clipped to it.
    end_padding : float
        Seconds of silence kept after the last event (renderers stop at end of track).
    controls : sequence of (time_s, controller, value)
        Extra control changes, e.g. expression (11) swells.

    Returns
    -------
    mido.MidiFile
    """
    if not 0 <= channel <= 15:
        raise ValueError(f"MIDI channel must be 0..15, got {channel}")
    tempo = mido.bpm2tempo(tempo_bpm)
    sec_per_tick = tempo / 1e6 / ticks_per_beat

    def tick(t: float) -> int:
        return int(round(t / sec_per_tick))

    # (tick, order, message): at equal ticks note-offs go before set-up, bends, note-ons.
    events: list[tuple[int, int, mido.Message]] = []
    setup = [
        mido.Message("control_change", channel=channel, control=101, value=0),
        mido.Message("control_change", channel=channel, control=100, value=0),
        mido.Message("control_change", channel=channel, control=6, value=bend_range),
        mido.Message("control_change", channel=channel, control=38, value=0),
    ]
    if program is not None:
        setup.insert(0, mido.Message("program_change", channel=channel, program=program))
    for i, msg in enumerate(setup):
        events.append((0, -100 + i, msg))

    ordered = sort_notes(notes)
    has_bends = any(n.bend for n in ordered)
    for i, n in enumerate(ordered):
        on, off = tick(n.start), max(tick(n.end), tick(n.start) + 1)
        events.append((on, 3, mido.Message("note_on", channel=channel, note=n.pitch,
                                           velocity=n.velocity)))
        events.append((off, 0, mido.Message("note_off", channel=channel, note=n.pitch,
                                            velocity=0)))
        if not has_bends:
            continue
        # One channel carries one bend: a note's curve stops where the next note starts.
        limit = ordered[i + 1].start if i + 1 < len(ordered) else float("inf")
        points = [(t, s) for t, s in n.bend if n.start <= t < limit] or [(n.start, 0.0)]
        for t, semis in points:
            value = int(round(max(-1.0, min(1.0, semis / bend_range)) * 8191))
            events.append((tick(t), 2, mido.Message("pitchwheel", channel=channel,
                                                    pitch=value)))
    for t, control, value in controls:
        events.append((tick(t), 1, mido.Message("control_change", channel=channel,
                                                control=control, value=value)))
    events.sort(key=lambda e: (e[0], e[1]))

    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo, time=0)])
    track = mido.MidiTrack()
    now = 0
    for t, _, msg in events:
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=tick(end_padding)))
    mid.tracks.extend([meta, track])
    return mid


def write_midi(path: str | Path, notes: Sequence[Note], **kwargs: object) -> Path:
    """Write ``notes`` to a Standard MIDI File; keyword arguments as :func:`notes_to_midifile`."""
    path = Path(path)
    notes_to_midifile(notes, **kwargs).save(path)  # type: ignore[arg-type]
    return path


def read_midi(path: str | Path) -> list[Note]:
    """Read every note of a Standard MIDI File (all tracks and channels, tempo map applied).

    Pitch-wheel events become each sounding note's ``bend`` curve (semitones, using the
    file's RPN 0 bend range, else 2). A note-on with velocity 0 counts as a note-off;
    a note still sounding at the end of the file ends there.

    Raises
    ------
    AudioInputError
        When the file is missing or is not a MIDI file.
    """
    path = Path(path)
    try:
        mid = mido.MidiFile(path)
    except FileNotFoundError:
        raise AudioInputError(f"no such MIDI file: {path}") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise AudioInputError(f"{path} is not a readable MIDI file: {exc}") from None

    active: dict[tuple[int, int], list[tuple[float, int, list[tuple[float, float]]]]] = {}
    bend_range = [2.0] * 16
    rpn = [[127, 127] for _ in range(16)]
    bend_now = [0.0] * 16
    out: list[Note] = []

    def close(key: tuple[int, int], t: float) -> None:
        stack = active.get(key)
        if stack:
            start, vel, curve = stack.pop(0)
            out.append(Note(start, max(t, start), key[1], vel, tuple(curve)))

    # Seconds from absolute ticks through the tempo map (no float drift over a file).
    tick = 0
    seg_tick, seg_sec, sec_per_tick = 0, 0.0, 500000 / 1e6 / mid.ticks_per_beat
    for msg in mido.merge_tracks(mid.tracks):
        tick += msg.time
        now = seg_sec + (tick - seg_tick) * sec_per_tick
        if msg.type == "set_tempo":
            seg_tick, seg_sec = tick, now
            sec_per_tick = msg.tempo / 1e6 / mid.ticks_per_beat
        if msg.is_meta or not hasattr(msg, "channel"):
            continue
        ch = msg.channel
        if msg.type == "note_on" and msg.velocity > 0:
            curve = [(now, bend_now[ch])] if bend_now[ch] else []
            active.setdefault((ch, msg.note), []).append((now, msg.velocity, curve))
        elif msg.type in ("note_off", "note_on"):
            close((ch, msg.note), now)
        elif msg.type == "pitchwheel":
            bend_now[ch] = msg.pitch / 8192.0 * bend_range[ch]
            for (c, _), stack in active.items():
                if c == ch:
                    for _, _, curve in stack:
                        curve.append((now, bend_now[ch]))
        elif msg.type == "control_change":
            if msg.control in (100, 101):
                rpn[ch][msg.control - 100] = msg.value
            elif msg.control == 6 and rpn[ch] == [0, 0]:
                bend_range[ch] = float(msg.value) + (bend_range[ch] % 1.0)
            elif msg.control == 38 and rpn[ch] == [0, 0]:
                bend_range[ch] = float(int(bend_range[ch])) + msg.value / 100.0
    for key in list(active):
        while active[key]:
            close(key, now)
    return sort_notes(out)


def write_notes(path: str | Path, notes: Sequence[Note], **midi_kwargs: object) -> Path:
    """Write notes as ``.mid``/``.midi``, ``.csv`` or ``.json`` (chosen by suffix).

    Raises
    ------
    UsageError
        For any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        return write_midi(path, notes, **midi_kwargs)
    ordered = sort_notes(notes)
    if suffix == ".json":
        path.write_text(json.dumps({"notes": [n.to_dict() for n in ordered]}, indent=1) + "\n")
    elif suffix == ".csv":
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(_CSV_FIELDS)
            for n in ordered:
                w.writerow([f"{n.start:.6f}", f"{n.end:.6f}", n.pitch, n.velocity])
    else:
        raise UsageError(
            f"cannot write notes to {path.name}: use one of {', '.join(NOTE_SUFFIXES)}"
        )
    return path


def read_notes(path: str | Path) -> list[Note]:
    """Read a note list from ``.mid``/``.midi``, ``.csv`` or ``.json`` (chosen by suffix).

    JSON may be a list of note objects or an object with a ``notes`` list; CSV needs the
    columns ``start,end,pitch`` (``velocity`` optional).

    Raises
    ------
    AudioInputError
        When the file is missing or malformed.
    UsageError
        For an unknown suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        return read_midi(path)
    if suffix not in (".csv", ".json"):
        raise UsageError(
            f"cannot read notes from {path.name}: use one of {', '.join(NOTE_SUFFIXES)}"
        )
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AudioInputError(f"no such note file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AudioInputError(f"cannot read {path}: {exc}") from None
    try:
        if suffix == ".json":
            data = json.loads(text)
            items = data["notes"] if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise ValueError("expected a list of notes")
            return sort_notes(Note.from_dict(d) for d in items)
        rows = list(csv.DictReader(text.splitlines()))
        return sort_notes(Note.from_dict(r) for r in rows)
    except (ValueError, KeyError, TypeError) as exc:
        raise AudioInputError(f"{path} is not a valid note list: {exc}") from None
