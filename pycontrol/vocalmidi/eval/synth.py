"""Render notes to audio with the FluidSynth command-line program and a SoundFont."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from vocalmidi.errors import BackendUnavailableError
from vocalmidi.midi_io import write_midi
from vocalmidi.notes import Note

__all__ = [
    "SOUNDFONT_DIRS",
    "VOICE_PROGRAMS",
    "available_soundfonts",
    "fluidsynth_binary",
    "render_midi",
    "render_notes",
]

# Zero-based General MIDI programs of the voice patches: Choir Aahs, Voice Oohs, Synth Voice.
VOICE_PROGRAMS = {"choir_aahs": 52, "voice_oohs": 53, "synth_voice": 54}

SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"))
# Known General MIDI SoundFonts (Debian packages), best first; symlinks are skipped.
_KNOWN_SOUNDFONTS = {
    "fluidr3": "FluidR3_GM.sf2",
    "timgm6mb": "TimGM6mb.sf2",
    "musescore": "MuseScore_General_Lite.sf3",
}


def available_soundfonts() -> dict[str, Path]:
    """SoundFonts installed here, by short name (``fluidr3``, ``timgm6mb``, ``musescore``)."""
    found: dict[str, Path] = {}
    for name, file in _KNOWN_SOUNDFONTS.items():
        for d in SOUNDFONT_DIRS:
            p = d / file
            if p.is_file():
                found[name] = p
                break
    return found


def fluidsynth_binary() -> str:
    """Path of the ``fluidsynth`` program; raises BackendUnavailableError when missing."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise BackendUnavailableError(
            "fluidsynth is not installed: install the Debian package `fluidsynth` (make setup)"
        )
    return exe


def render_midi(
    midi_path: str | Path,
    *,
    soundfont: str | Path,
    sample_rate: int = 48000,
    gain: float = 0.6,
) -> np.ndarray:
    """Render a MIDI file to mono float32 audio with FluidSynth (its reverb/chorus off).

    The first sample is time 0 of the file; rendering stops at the end of the longest
    track, so a file should carry padding after its last note-off for the release.
    """
    exe = fluidsynth_binary()
    if not Path(soundfont).is_file():
        raise BackendUnavailableError(f"SoundFont not found: {soundfont}")
    with tempfile.TemporaryDirectory(prefix="vocalmidi-render-") as tmp:
        wav = Path(tmp) / "take.wav"
        # Dynamic sample loading reads only the samples the file plays: the same audio,
        # several times faster for large or compressed (.sf3) SoundFonts.
        cmd = [exe, "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", str(gain),
               "-o", "synth.dynamic-sample-loading=1",
               "-r", str(sample_rate), "-O", "float", "-T", "wav", "-F", str(wav),
               str(soundfont), str(midi_path)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not wav.is_file():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise BackendUnavailableError(
                f"fluidsynth failed ({proc.returncode}): {msg[-1] if msg else 'no output'}"
            )
        audio, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    if sr != sample_rate:
        raise BackendUnavailableError(f"fluidsynth wrote {sr} Hz instead of {sample_rate} Hz")
    return np.ascontiguousarray(audio.mean(axis=1), dtype=np.float32)


def render_notes(
    notes: Sequence[Note],
    *,
    soundfont: str | Path,
    program: int,
    sample_rate: int = 48000,
    gain: float = 0.6,
    tail: float = 1.0,
    controls: Sequence[tuple[float, int, int]] = (),
    midi_path: str | Path | None = None,
) -> np.ndarray:
    """Render a monophonic note list (with its bend curves) to mono float32 audio.

    FluidSynth's own reverb and chorus are off, so the output is the dry patch; the
    first sample is time 0 of the notes.

    Parameters
    ----------
    notes : sequence of Note
        Notes with optional ``bend`` curves (rendered with a +-2 semitone bend range).
    soundfont : path
        ``.sf2``/``.sf3`` file.
    program : int
        Zero-based General MIDI program.
    sample_rate : int
        Output rate in Hz.
    gain : float
        FluidSynth master gain.
    tail : float
        Seconds rendered after the last note-off (release).
    controls : sequence of (time_s, controller, value)
        Extra control changes, e.g. expression swells.
    midi_path : path, optional
        Keep the rendered MIDI file here (else a temporary file is used).

    Returns
    -------
    numpy.ndarray
        float32 mono audio of length ``(last note end + tail) * sample_rate``.
    """
    end = max((n.end for n in notes), default=0.0)
    with tempfile.TemporaryDirectory(prefix="vocalmidi-render-") as tmp:
        mid = Path(midi_path) if midi_path is not None else Path(tmp) / "take.mid"
        write_midi(mid, notes, program=program, end_padding=tail + 0.5, controls=controls)
        mono = render_midi(mid, soundfont=soundfont, sample_rate=sample_rate, gain=gain)
    n_out = int(round((end + tail) * sample_rate))
    if mono.shape[0] < n_out:
        mono = np.pad(mono, (0, n_out - mono.shape[0]))
    return np.ascontiguousarray(mono[:n_out])
