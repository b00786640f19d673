"""How soon any decoder of our streaming note model could emit a note: a lower bound.

The note model names a written MIDI note every 5 ms frame (``note``); a decoder can send
a note-on with the right number no sooner than the first frame that names it, and that
frame's output exists only once the audio reaches ``LOOKAHEAD_HOPS`` past the frame's end
(:func:`vocalmidi.train.decode.emission_time`). :func:`note_model_bound` finds that
instant for each true note, so ``vocalmidi bench`` can show it beside the emission the
decoder and the plugin reach ("note-model bound"): the part of the latency above the
bound is the decoder's (waiting for an onset peak, the sounding threshold, the
confidence gates, corrections), the bound itself is the model's (what it hears in its
1,024 samples and 10 ms of lookahead). The same idea for SwiftF0: :mod:`vocalmidi.eval.bound`.

Why it is optimistic: the first frame that names the note counts however briefly it
does (a decoder that trusted single frames would send every flicker), and nothing of a
block size or a host is added. Only frames where the model hears a note sounding at all
count (``sounding >= SOUNDING_FLOOR``, the lowest ``sounding_on`` the decoder tuning
tries): in silence the note head still names some note, and stage 13 named a test
melody's third note there 30 ms before it was sung. A note that is never named from
``EARLY_S`` before its onset to ``WINDOW_S`` after it (or its end) has no latency, as a
note-on that never comes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vocalmidi.errors import UsageError
from vocalmidi.eval.latency import EARLY_S, EmissionStats
from vocalmidi.notes import Note

__all__ = ["SOUNDING_FLOOR", "WINDOW_S", "first_named", "note_model_bound"]

SOUNDING_FLOOR = 0.3
"""No decoder the trainer tunes starts a note where P(sounding) is lower
(``TUNE_GRID["sounding_on"]``)."""

WINDOW_S = 0.5
"""The latest a note may be named after its onset and count (as emission_latencies)."""


def first_named(truth: Sequence[Note], note: np.ndarray,
                sounding: np.ndarray | None = None) -> list[float | None]:
    """For each true note, the time its right note-on could leave at the earliest.

    ``note`` is the model's per-frame written note (label frames from 0), ``sounding``
    its P(a note sounds) (None: every frame counts). Returns, in the order of ``truth``,
    :func:`~vocalmidi.train.decode.emission_time` of the first frame from ``EARLY_S``
    before the onset to ``WINDOW_S`` after it (and before the note's end) that names the
    note's pitch while ``sounding >= SOUNDING_FLOOR``, or None.
    """
    from vocalmidi.train.contract import HOP, SAMPLE_RATE
    from vocalmidi.train.decode import emission_time

    frame_s = HOP / SAMPLE_RATE
    starts = np.arange(len(note)) * frame_s
    named = np.rint(np.asarray(note, dtype=float)).astype(int)
    heard = np.ones(len(named), bool) if sounding is None \
        else np.asarray(sounding) >= SOUNDING_FLOOR
    out: list[float | None] = []
    for n in truth:
        ok = ((starts + frame_s > n.start - EARLY_S) & (starts <= min(n.end, n.start + WINDOW_S))
              & (named == n.pitch) & heard)
        out.append(emission_time(int(np.argmax(ok))) if ok.any() else None)
    return out


def note_model_bound(truth: Sequence[Note], audio: np.ndarray, sr: float,
                     model: str | Path) -> EmissionStats:
    """The earliest each true note's right note-on could leave any decoder of ``model``.

    Parameters
    ----------
    truth : sequence of Note
        Ground truth of ``audio``, seconds.
    audio : numpy.ndarray
        Mono float audio at ``sr`` (resampled to the model's 16 kHz).
    model : str or Path
        A streaming note model (``note-model/1`` or ``note-features/1`` ONNX file).

    Returns
    -------
    EmissionStats
        ``latencies_ms`` per note that is ever named, in onset order: earliest emission
        minus onset (ms); ``n_note_ons`` is that count.
    """
    from vocalmidi.notemodel.run import resample_to_model
    from vocalmidi.train.export import OnnxNoteModel

    mono = np.asarray(audio, dtype=np.float32)
    if mono.ndim != 1 or mono.size == 0:
        raise UsageError("note_model_bound needs mono audio: got "
                         f"{mono.shape if mono.size else 'none'}")
    runner = OnnxNoteModel(model)
    if not runner.causal:  # a whole-take graph (note-model-offline/1) hears the future
        raise UsageError(f"{model} is not a streaming note model: the bound is for a live one")
    out = runner.run(resample_to_model(mono, sr))
    notes = sorted(truth, key=lambda n: n.start)
    named = first_named(notes, out.note, out.sounding)
    lat = [1000.0 * (t - n.start) for n, t in zip(notes, named, strict=True) if t is not None]
    return EmissionStats(len(notes), len(lat), lat)
