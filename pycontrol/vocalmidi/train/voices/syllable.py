"""A sung-syllable voice: a speech synthesizer says syllables, WORLD re-pitches them to the
performance.

How a phrase is sung
--------------------
espeak-ng (a formant speech synthesizer from Debian), or one of flite's or Festival's
voices (built from recordings of real speakers; ``flite:<name>``, ``festival:<name>``),
says each syllable once ("la", "pa",
"ooh", a hum...). WORLD (pyworld) analyses it into frames of f0, spectral envelope and
aperiodicity, cached per voice and syllable. A performance is then built frame by frame
(5 ms) on one timeline: each note gets a syllable whose consonant and vowel attack land
on the note, whose steady vowel frames are looped back and forth for as long as the note
lasts, and whose f0 is replaced by the performed contour (written pitch plus the bend
curve: scoops, vibrato, drift). The whole timeline is synthesized at once, so legato
notes glide without a seam; some legato notes are sung on the same vowel (a melisma),
the others get a new syllable; the formants are shifted by up to 8 % per take (another
vocal tract length). Notes that repeat a pitch are always re-articulated:
the previous note fades out over the 30-50 ms before the new syllable starts. Breath noise is
added in the silences between phrases (it carries no note).

The onset
---------
A note's onset is the start of the voiced part that carries its pitch: for a syllable
that starts with an unvoiced consonant (p, t, k) the vowel's voicing start, after the
burst and aspiration, which are placed before it; for voiced consonants (l, m, n, d) and
vowels (with espeak's glottal attack where the language has one) the start of the
voiced consonant or vowel. WORLD switches voicing half a frame before the first voiced
frame, so the returned onset is that instant, exact to the synthesis (< 1 ms).
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfilt

from vocalmidi.errors import BackendUnavailableError, UsageError
from vocalmidi.notes import Note
from vocalmidi.train.voices.phrasing import Join, check_notes, pitch_contour, read_joins

__all__ = ["FRAME_S", "SYLLABLES", "Syllable", "SyllableVoice", "analyse_syllable"]

FRAME_S = 0.005  # WORLD frame period
SYNTH_RATE = 22050  # WORLD's synthesis rate above 16 kHz output (espeak-ng's own rate)
TTS_RATES = (8000, 16000, 22050, 32000)  # what espeak-ng, flite and Festival's voices write
TAIL_S = 0.5  # audio kept after the last note-off
PEAK_LEVEL = 0.5  # renders are normalised to -6 dBFS peak

# Syllables per language family: espeak reads plain text phonetically in most languages;
# English needs spellings ("ah", "ooh") and the hum is given as phonemes ([[m'm:]]).
SYLLABLES = {
    "en": ("la", "na", "da", "ma", "pa", "ta", "ka", "lu", "no", "dee", "ah", "ooh",
           "[[m'm:]]"),
    "other": ("la", "na", "da", "ma", "pa", "ta", "ka", "lu", "no", "mi", "a", "u",
              "[[m'm:]]"),
    # flite speaks English text only (no phoneme input): the hum is spelled.
    "flite": ("la", "na", "da", "ma", "pa", "ta", "ka", "lu", "no", "dee", "ah", "ooh",
              "mmm"),
    # Festival's voices read text in their own language (Italian, Catalan, Czech,
    # Finnish, English): syllables spelled alike in all of them; the hum is spelled.
    "festival": ("la", "na", "da", "ma", "pa", "ta", "ka", "lu", "no", "mi", "a", "u",
                 "mmm"),
}
# A Festival voice's name is its voice function's without "voice_" (`text2wave -eval
# "(voice_lp_diphone)"`); Duration_Stretch slows it as flite's duration_stretch does.
_FESTIVAL_EVAL = "(begin (voice_{name}) (Parameter.set 'Duration_Stretch 1.8))"

_SP_FLOOR = 1e-14  # spectral power of silence
_MELISMA = 0.3  # share of legato notes sung on the previous vowel (no new consonant)
_MAX_PRE_S = 0.12  # longest unvoiced consonant kept before an onset


@dataclass(frozen=True)
class Syllable:
    """One analysed syllable: WORLD frames split into consonant, attack and steady vowel.

    ``sp`` is scaled so that the steady vowel's mean power is 1.
    """

    text: str
    sp: np.ndarray  # (frames, bins) spectral envelope (power)
    ap: np.ndarray  # (frames, bins) aperiodicity
    pre: int  # frames before the onset: unvoiced consonant (burst, aspiration)
    onset: int  # frame index of the onset
    steady: tuple[int, int]  # [first, end) frames of the steady vowel (looped)


def _run_tts(cmd: list[str], wav: Path, who: str) -> tuple[np.ndarray, int]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not wav.is_file():
        raise BackendUnavailableError(f"{who} failed: {proc.stderr.strip() or 'no output'}")
    audio, sr = sf.read(str(wav), dtype="float64")
    return audio, int(sr)


def _say(voice: str, text: str) -> tuple[np.ndarray, int]:
    """``text`` said slowly by ``voice``: an espeak-ng voice, ``flite:<name>`` or
    ``festival:<name>``."""
    backend, _, name = voice.partition(":") if voice.startswith(("flite:", "festival:")) \
        else ("espeak-ng", "", voice)
    exe = shutil.which("text2wave" if backend == "festival" else backend)
    if exe is None:
        raise BackendUnavailableError(
            f"{backend} is not installed: install the Debian package `{backend}` (make setup)")
    with tempfile.TemporaryDirectory(prefix="vocalmidi-tts-") as tmp:
        wav = Path(tmp) / "s.wav"
        # Slow speech gives long, steady vowels (espeak -s 90; flite's and Festival's
        # durations stretched 1.8x); the f0 is replaced anyway.
        if backend == "flite":
            cmd = [exe, "-voice", name, "--setf", "duration_stretch=1.8", "-t", text,
                   "-o", str(wav)]
        elif backend == "festival":
            txt = Path(tmp) / "s.txt"
            txt.write_text(text + "\n")
            cmd = [exe, "-eval", _FESTIVAL_EVAL.format(name=name), "-o", str(wav), str(txt)]
        else:
            cmd = [exe, "-v", name, "-s", "90", "-w", str(wav), text]
        audio, sr = _run_tts(cmd, wav, f"{backend} (voice {name!r})")
    if audio.ndim != 1 or not np.any(audio) or sr not in TTS_RATES:
        raise BackendUnavailableError(f"{backend} gave unusable audio for {name!r} {text!r}")
    return audio, sr


@functools.lru_cache(maxsize=512)
def analyse_syllable(voice: str, text: str, fs: int) -> Syllable:
    """Say ``text`` with ``voice`` (see :func:`_say`) and analyse it with WORLD at rate ``fs``.

    Raises
    ------
    BackendUnavailableError
        When the synthesizer or pyworld is missing, or the syllable has no steady voiced vowel.
    """
    try:
        import pyworld as pw
    except ImportError:
        raise BackendUnavailableError("pyworld is not installed: install the dev extra "
                                      "(pip install -e '.[dev]')") from None
    x, rate = _say(voice, text)
    if fs != rate:
        g = math.gcd(fs, rate)
        x = resample_poly(x, fs // g, rate // g)
    # Silence before the syllable lets the analysis see its true start.
    x = np.ascontiguousarray(np.pad(x, (int(0.05 * fs), 0)), dtype=np.float64)
    ms = FRAME_S * 1000.0
    f0, t = pw.dio(x, fs, f0_floor=60.0, f0_ceil=700.0, frame_period=ms)
    f0 = pw.stonemask(x, f0, t, fs)
    sp = pw.cheaptrick(x, f0, t, fs)
    ap = pw.d4c(x, f0, t, fs)
    # Frame level from the signal itself (10 ms window around each frame centre).
    hop, half = int(round(FRAME_S * fs)), int(round(0.005 * fs))
    pad = np.pad(x, half)
    rms = np.array([np.sqrt(np.mean(pad[i * hop: i * hop + 2 * half] ** 2) + 1e-20)
                    for i in range(len(f0))])
    db = 20 * np.log10(rms / rms.max())
    voiced = f0 > 0
    sounding = np.flatnonzero(db > -35.0)
    if sounding.size == 0:
        raise BackendUnavailableError(f"{voice!r} said nothing for {text!r}")
    first = int(sounding[0])
    # Onset: the first frame of sustained voicing (3 voiced frames) that is audible.
    onset = -1
    for i in range(first, len(f0) - 3):
        if voiced[i] and voiced[i + 1] and voiced[i + 2] and db[i] > -30.0:
            onset = i
            break
    if onset < 0:
        raise BackendUnavailableError(f"no voiced part in {voice!r} {text!r}")
    pre = onset - first
    pre = min(pre, int(round(_MAX_PRE_S / FRAME_S))) if pre >= 3 else 0
    # Steady vowel: from where the level first reaches -6 dB to the last voiced frame
    # above -9 dB (before the syllable's own decay), shortened a little at both ends.
    loud = np.flatnonzero(voiced & (db > -9.0) & (np.arange(len(f0)) >= onset))
    peak_start = np.flatnonzero((db > -6.0) & (np.arange(len(f0)) >= onset))
    if loud.size == 0 or peak_start.size == 0:
        raise BackendUnavailableError(f"no steady vowel in {voice!r} {text!r}")
    a = int(peak_start[0]) + 2
    b = int(loud[-1]) - 2
    if b - a < 6:
        raise BackendUnavailableError(f"vowel too short in {voice!r} {text!r}")
    # Synthesis cost grows with the FFT size: keep every other bin of the (smooth)
    # envelopes, i.e. synthesize with half the analysis FFT size.
    sp, ap = sp[:, ::2], ap[:, ::2]
    power = float(np.mean(np.sum(sp[a:b], axis=1)))
    return Syllable(text, np.ascontiguousarray(sp / power), np.ascontiguousarray(ap),
                    pre, onset, (a, b))


def _loop_index(j: np.ndarray, m: int) -> np.ndarray:
    """Indices of the j-th frames of a back-and-forth loop over m frames (no jumps)."""
    if m <= 1:
        return np.zeros_like(j)
    p = j % (2 * m - 2)
    return np.where(p < m, p, 2 * m - 2 - p)


def _breath(n: int, fs: int, rng: np.random.Generator) -> np.ndarray:
    """An inhale: band-passed noise that swells and fades."""
    lo = rng.uniform(500.0, 1200.0)
    hi = min(rng.uniform(3000.0, 6000.0), 0.45 * fs)
    sos = butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")
    noise = sosfilt(sos, rng.normal(0.0, 1.0, n))
    env = np.sin(np.linspace(0.0, np.pi, n)) ** 1.5
    out = noise * env
    return out / (np.sqrt(np.mean(out ** 2)) + 1e-12)


@dataclass(frozen=True)
class SyllableVoice:
    """A sung-syllable voice from one speech-synthesizer voice.

    Parameters
    ----------
    tts_voice : str
        An espeak-ng voice with an optional variant, e.g. ``en-us+f3``, a flite voice
        as ``flite:<name>`` (``flite -lv`` lists them; they speak English), or a
        Festival voice as ``festival:<name>`` (its voice function without ``voice_``,
        e.g. ``festival:lp_diphone``; Debian's festvox-* packages).
    female : bool
        Whether the variant is a female one (for choosing voices by range).
    syllables : tuple of str, optional
        What it sings; by default :data:`SYLLABLES` of its language.
    """

    tts_voice: str
    female: bool = True
    syllables: tuple[str, ...] = ()
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"syllable:{self.tts_voice}")
        if not self.syllables:
            lang = ("flite" if self.tts_voice.startswith("flite:") else
                    "festival" if self.tts_voice.startswith("festival:") else
                    "en" if self.tts_voice.startswith("en") else "other")
            object.__setattr__(self, "syllables", SYLLABLES[lang])

    def render(self, notes: Sequence[Note], sample_rate: int,
               seed: int) -> tuple[np.ndarray, list[Note]]:
        """Sing ``notes`` (performed notes with bend curves).

        Parameters
        ----------
        notes : sequence of Note
            Monophonic performed notes (e.g. from :func:`vocalmidi.eval.perform.perform`).
        sample_rate : int
            Output rate in Hz (8 kHz .. 192 kHz).
        seed : int
            Seed of the syllable choice, breaths, dips and dynamics.

        Returns
        -------
        audio : numpy.ndarray
            float32 mono, time 0 = time 0 of the notes, ``TAIL_S`` after the last note-off,
            peak at -6 dBFS.
        truth : list of Note
            The notes as sung: start = onset (see the module docstring), end = where the
            note's sound starts to fade, bend curves kept.
        """
        if not 8000 <= sample_rate <= 192000:
            raise UsageError(f"sample rate {sample_rate} Hz is out of range 8000..192000")
        import pyworld as pw

        ordered = check_notes(notes)
        joins = read_joins(ordered)
        rng = np.random.default_rng(seed)
        fs = 16000 if sample_rate <= 16000 else SYNTH_RATE
        bank = [analyse_syllable(self.tts_voice, s, fs) for s in self.syllables]
        n_notes = len(ordered)
        fp = FRAME_S
        # Which syllable each note gets (None: a melisma, the previous vowel goes on).
        choice: list[Syllable | None] = []
        for j in joins:
            if j.join == Join.LEGATO and rng.random() < _MELISMA:
                choice.append(None)
            else:
                choice.append(bank[int(rng.integers(len(bank)))])
        k0 = [int(round(n.start / fp)) for n in ordered]
        # First frame of each note's sound (its consonant), never eating the previous
        # note's start.
        first: list[int] = []
        for i in range(n_notes):
            syl = choice[i]
            pre = syl.pre if syl is not None else 0
            lo = k0[i - 1] + 4 if i > 0 else 0
            first.append(max(k0[i] - pre, lo, 0))
        # Frame where each note stops sounding (its release starts there).
        end: list[int] = []
        for i, n in enumerate(ordered):
            e = max(int(round(n.end / fp)), k0[i] + 2)
            if i + 1 < n_notes:
                e = min(e, first[i + 1])
                if joins[i + 1].join == Join.REPEAT:
                    # Re-articulate a repeated pitch: the note fades out before the next.
                    e = min(e, first[i + 1] - int(rng.integers(6, 11)))
                e = max(e, k0[i] + 2)
            end.append(e)
        total = max(n.end for n in ordered) + TAIL_S
        n_frames = int(math.ceil(total / fp)) + 2
        bins = bank[0].sp.shape[1]
        f0 = np.zeros(n_frames)
        sp = np.full((n_frames, bins), _SP_FLOOR)
        ap = np.ones((n_frames, bins))
        # Breathiness of this take: aperiodicity floor rising with frequency.
        freqs = np.linspace(0.0, fs / 2, bins)
        breathy = rng.uniform(0.02, 0.25) * np.clip(freqs / 4000.0, 0.0, 1.0)
        jitter_c = rng.uniform(2.0, 6.0)
        truth: list[Note] = []
        cur: Syllable | None = None
        loop_pos = 0
        prev_semi = 0.0
        for i, n in enumerate(ordered):
            syl = choice[i]
            gain = 10 ** ((n.velocity - 100) * 0.25 / 20.0)
            if syl is not None:
                cur, loop_pos = syl, 0
                # Unvoiced consonant before the onset (f0 stays 0 there).
                npre = k0[i] - first[i]
                if npre > 0:
                    src = cur.sp[cur.onset - npre: cur.onset]
                    sp[first[i]:k0[i]] = src * gain ** 2
                    ap[first[i]:k0[i]] = cur.ap[cur.onset - npre: cur.onset]
            assert cur is not None
            # Voiced frames: attack (new syllable only), then the looped steady vowel,
            # then a release fade unless the next note takes over.
            nxt_first = first[i + 1] if i + 1 < n_notes else n_frames
            release = int(rng.integers(8, 17))  # 40-80 ms
            if nxt_first > end[i]:
                # The fade ends 10 ms before the next syllable: repeats get their dip.
                release = min(release, max(2, nxt_first - end[i] - 2))
            stop = min(end[i] + release, nxt_first, n_frames)
            a, b = cur.steady
            attack = (a - cur.onset) if syl is not None else 0
            j = np.arange(stop - k0[i])
            looped = np.maximum(j - attack, 0)
            idx = np.where(j < attack, cur.onset + j, a + _loop_index(loop_pos + looped, b - a))
            loop_pos += int(np.count_nonzero(j >= attack))
            frames = np.arange(k0[i], stop)
            level = np.full(idx.size, gain ** 2)
            rel = frames >= end[i]
            if np.any(rel):
                x = (frames[rel] - end[i] + 1) / release
                level[rel] *= np.cos(0.5 * np.pi * np.clip(x, 0.0, 1.0)) ** 4
            sp[k0[i]:stop] = cur.sp[idx] * level[:, None]
            ap[k0[i]:stop] = np.maximum(cur.ap[idx], breathy)
            # f0: the performed contour, with a short glide out of the previous pitch
            # when legato, and a little jitter.
            semis = pitch_contour(n, frames * fp)
            if joins[i].join == Join.LEGATO and i > 0:
                g = int(rng.integers(3, 9))
                ramp = np.clip(np.arange(idx.size) / g, 0.0, 1.0)
                ramp = 1.0 - (1.0 - ramp) ** 2
                semis = prev_semi + (semis - prev_semi) * ramp
            semis = semis + rng.normal(0.0, jitter_c / 100.0, idx.size)
            f0[k0[i]:stop] = 440.0 * 2.0 ** ((semis - 69.0) / 12.0)
            prev_semi = float(semis[min(end[i], stop) - k0[i] - 1])
            start_s = max(0.0, (k0[i] - 0.5) * fp)
            truth.append(Note(start_s, max((end[i] - 0.5) * fp, start_s + fp), n.pitch,
                              n.velocity, n.bend))
        # High notes: a singer opens the jaw so that the first formant follows f0
        # (formant tuning); without it, a closed vowel ("u", "i") leaves the fundamental
        # of a soprano note 20-30 dB under its harmonics. Raise the envelope up to 1.3 f0
        # to 6 dB under the frame's peak, fading in from 400 to 600 Hz.
        freqs_b = np.arange(bins) * (fs / 2) / (bins - 1)
        high = np.flatnonzero(f0 > 400.0)
        if high.size:
            weight = np.clip((f0[high] - 400.0) / 200.0, 0.0, 1.0)[:, None]
            floor = 0.25 * sp[high].max(axis=1, keepdims=True) * weight
            below = freqs_b[None, :] <= 1.3 * f0[high][:, None]
            sp[high] = np.where(below, np.maximum(sp[high], floor), sp[high])
        # A different vocal tract length each take: scale the envelopes' frequency axis.
        src = np.arange(bins) / rng.uniform(0.92, 1.08)
        lo = np.clip(src.astype(np.int64), 0, bins - 2)
        w = np.clip(src - lo, 0.0, 1.0)
        sp = sp[:, lo] * (1.0 - w) + sp[:, lo + 1] * w
        ap = ap[:, lo] * (1.0 - w) + ap[:, lo + 1] * w
        y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp),
                          np.ascontiguousarray(ap), fs, fp * 1000.0)
        y = self._add_breaths(y, fs, ordered, joins, first, rng)
        if sample_rate != fs:
            g = math.gcd(sample_rate, fs)
            y = resample_poly(y, sample_rate // g, fs // g)
        n_out = int(round(total * sample_rate))
        y = np.pad(y, (0, max(0, n_out - y.size)))[:n_out]
        peak = float(np.max(np.abs(y)))
        if peak <= 0:
            raise BackendUnavailableError(f"{self.name} rendered silence")
        return (y * (PEAK_LEVEL / peak)).astype(np.float32), truth

    @staticmethod
    def _add_breaths(y: np.ndarray, fs: int, notes: list[Note], joins: list,
                     first: list[int], rng: np.random.Generator) -> np.ndarray:
        """Breath noise in the silences before phrases (20-32 dB below the singing)."""
        sung = y[np.abs(y) > 1e-4]
        ref = float(np.sqrt(np.mean(sung ** 2))) if sung.size else 0.0
        if ref <= 0:
            return y
        for i, j in enumerate(joins):
            if j.join != Join.FIRST or j.gap < 0.4 and i > 0:
                continue
            stop_s = first[i] * FRAME_S - rng.uniform(0.06, 0.15)
            length = rng.uniform(0.2, 0.4)
            begin_s = max(stop_s - length, notes[i - 1].end + 0.1 if i > 0 else 0.0)
            if stop_s - begin_s < 0.12:
                continue
            a, b = int(begin_s * fs), int(stop_s * fs)
            level = ref * 10 ** (-rng.uniform(20.0, 32.0) / 20.0)
            y[a:b] += level * _breath(b - a, fs, rng)
        return y
