"""General-MIDI patches as voices, with envelopes calibrated to behave like a voice.

A voice reaches its level within a few tens of milliseconds and stops soon after it
stops singing; many SoundFont patches (choirs, pads, strings) swell for 150 ms or more
and ring on. Each patch is calibrated through SoundFont 2.01 NRPNs (CC99 = 120, CC98 =
generator, CC38/CC6 = 14-bit offset around 8192, in units of 2 timecents for envelope
times), which FluidSynth adds to the patch's own generators:

- volume-envelope attack and hold, and the modulation-envelope attack (filter sweeps),
  pushed to their minimum, so the sound starts as fast as the samples allow;
- volume-envelope release shortened by a per-patch offset so the level falls 30 dB
  within ~150 ms of note-off.

Each calibrated patch is then MEASURED (:func:`measure_patch`: attack to -6 dB of the
held level, release to -30 dB, at three pitches) and kept only if it meets
``ATTACK_MAX_S`` and ``RELEASE_MAX_S``; :data:`CALIBRATION` holds the offsets and the
measured verdicts per SoundFont (``vocalmidi.train.voices.gm`` run as a script prints
the table again). Training uses FluidR3 only; TimGM6mb and MuseScore General Lite are
validation voices.

The returned note times are the MIDI note-on/off times read back from the rendered file
(exact to a tick, ~0.5 ms); FluidSynth is run at 48 kHz (64-sample blocks = 1.3 ms) and
resampled, so the audio's onsets sit on those times.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from vocalmidi.errors import BackendUnavailableError, UsageError
from vocalmidi.eval.synth import available_soundfonts, render_notes
from vocalmidi.midi_io import read_midi
from vocalmidi.notes import Note
from vocalmidi.train.voices.phrasing import check_notes

__all__ = [
    "ATTACK_MAX_S",
    "CALIBRATION",
    "GM_PATCHES",
    "RELEASE_MAX_S",
    "GMVoice",
    "PatchMeasure",
    "calibration_controls",
    "glide_controls",
    "measure_patch",
    "measure_tuning",
    "usable_patches",
]

ATTACK_MAX_S = 0.040  # note-on to -6 dB of the held level
RELEASE_MAX_S = 0.150  # note-off to -30 dB of the held level
TUNING_MAX_CENTS = 30.0  # held pitch vs the MIDI note (the labels trust the patch's tuning)
RENDER_RATE = 48000
TAIL_S = 0.5
PEAK_LEVEL = 0.5
GLIDE_MS = (8, 25)  # portamento time of a legato change sung as a glide (legato="glide")
LEGATO_STYLES = ("keyboard", "glide")

# Zero-based General MIDI programs: the voice patches and monophonic instruments.
GM_PATCHES = {
    "choir_aahs": 52, "voice_oohs": 53, "synth_voice": 54,
    "flute": 73, "recorder": 74, "pan_flute": 75, "whistle": 78, "ocarina": 79,
    "clarinet": 71, "oboe": 68, "alto_sax": 65, "tenor_sax": 66,
    "violin": 40, "cello": 42, "strings": 48, "trumpet": 56,
}

# SoundFont 2.01 generator numbers.
_GEN_START_OFFSET = 0  # sample start address offset (samples)
_GEN_MODENV_ATTACK = 26
_GEN_VOLENV_ATTACK = 34
_GEN_VOLENV_HOLD = 35
_GEN_VOLENV_RELEASE = 38
_MIN_OFFSET = -12000  # timecents: pushes any envelope time to its 1 ms minimum

# (release offset in timecents, samples skipped at the start, passed) per SoundFont and
# patch, from `python -m vocalmidi.train.voices.gm` (the measurements are in
# docs/evaluation.md). A patch missing here is not usable.
CALIBRATION: dict[str, dict[str, tuple[int, int, bool]]] = {
    "fluidr3": {
        "choir_aahs": (-3500, 1500, True),
        "voice_oohs": (-2000, 0, True),
        "synth_voice": (-3500, 1500, True),
        "flute": (-700, 3000, True),
        "recorder": (0, 1500, True),
        "pan_flute": (0, 1500, True),
        "whistle": (-1300, 1500, True),
        "ocarina": (0, 0, True),
        "clarinet": (0, 3000, True),
        "oboe": (0, 1500, True),
        "alto_sax": (0, 0, True),
        "tenor_sax": (0, 0, True),
        "violin": (-1200, 3000, False),
        "cello": (-1700, 3000, False),
        "strings": (-3100, 1500, True),
        "trumpet": (0, 0, True),
    },
    "timgm6mb": {
        "choir_aahs": (-2600, 0, True),
        "voice_oohs": (-1800, 0, True),
        "synth_voice": (-3400, 1500, True),
        "flute": (-1200, 1500, True),
        "recorder": (0, 1500, True),
        "pan_flute": (0, 1500, True),
        "whistle": (-800, 1500, False),
        "ocarina": (0, 1500, True),
        "clarinet": (0, 0, True),
        "oboe": (-1200, 1500, True),
        "alto_sax": (0, 1500, True),
        "tenor_sax": (0, 0, True),
        "violin": (-10500, 1500, False),
        "cello": (-800, 0, True),
        "strings": (-3500, 0, True),
        "trumpet": (-900, 0, True),
    },
    "musescore": {
        "choir_aahs": (-3000, 1500, True),
        "voice_oohs": (-2000, 0, True),
        "synth_voice": (-3400, 1500, True),
        "flute": (-800, 1500, True),
        "recorder": (0, 1500, True),
        "pan_flute": (0, 1500, True),
        "whistle": (-1300, 1500, True),
        "ocarina": (0, 0, True),
        "clarinet": (0, 1500, True),
        "oboe": (0, 1500, True),
        "alto_sax": (0, 0, True),
        "tenor_sax": (0, 0, True),
        "violin": (-1200, 3000, False),
        "cello": (-1200, 3000, True),
        "strings": (-2500, 3000, True),
        "trumpet": (0, 0, True),
    },
}


def _nrpn(time: float, gen: int, offset: int, scale: int = 2) -> list[tuple[float, int, int]]:
    """CC messages that add ``offset`` to generator ``gen`` (SF2 NRPN; FluidSynth reads
    the data as multiples of ``scale``: 2 timecents for envelope times, 1 sample for
    address offsets). The data LSB goes first: the MSB applies the value."""
    data = int(np.clip(8192 + round(offset / scale), 0, 16383))
    return [(time, 99, 120), (time, 98, gen), (time, 38, data & 0x7F), (time, 6, data >> 7)]


def calibration_controls(release_tc: int, start_skip: int = 0) -> list[tuple[float, int, int]]:
    """The control changes (at time 0) that make a patch start fast and stop soon.

    Parameters
    ----------
    release_tc : int
        Offset of the volume-envelope release, timecents.
    start_skip : int
        Samples skipped at the start of each sample (a slow swell recorded into it).
    """
    out: list[tuple[float, int, int]] = []
    for gen in (_GEN_VOLENV_ATTACK, _GEN_VOLENV_HOLD, _GEN_MODENV_ATTACK):
        out += _nrpn(0.0, gen, _MIN_OFFSET)
    if release_tc:
        out += _nrpn(0.0, _GEN_VOLENV_RELEASE, release_tc)
    if start_skip:
        out += _nrpn(0.0, _GEN_START_OFFSET, start_skip, scale=1)
    return out


@dataclass(frozen=True)
class PatchMeasure:
    """Envelope of one patch, worst over the measured pitches."""

    attack_s: float  # note-on to -6 dB of the held level
    release_s: float  # note-off to -30 dB of the held level

    @property
    def ok(self) -> bool:
        return self.attack_s <= ATTACK_MAX_S and self.release_s <= RELEASE_MAX_S


def _envelope_times(audio: np.ndarray, fs: int, on: float, off: float) -> tuple[float, float]:
    hop = int(0.001 * fs)
    win = int(0.005 * fs)
    frames = np.lib.stride_tricks.sliding_window_view(audio, win)[::hop]
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)
    t = (np.arange(db.size) * hop + win / 2) / fs
    held = float(np.median(db[(t > off - 0.5) & (t < off - 0.05)]))
    after_on = np.flatnonzero((t >= on) & (db >= held - 6.0))
    attack = float(t[after_on[0]] - on) if after_on.size else math.inf
    late = (t >= off) & (t < off + 0.75) & (db > held - 30.0)
    above = np.flatnonzero(late)
    release = float(t[above[-1]] - off) if above.size else 0.0
    return attack, release


def measure_patch(soundfont: str, program: int, release_tc: int | None = 0,
                  start_skip: int = 0, pitches: Sequence[int] = (48, 60, 72)) -> PatchMeasure:
    """Render one held note per pitch (1 s) and measure the attack and release.

    ``release_tc=None`` measures the patch uncalibrated (no NRPNs at all).
    """
    font = _font(soundfont)
    on, off = 0.2, 1.2
    notes = [Note(on + 2.0 * k, off + 2.0 * k, p, 100) for k, p in enumerate(pitches)]
    controls = [] if release_tc is None else calibration_controls(release_tc, start_skip)
    audio = render_notes(notes, soundfont=font, program=program, sample_rate=RENDER_RATE,
                         tail=0.8, controls=controls)
    worst_a, worst_r = 0.0, 0.0
    for k in range(len(pitches)):
        a, r = _envelope_times(audio, RENDER_RATE, on + 2.0 * k, off + 2.0 * k)
        worst_a, worst_r = max(worst_a, a), max(worst_r, r)
    return PatchMeasure(worst_a, worst_r)


def measure_tuning(soundfont: str, patch: str,
                   pitches: Sequence[int] = (48, 60, 72)) -> float:
    """Worst deviation (cents) of a calibrated patch's held pitch from the MIDI note,
    measured with WORLD's f0 estimator (harvest: robust on chorused patches) on 1 s
    notes; ``inf`` when a note is not heard as pitched."""
    import pyworld as pw

    notes = [Note(0.3 + 1.3 * k, 1.3 + 1.3 * k, p, 96) for k, p in enumerate(pitches)]
    try:
        audio, truth = GMVoice(soundfont, patch).render(notes, 16000, 0)
    except BackendUnavailableError:  # silent with its calibration
        return math.inf
    x = audio.astype(np.float64)
    f0, t = pw.harvest(x, 16000, f0_floor=60.0, f0_ceil=1200.0, frame_period=5.0)
    worst = 0.0
    for n in truth:
        held = f0[(t > n.start + 0.2) & (t < n.end - 0.05) & (f0 > 0)]
        if held.size < 20:
            return math.inf
        dev = 1200.0 * math.log2(float(np.median(held)) / (440.0 * 2 ** ((n.pitch - 69) / 12)))
        worst = max(worst, abs(dev))
    return worst


def _font(name: str) -> Path:
    fonts = available_soundfonts()
    if name not in fonts:
        raise BackendUnavailableError(
            f"SoundFont {name!r} is not installed (installed: {', '.join(fonts) or 'none'})")
    return fonts[name]


def calibrate(soundfont: str, patch: str) -> tuple[int, int, PatchMeasure, PatchMeasure]:
    """Calibrate a patch and measure it: (release offset, start skip, before, after).

    The attack generators go to their minimum; when the samples themselves swell, up to
    ~70 ms of each sample's start is skipped; the release offset is refined until the
    level falls 30 dB within 140 ms of note-off (three tries at most).
    """
    program = GM_PATCHES[patch]
    before = measure_patch(soundfont, program, None)
    skip = 0
    after = measure_patch(soundfont, program, 0)
    for s in (1500, 3000):
        if after.attack_s <= ATTACK_MAX_S:
            break
        skip = s
        after = measure_patch(soundfont, program, 0, skip)
    offset = 0
    for _ in range(3):
        if after.release_s <= 0.14:  # a short release is voice-like too: only shorten
            break
        # Scale the release time towards 100 ms (envelope times are exponential in tc).
        offset += int(round(1200 * math.log2(0.10 / after.release_s) / 100.0)) * 100
        after = measure_patch(soundfont, program, offset, skip)
    return offset, skip, before, after


def usable_patches(soundfont: str) -> list[str]:
    """Patches of ``soundfont`` that passed calibration, in :data:`GM_PATCHES` order."""
    table = CALIBRATION.get(soundfont, {})
    return [p for p in GM_PATCHES if p in table and table[p][2]]


def glide_controls(notes: Sequence[Note], rng: np.random.Generator) -> list[tuple[float, int, int]]:
    """The control changes that make a patch sing legato as a voice does: one note
    gliding to the next, not a keyboard's two notes sounding together.

    A keyboard legato holds the old note into the new one and then releases it over up
    to 150 ms while the new sample attacks, so on most patches the new pitch is the
    louder one only 25-40 ms after its note-on (``scripts/gm_legato_takeover.py``). With
    the legato pedal (CC68) FluidSynth plays the channel monophonically: a note-on while
    the previous note is held takes over that note's voice, and with portamento (CC65)
    the pitch slides there in the portamento time (CC5/CC37, 1 ms units, linear). A new
    key outside the old sample's key range starts a new sample; the old one is released
    at once. Each legato change draws its glide from :data:`GLIDE_MS`: the new pitch is
    then heard a median 20-30 ms after its note-on on the validation patches, near the
    sung-syllable voices' eased 15-40 ms glides (15 ms; ``gm_legato_takeover.py --heard``).
    """
    out = [(0.0, 68, 127), (0.0, 65, 127)]
    for prev, n in zip(notes[:-1], notes[1:], strict=True):
        if prev.end > n.start and prev.pitch != n.pitch:
            ms = int(rng.integers(GLIDE_MS[0], GLIDE_MS[1] + 1))
            out += [(n.start, 5, ms >> 7), (n.start, 37, ms & 0x7F)]
    return out


def _rearticulate(notes: list[Note], rng: np.random.Generator) -> list[Note]:
    """End a note early when the next one repeats its pitch without a gap: a patch
    would otherwise run one note into the other with no audible new attack."""
    out = list(notes)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if b.pitch == a.pitch and b.start - a.end < 0.05:
            end = max(a.start + 0.5 * (b.start - a.start), b.start - rng.uniform(0.06, 0.09))
            out[i] = replace(a, end=end)
    return out


@dataclass(frozen=True)
class GMVoice:
    """A calibrated General-MIDI patch of an installed SoundFont.

    ``legato`` is how a note joined to the next one is played: ``keyboard`` (two notes
    overlapping, as training's voice sets 1-6 hear the patches) or ``glide`` (one voice
    sliding to the next pitch, :func:`glide_controls`; the evaluation set from version 4
    and training's voice set 7).
    """

    soundfont: str
    patch: str
    name: str = field(init=False)
    legato: str = "keyboard"

    def __post_init__(self) -> None:
        if self.patch not in GM_PATCHES:
            raise UsageError(f"unknown patch {self.patch!r}: use {', '.join(GM_PATCHES)}")
        if self.legato not in LEGATO_STYLES:
            raise UsageError(f"unknown legato {self.legato!r}: use {', '.join(LEGATO_STYLES)}")
        object.__setattr__(self, "name", f"gm:{self.soundfont}:{self.patch}")

    @property
    def calibration(self) -> tuple[int, int]:
        """(release offset in timecents, samples skipped at each sample's start)."""
        entry = CALIBRATION.get(self.soundfont, {}).get(self.patch)
        if entry is None:
            raise UsageError(f"{self.name} has not been calibrated")
        return entry[0], entry[1]

    def render(self, notes: Sequence[Note], sample_rate: int,
               seed: int) -> tuple[np.ndarray, list[Note]]:
        """Play ``notes`` (with bends) on the calibrated patch.

        FluidSynth is deterministic; ``seed`` only sets the gap (60-90 ms) cut before a
        note that repeats the previous pitch without one, so that it is re-articulated,
        and with ``legato="glide"`` each legato change's glide time.
        The truth is the rendered MIDI's notes, bend curves kept from ``notes``.
        """
        if not 8000 <= sample_rate <= 192000:
            raise UsageError(f"sample rate {sample_rate} Hz is out of range 8000..192000")
        ordered = _rearticulate(check_notes(notes), np.random.default_rng(seed))
        controls = calibration_controls(*self.calibration)
        if self.legato == "glide":  # its own draws: the keyboard takes stay byte for byte
            controls += glide_controls(ordered, np.random.default_rng([seed, 1]))
        rate = sample_rate if sample_rate >= 44100 else RENDER_RATE
        with tempfile.TemporaryDirectory(prefix="vocalmidi-gm-") as tmp:
            mid = Path(tmp) / "take.mid"
            audio = render_notes(ordered, soundfont=_font(self.soundfont),
                                 program=GM_PATCHES[self.patch], sample_rate=rate,
                                 tail=TAIL_S, controls=controls, midi_path=mid)
            back = read_midi(mid)
        truth = [replace(b, bend=n.bend) for b, n in zip(back, ordered, strict=True)]
        if rate != sample_rate:
            g = math.gcd(rate, sample_rate)
            audio = resample_poly(audio, sample_rate // g, rate // g)
        n_out = int(round((max(n.end for n in ordered) + TAIL_S) * sample_rate))
        audio = np.pad(audio, (0, max(0, n_out - audio.size)))[:n_out]
        peak = float(np.max(np.abs(audio)))
        if peak <= 0:
            raise BackendUnavailableError(f"{self.name} rendered silence")
        return (audio * (PEAK_LEVEL / peak)).astype(np.float32), truth


def _main() -> None:  # pragma: no cover - regenerates the calibration table
    import sys

    fonts = sys.argv[1:] or list(available_soundfonts())
    for font in fonts:
        for patch in GM_PATCHES:
            offset, skip, before, after = calibrate(font, patch)
            CALIBRATION.setdefault(font, {})[patch] = (offset, skip, True)
            tuning = measure_tuning(font, patch)
            ok = after.ok and tuning <= TUNING_MAX_CENTS
            print(f"| {font} | {patch} | {before.attack_s * 1000:.0f} | "
                  f"{before.release_s * 1000:.0f} | {offset} | {skip} | "
                  f"{after.attack_s * 1000:.0f} | {after.release_s * 1000:.0f} | "
                  f"{'kept' if ok else 'dropped'} | {tuning:.0f} |", flush=True)


if __name__ == "__main__":  # pragma: no cover
    _main()
