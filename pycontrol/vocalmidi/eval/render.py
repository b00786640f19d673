"""Sung-like takes with exact ground truth: corpus melody -> performance -> FluidSynth.

:func:`render_demo_melody` is the one call ``vocalmidi demo`` uses; :func:`render_take`
is the general form the evaluation set is built from. The ground truth is read back
from the MIDI file that was rendered, so note times are exact to the MIDI tick
(about 0.5 ms): true onsets are the MIDI note-on times.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from vocalmidi.errors import BackendUnavailableError, UsageError
from vocalmidi.eval.melodies import MelodySpec, load_melody
from vocalmidi.eval.perform import STYLES, Style, perform
from vocalmidi.eval.synth import VOICE_PROGRAMS, available_soundfonts, render_notes
from vocalmidi.midi_io import read_midi
from vocalmidi.notes import Note

__all__ = ["DEMO_MELODY", "render_demo_melody", "render_take"]

DEMO_MELODY = MelodySpec("essen-ballad40-1", "essenFolksong/ballad40", 1)
PEAK_LEVEL = 0.5  # takes are normalised to -6 dBFS peak


def _soundfont(name: str) -> Path:
    fonts = available_soundfonts()
    if name not in fonts:
        have = ", ".join(fonts) or "none"
        raise BackendUnavailableError(
            f"SoundFont {name!r} is not installed (installed: {have}); "
            "install fluid-soundfont-gm (make setup)"
        )
    return fonts[name]


def render_take(
    score: Sequence[Note],
    *,
    soundfont: str = "fluidr3",
    patch: str = "voice_oohs",
    style: str | Style = "sung",
    seed: int = 0,
    sample_rate: int = 48000,
    midi_path: str | Path | None = None,
) -> tuple[np.ndarray, list[Note]]:
    """Sing ``score`` with a voice patch and return the audio and its exact ground truth.

    Parameters
    ----------
    score : sequence of Note
        Monophonic score notes (e.g. from :func:`vocalmidi.eval.melodies.load_melody`).
    soundfont : str
        Installed SoundFont by short name (see :func:`~vocalmidi.eval.synth.available_soundfonts`).
    patch : str
        ``choir_aahs``, ``voice_oohs`` or ``synth_voice``.
    style : str or Style
        Performance style (``plain``, ``sung``, ``expressive``) or a custom :class:`Style`.
    seed : int
        Seed of the performance's random gestures (rendering is deterministic).
    sample_rate : int
        Output rate in Hz.
    midi_path : path, optional
        Keep the rendered MIDI (with its pitch bends) here.

    Returns
    -------
    audio : numpy.ndarray
        float32 mono, peak at -6 dBFS.
    truth : list of Note
        The rendered MIDI's notes, without bend curves.
    """
    if patch not in VOICE_PROGRAMS:
        raise UsageError(f"unknown voice patch {patch!r}: use {', '.join(VOICE_PROGRAMS)}")
    if isinstance(style, str):
        if style not in STYLES:
            raise UsageError(f"unknown style {style!r}: use {', '.join(STYLES)}")
        style = STYLES[style]
    if not score:
        raise UsageError("cannot render an empty score")
    sung = perform(score, style, seed)
    with tempfile.TemporaryDirectory(prefix="vocalmidi-take-") as tmp:
        mid = Path(midi_path) if midi_path is not None else Path(tmp) / "take.mid"
        audio = render_notes(sung, soundfont=_soundfont(soundfont),
                             program=VOICE_PROGRAMS[patch], sample_rate=sample_rate,
                             midi_path=mid)
        truth = [replace(n, bend=()) for n in read_midi(mid)]
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0:
        raise BackendUnavailableError(f"the {soundfont} SoundFont rendered silence for {patch}")
    audio = (audio * (PEAK_LEVEL / peak)).astype(np.float32)
    return audio, truth


def render_demo_melody(
    path_wav: str | Path, *, sample_rate: int = 48000, seed: int = 0
) -> tuple[np.ndarray, int, list[Note]]:
    """Render the demo take: a ~12 s folk tune sung by a voice patch, with vibrato and scoops.

    Works offline: the tune comes from music21's bundled corpus (Essen folk-song
    collection), the voice from FluidSynth and the FluidR3 General MIDI SoundFont.

    Parameters
    ----------
    path_wav : path
        Where to write the take (float WAV, mono).
    sample_rate : int
        Sample rate in Hz.
    seed : int
        Seed of the performance gestures; the same seed gives the same audio.

    Returns
    -------
    audio : numpy.ndarray
        The take, float32 mono.
    sr : int
        Its sample rate.
    notes : list of Note
        Exact ground truth (the rendered MIDI's notes).
    """
    score, _ = load_melody(DEMO_MELODY, voice="female", max_seconds=12.0)
    audio, truth = render_take(score, soundfont="fluidr3", patch="voice_oohs", style="sung",
                               seed=seed, sample_rate=sample_rate)
    path_wav = Path(path_wav)
    path_wav.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path_wav), audio, sample_rate, subtype="FLOAT")
    return audio, sample_rate, truth
