""""No note" clips: sounds a live rig hears that must not become notes.

Speech (espeak-ng, several languages and voices), breaths, coughs, claps, steady and
clicky noise (:func:`vocalmidi.eval.conditions.negative_clip`), piano and guitar chords
and a drum kit (programs 0, 24 and 25, and the General MIDI percussion channel). Their
labels are all "silent"; they make up about 15 % of the training data, which hears FluidR3
and the training languages only. The evaluation set (:mod:`vocalmidi.eval.dataset`) makes
the same kinds with the validation SoundFonts and espeak voices (``font``, ``voices``).
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from vocalmidi.errors import BackendUnavailableError
from vocalmidi.eval.conditions import NEGATIVE_KINDS, negative_clip
from vocalmidi.notes import Note

__all__ = ["KINDS", "make_negative", "speech"]

# Kind -> share of the negatives.
KINDS = {
    "speech": 0.24, "breath": 0.1, "cough": 0.08, "clap": 0.08, "noise": 0.12,
    "piano": 0.14, "guitar": 0.12, "drums": 0.12,
}

# The validation voices' espeak languages (French, Dutch) and variants (f5, m5) are not
# heard in training at all, not even as speech (vocalmidi.train.voices.VALIDATION_ESPEAK).
_LANGS = ("en-us", "en", "de", "es", "it", "pt", "pl", "sv")
_VARIANTS = ("m1", "m2", "m3", "m4", "m6", "m7", "f1", "f2", "f3", "f4",
             "klatt", "klatt2", "croak", "whisper", "")
_WORDS = (
    "the a one two three okay so let me try that again from the top check mic level "
    "can you hear me now is this on sound good yes no maybe later wait hold on right "
    "here we go count in four bars then the chorus and a bridge after it louder softer "
    "take five please stop thanks record play tempo click track guitar vocals drums "
    "bass keys monitor headphones turn it up down little bit more hallo danke bitte "
    "bonjour merci oui non hola gracias si ciao grazie bene dank je wel obrigado"
).split()


@functools.lru_cache(maxsize=1)
def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise BackendUnavailableError(
            "espeak-ng is not installed: install the Debian package `espeak-ng` (make setup)")
    return exe


def _say(text: str, voice: str, speed: int, pitch: int, sr: int) -> np.ndarray:
    """One utterance from espeak-ng, resampled to ``sr``."""
    import soundfile as sf
    import soxr

    with tempfile.TemporaryDirectory(prefix="vocalmidi-say-") as tmp:
        wav = Path(tmp) / "say.wav"
        proc = subprocess.run(
            [_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
            capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not wav.is_file():
            raise BackendUnavailableError(f"espeak-ng failed for voice {voice}: "
                                          f"{proc.stderr.strip()}")
        audio, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    return soxr.resample(mono, rate, sr) if rate != sr else mono


def speech(seconds: float, sr: int, rng: np.random.Generator,
           voices: tuple[str, ...] | None = None) -> np.ndarray:
    """Unit-peak speech of one synthetic talker, ``seconds`` long, sentences and pauses.
    The talker is an espeak-ng voice of ``voices`` (default: a training language and
    variant)."""
    n = int(round(seconds * sr))
    out = np.zeros(n, np.float32)
    if voices:
        voice = str(rng.choice(list(voices)))
    else:
        lang = str(rng.choice(_LANGS))
        variant = str(rng.choice(_VARIANTS))
        voice = f"{lang}+{variant}" if variant else lang
    speed, pitch = int(rng.integers(110, 240)), int(rng.integers(10, 90))
    i = int(rng.uniform(0.0, 0.6) * sr)
    while i < n:
        text = " ".join(rng.choice(_WORDS, size=int(rng.integers(3, 12))))
        said = _say(text, voice, speed, pitch, sr)
        said = said[: n - i]
        out[i : i + said.shape[0]] = said
        i += said.shape[0] + int(rng.uniform(0.15, 1.0) * sr)
    peak = float(np.max(np.abs(out)))
    return out / peak if peak > 0 else out


def _resonate(x: np.ndarray, sr: int, rng: np.random.Generator,
              band: tuple[float, float]) -> np.ndarray:
    """Noise shaped by two or three broad resonances in ``band`` (a vocal tract's, roughly)."""
    from vocalmidi.train.augment import biquad, sosfilt

    y = np.zeros_like(x)
    for _ in range(int(rng.integers(2, 4))):
        f = float(np.exp(rng.uniform(np.log(band[0]), np.log(band[1]))))
        q = 1.0 / float(rng.uniform(0.3, 0.9))  # bandwidth 0.3..0.9 of the centre
        y += sosfilt([biquad("bandpass", f, sr, q=q)] * 2, x)
    return y


def _breaths(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(n)
    t = float(rng.uniform(0.1, 0.8))
    while t < n / sr - 0.2:
        dur = float(rng.uniform(0.25, 1.0))
        m = min(int(dur * sr), n - int(t * sr))
        u = np.linspace(0.0, 1.0, m)
        peak_at = float(rng.uniform(0.2, 0.7))
        env = np.where(u < peak_at, u / peak_at, (1 - u) / (1 - peak_at)) ** 1.5
        inhale = rng.random() < 0.5
        band = (800.0, 4500.0) if inhale else (300.0, 2500.0)
        burst = _resonate(rng.standard_normal(m), sr, rng, band) * env
        i = int(t * sr)
        x[i : i + m] += burst / (np.max(np.abs(burst)) + 1e-12) * float(rng.uniform(0.3, 1.0))
        t += dur + float(rng.uniform(0.3, 2.0))
    return x


def _coughs(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(n)
    t = float(rng.uniform(0.1, 1.0))
    while t < n / sr - 0.4:
        for _ in range(int(rng.integers(1, 4))):  # a fit of 1..3 coughs
            dur = float(rng.uniform(0.08, 0.3))
            m = min(int(dur * sr), n - int(t * sr))
            if m <= 0:
                break
            k = np.arange(m) / sr
            env = np.minimum(k / 0.003, 1.0) * np.exp(-k / (dur * 0.35))
            burst = _resonate(rng.standard_normal(m), sr, rng, (300.0, 4000.0))
            burst /= np.max(np.abs(burst)) + 1e-12
            # A cough is partly voiced: a short rough buzz, falling, under the burst.
            f0 = float(rng.uniform(100, 350)) * (1 - 0.3 * k / dur)
            buzz = np.sign(np.sin(2 * math.pi * np.cumsum(f0) / sr)) * float(rng.uniform(0, .3))
            i = int(t * sr)
            x[i : i + m] += (burst + buzz) * env * float(rng.uniform(0.4, 1.0))
            t += dur + float(rng.uniform(0.05, 0.25))
        t += float(rng.uniform(0.5, 2.5))
    return x


def _claps(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    from vocalmidi.train.augment import biquad, sosfilt

    x = np.zeros(n)
    beat = 60.0 / float(rng.uniform(70, 180))
    t = float(rng.uniform(0.1, 0.6))
    sos = [biquad("bandpass", float(rng.uniform(900, 2500)), sr, q=float(rng.uniform(0.5, 1.2))),
           biquad("highpass", 400.0, sr)]
    while t < n / sr - 0.1:
        m = min(int(float(rng.uniform(0.02, 0.08)) * sr), n - int(t * sr))
        k = np.arange(m) / sr
        clap = sosfilt(sos, rng.standard_normal(m)) * np.exp(-k / float(rng.uniform(.005, .02)))
        i = int(t * sr)
        x[i : i + m] += clap / (np.max(np.abs(clap)) + 1e-12) * float(rng.uniform(0.5, 1.0))
        t += beat * float(rng.choice([0.5, 1.0, 1.0, 2.0])) + float(rng.normal(0, 0.01))
    return x


_CHORDS = ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11), (0, 5, 7),
           (0, 3, 6), (0, 4, 7, 12), (0, 2, 7))


def _chord_notes(seconds: float, rng: np.random.Generator, strum: bool) -> list[Note]:
    """A progression of 3..4-note chords, block or strummed, at a random tempo."""
    notes: list[Note] = []
    beat = 60.0 / float(rng.uniform(60, 160))
    t = float(rng.uniform(0.05, 0.5))
    while t < seconds - 0.3:
        root = int(rng.integers(40, 65))
        shape = _CHORDS[int(rng.integers(0, len(_CHORDS)))]
        hold = beat * float(rng.choice([0.5, 1.0, 2.0, 4.0]))
        vel = int(rng.integers(40, 120))
        for j, iv in enumerate(shape[:4]):
            start = t + (j * float(rng.uniform(0.008, 0.03)) if strum else 0.0)
            end = min(seconds, t + hold * float(rng.uniform(0.6, 1.0)))
            if end > start:
                notes.append(Note(start, end, root + iv, vel))
        t += hold
    return notes


# General MIDI percussion keys: kick, snare, rim, clap, hats, toms, crash, ride.
_KICK, _SNARE, _HATS = (35, 36), (38, 40, 37, 39), (42, 44, 46)
_EXTRA = (41, 43, 45, 47, 48, 50, 49, 51, 57)


def _drum_notes(seconds: float, rng: np.random.Generator) -> list[Note]:
    notes: list[Note] = []
    step = 60.0 / float(rng.uniform(70, 170)) / 2  # eighth notes
    kick, snare, hat = (int(rng.choice(k)) for k in (_KICK, _SNARE, _HATS))
    t, k = float(rng.uniform(0.05, 0.4)), 0
    while t < seconds - 0.2:
        hits = [hat] if rng.random() < 0.85 else []
        if k % 4 == 0 or rng.random() < 0.1:
            hits.append(kick)
        if k % 4 == 2 or rng.random() < 0.05:
            hits.append(snare)
        if rng.random() < 0.05:
            hits.append(int(rng.choice(_EXTRA)))
        for p in hits:
            notes.append(Note(t, t + 0.1, p, int(rng.integers(50, 127))))
        t += step
        k += 1
    return notes


def _render(notes: list[Note], n: int, sr: int, program: int, channel: int,
            font: str) -> np.ndarray:
    from vocalmidi.eval.synth import available_soundfonts, render_midi
    from vocalmidi.midi_io import write_midi

    fonts = available_soundfonts()
    if font not in fonts:
        raise BackendUnavailableError(f"the {font} SoundFont is not installed (make setup "
                                      "installs every SoundFont the project uses)")
    with tempfile.TemporaryDirectory(prefix="vocalmidi-neg-") as tmp:
        mid = write_midi(Path(tmp) / "neg.mid", notes, program=program, channel=channel,
                         end_padding=n / sr + 0.5)
        out = render_midi(mid, soundfont=fonts[font], sample_rate=sr)
    return np.pad(out, (0, max(0, n - out.shape[0])))[:n]


def make_negative(seconds: float, sr: int, rng: np.random.Generator,
                  kind: str | None = None, *, font: str = "fluidr3",
                  voices: tuple[str, ...] | None = None) -> tuple[np.ndarray, str]:
    """A dry "no note" clip of ``seconds`` at ``sr``; ``kind`` drawn from :data:`KINDS`.
    Chords and drums are rendered with SoundFont ``font``
    (:func:`vocalmidi.eval.synth.available_soundfonts`), speech is one of the espeak-ng
    ``voices`` (default: training ones).

    Returns
    -------
    audio : numpy.ndarray
        float32, ``round(seconds * sr)`` samples, peak 0.5 (augmentation sets the level).
    kind : str
        What it holds, e.g. ``speech`` or ``noise-clicks``.
    """
    if kind is None:
        kind = str(rng.choice(list(KINDS), p=list(KINDS.values())))
    n = int(round(seconds * sr))
    if kind == "speech":
        x = speech(seconds, sr, rng, voices)
    elif kind == "breath":
        x = _breaths(n, sr, rng)
    elif kind == "cough":
        x = _coughs(n, sr, rng)
    elif kind == "clap":
        x = _claps(n, sr, rng)
    elif kind == "noise":
        sub = str(rng.choice(NEGATIVE_KINDS))
        x, kind = negative_clip(sub, seconds, sr, rng), f"noise-{sub}"
    elif kind == "piano":
        x = _render(_chord_notes(seconds, rng, strum=False), n, sr, 0, 0, font)
    elif kind == "guitar":
        x = _render(_chord_notes(seconds, rng, strum=True), n, sr,
                    int(rng.choice([24, 25])), 0, font)
    elif kind == "drums":
        x = _render(_drum_notes(seconds, rng), n, sr, 0, 9, font)
    else:
        raise ValueError(f"unknown negative kind {kind!r}: use {', '.join(KINDS)}")
    x = np.asarray(x, dtype=np.float64)[:n]
    x = np.pad(x, (0, n - x.shape[0]))
    peak = float(np.max(np.abs(x)))
    return (x * (0.5 / peak) if peak > 0 else x).astype(np.float32), kind
