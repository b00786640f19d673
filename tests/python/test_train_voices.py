"""The training/validation voices sing what they are given, where they say they do.

Per voice kind: a short phrase is rendered and checked as a listener would: the pitch of
each settled note is the written one (within 50 cents), each returned onset is where the
sound (or, after an unvoiced consonant, the voicing) starts, a repeated note on one pitch
is re-articulated (an energy dip), and calibrated General-MIDI patches start and stop
like a voice.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyworld imports pkg_resources
    pw = pytest.importorskip("pyworld")

from vocalmidi.eval.synth import available_soundfonts  # noqa: E402
from vocalmidi.train.voices import (  # noqa: E402
    VALIDATION_SOUNDFONTS,
    training_voices,
    validation_voices,
)
from vocalmidi.train.voices.gm import (  # noqa: E402
    ATTACK_MAX_S,
    GM_PATCHES,
    RELEASE_MAX_S,
    GMVoice,
    measure_patch,
)
from vocalmidi.train.voices.hum import HumVoice  # noqa: E402
from vocalmidi.train.voices.syllable import SyllableVoice  # noqa: E402

SR = 16000

# Detached notes (a gap before each, so every onset is heard on its own), one repeat of
# the same pitch that touches the previous note, a leap and a small scoop.
PHRASE = [
    Note(0.40, 0.80, 57, 96),
    Note(1.00, 1.40, 60, 96),
    Note(1.40, 1.80, 60, 96),  # touches the previous note at the same pitch
    Note(2.05, 2.50, 64, 100, ((2.05, -0.6), (2.10, -0.25), (2.15, 0.0))),
    Note(2.75, 3.30, 69, 90),
]
REPEAT = 2  # index of the repeated note


def _cents(hz: np.ndarray, midi: int) -> np.ndarray:
    return 1200.0 * np.log2(hz / (440.0 * 2.0 ** ((midi - 69) / 12.0)))


def _f0(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = audio.astype(np.float64)
    f0, t = pw.dio(x, SR, f0_floor=70.0, f0_ceil=1000.0, frame_period=5.0)
    return pw.stonemask(x, f0, t, SR), t


def _level_db(audio: np.ndarray, win_s: float = 0.004) -> np.ndarray:
    """Short-time level (dB) per sample, centred windows."""
    n = int(win_s * SR)
    power = np.convolve(audio.astype(np.float64) ** 2, np.ones(n) / n, mode="same")
    return 10 * np.log10(power + 1e-12)


def _energy_onset(db: np.ndarray, near: float) -> float:
    """Where the level rises, out of the quietest point of the 60 ms before ``near`` (the
    silence or the dip before a note), to within 25 dB of the note's early peak."""
    a = int((near - 0.06) * SR)
    a += int(np.argmin(db[a:int((near + 0.003) * SR)]))
    peak = db[int(near * SR):int((near + 0.12) * SR)].max()
    above = np.flatnonzero(db[a:int((near + 0.12) * SR)] > peak - 25.0)
    return (a + above[0]) / SR


def _check_pitch(audio: np.ndarray, truth: list[Note]) -> None:
    f0, t = _f0(audio)
    for n in truth:
        settled = (t > n.start + 0.1) & (t < n.end - 0.04) & (f0 > 0)
        assert settled.sum() >= 10, f"note at {n.start:.2f} s is not voiced"
        dev = float(np.median(_cents(f0[settled], n.pitch)))
        assert abs(dev) < 50.0, f"note {n.pitch} at {n.start:.2f} s sung {dev:+.0f} cents off"


def _check_onsets(audio: np.ndarray, truth: list[Note], skip: tuple[int, ...] = ()) -> None:
    db = _level_db(audio)
    for i, n in enumerate(truth):
        if i in skip:
            continue
        heard = _energy_onset(db, n.start)
        assert abs(heard - n.start) < 0.010, (
            f"note {i} onset returned {n.start:.4f} s, heard at {heard:.4f} s")


def _check_repeat_dip(audio: np.ndarray, truth: list[Note]) -> None:
    db = _level_db(audio, 0.010)
    a, b = truth[REPEAT - 1], truth[REPEAT]
    held = min(np.median(db[int((a.start + 0.1) * SR):int(a.end * SR)]),
               np.median(db[int((b.start + 0.1) * SR):int((b.end - 0.05) * SR)]))
    dip = db[int((b.start - 0.06) * SR):int((b.start + 0.01) * SR)].min()
    assert held - dip > 15.0, f"repeat not re-articulated: dip only {held - dip:.1f} dB"


def _common(voice: object, onset_skip: tuple[int, ...] = ()) -> None:
    audio, truth = voice.render(PHRASE, SR, 7)  # type: ignore[attr-defined]
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx((PHRASE[-1].end + 0.5) * SR, abs=2)
    assert [n.pitch for n in truth] == [n.pitch for n in PHRASE]
    for n, p in zip(truth, PHRASE, strict=True):
        assert abs(n.start - p.start) < 0.01 and n.end > n.start
    _check_pitch(audio, truth)
    _check_onsets(audio, truth, onset_skip)
    _check_repeat_dip(audio, truth)
    again, _ = voice.render(PHRASE, SR, 7)  # type: ignore[attr-defined]
    assert np.array_equal(audio, again), "a render must be deterministic per seed"


def test_syllable_voice_sings_pitch_onsets_and_repeats() -> None:
    _common(SyllableVoice("en-us+f3", syllables=("la", "ma", "na", "ah")))


@pytest.mark.parametrize("name", ["awb", "slt"])
def test_flite_syllable_voice_sings_pitch_onsets_and_repeats(name: str) -> None:
    # flite's voices are built from recordings of real speakers (diphones, clustergen):
    # every syllable, hum included, must land on its pitch and onset like espeak's.
    _common(SyllableVoice(f"flite:{name}", female=name == "slt"))


@pytest.mark.parametrize("index", range(5))
def test_festival_syllable_voice_sings_pitch_onsets_and_repeats(index: int) -> None:
    # Festival's voices (voice set 4: women, a boy and a man from real speakers), each
    # with the syllables it is trained with: every one on its pitch and onset.
    from vocalmidi.train.voices import TRAIN_FESTIVAL

    name, female, syllables = TRAIN_FESTIVAL[index]
    _common(SyllableVoice(name, female, syllables))


def test_syllable_onset_after_unvoiced_consonant_is_the_voicing_start() -> None:
    voice = SyllableVoice("de+m2", female=False, syllables=("pa", "ta", "ka"))
    audio, truth = voice.render(PHRASE[:2], SR, 3)
    f0, t = _f0(audio)
    db = _level_db(audio)
    for n in truth:
        near = (t > n.start - 0.06) & (t < n.start + 0.06) & (f0 > 0)
        voiced_at = float(t[near][0])
        # dio decides voicing on 5 ms frames with a window reaching a frame or two on
        # either side: 15 ms is its resolution here.
        assert abs(voiced_at - n.start) < 0.015, (voiced_at, n.start)
        # The burst and aspiration are heard before the onset.
        assert _energy_onset(db, n.start) < n.start - 0.01
    _check_pitch(audio, truth)


def test_syllable_seeds_differ_and_legato_glides() -> None:
    voice = SyllableVoice("it+f4")
    legato = [Note(0.3, 0.75, 62, 96), Note(0.7, 1.2, 65, 96), Note(1.15, 1.6, 67, 96)]
    a, truth = voice.render(legato, SR, 1)
    b, _ = voice.render(legato, SR, 2)
    assert not np.array_equal(a, b)
    _check_pitch(a, truth)


@pytest.mark.parametrize("kind", ["mm", "whistle", "sine"])
def test_hum_voice(kind: str) -> None:
    _common(HumVoice(kind))


def test_sine_is_one_partial() -> None:
    """``hum:sine`` (voice set 8) is a test tone: the second harmonic 60 dB and more under
    the fundamental, where the plain tone's is 3-12 dB under."""
    audio, _ = HumVoice("sine").render([Note(0.1, 1.1, 45, 100)], SR, 3)
    spectrum = np.abs(np.fft.rfft(audio[int(0.3 * SR):int(0.9 * SR)]))
    hz = np.fft.rfftfreq(int(0.6 * SR), 1.0 / SR)
    level = {f: spectrum[np.abs(hz - f).argmin()] for f in (110.0, 220.0)}
    assert hz[spectrum.argmax()] == pytest.approx(110.0, abs=2.0)
    assert 20 * np.log10(level[220.0] / level[110.0]) < -60.0


def _need(font: str) -> None:
    if font not in available_soundfonts():
        pytest.skip(f"SoundFont {font} not installed")


def test_calibrated_gm_patch_is_voice_like_and_uncalibrated_is_not() -> None:
    _need("timgm6mb")
    program = GM_PATCHES["choir_aahs"]
    raw = measure_patch("timgm6mb", program, None, pitches=(60,))
    voice = GMVoice("timgm6mb", "choir_aahs")
    cal = measure_patch("timgm6mb", program, *voice.calibration, pitches=(60,))
    assert cal.attack_s <= ATTACK_MAX_S and cal.release_s <= RELEASE_MAX_S, cal
    assert raw.release_s > RELEASE_MAX_S  # the patch as shipped rings on
    _common(voice)


# Legato changes, each note held 35 ms into the next as eval.perform's longest overlap.
LEGATO = [Note(0.30, 0.735, 57, 96), Note(0.70, 1.135, 60, 96), Note(1.10, 1.535, 62, 96),
          Note(1.50, 1.935, 59, 96), Note(1.90, 2.40, 64, 96)]


def _new_pitch_heard_ms(audio: np.ndarray, truth: list[Note]) -> list[float]:
    """Per legato change: ms from its note-on to the first two frames on its pitch."""
    f0, t = _f0(audio)
    out = []
    for n in truth[1:]:
        on = np.zeros(f0.size, bool)
        on[f0 > 0] = np.abs(_cents(f0[f0 > 0], n.pitch)) < 50.0
        k0 = int(np.searchsorted(t, n.start))
        k = next((k for k in range(k0, k0 + 60) if on[k] and on[k + 1]), k0 + 60)
        out.append(1000.0 * (t[k] - n.start))
    return out


def test_gm_patch_glides_legato_like_a_singer_where_a_keyboard_holds_two_notes() -> None:
    # The evaluation set (version 4) sings the patches' legato changes as glides: the new
    # pitch must be heard within 30 ms of its note-on, as in the syllable voices' glides.
    # Played as a keyboard legato, the old note drowns the new one for far longer.
    _need("timgm6mb")
    glide = GMVoice("timgm6mb", "choir_aahs", legato="glide")
    audio, truth = glide.render(LEGATO, SR, 3)
    assert [n.pitch for n in truth] == [n.pitch for n in LEGATO]
    assert max(_new_pitch_heard_ms(audio, truth)) <= 30.0
    _check_pitch(audio, truth)
    keys, truth_k = GMVoice("timgm6mb", "choir_aahs").render(LEGATO, SR, 3)
    assert np.median(_new_pitch_heard_ms(keys, truth_k)) > 40.0
    _common(glide)  # detached notes, repeats and onsets as in the keyboard rendering
    with pytest.raises(UsageError, match="unknown legato"):
        GMVoice("timgm6mb", "choir_aahs", legato="slur")


def test_training_and_validation_voices_are_apart() -> None:
    train = training_voices()
    val = validation_voices()
    names_t, names_v = {v.name for v in train}, {v.name for v in val}
    assert not names_t & names_v
    for v in train:
        if v.name.startswith("gm:"):
            assert v.name.split(":")[1] == "fluidr3"
    assert any(v.name.startswith("syllable:") for v in train)
    assert any(v.name.startswith("hum:") for v in train)
    installed = set(available_soundfonts()) & set(VALIDATION_SOUNDFONTS)
    for font in installed:
        assert any(v.name.startswith(f"gm:{font}:") for v in val)
    # No espeak variant is shared either.
    variants = {n.split("+")[-1] for n in names_t if n.startswith("syllable:")}
    assert not variants & {n.split("+")[-1] for n in names_v if n.startswith("syllable:")}


def test_bad_input_is_a_clear_error() -> None:
    voice = HumVoice("oo")
    with pytest.raises(UsageError, match="empty"):
        voice.render([], SR, 0)
    with pytest.raises(UsageError, match="start together"):
        voice.render([Note(0.1, 0.5, 60), Note(0.1, 0.4, 64)], SR, 0)
    with pytest.raises(UsageError, match="sample rate"):
        voice.render(PHRASE, 1000, 0)
    with pytest.raises(UsageError, match="unknown hum kind"):
        HumVoice("yodel")


def test_eval_set_is_sung_by_validation_voices_on_held_apart_melodies() -> None:
    from vocalmidi.eval.dataset import eval_melody_names, plan_takes
    from vocalmidi.train.voices import TRAIN_ESPEAK, TRAIN_SOUNDFONTS

    held = set(eval_melody_names())
    val = {v.name for v in validation_voices()}
    for quick in (True, False):
        plans = plan_takes(quick)
        kinds = {p.soundfont for p in plans}
        assert "espeak" in kinds and kinds - {"espeak"}  # syllable voices and patches
        for p in plans:
            assert p.melody.name in held
            assert p.singer().name in val
            assert p.soundfont not in TRAIN_SOUNDFONTS
            assert p.patch not in {v for v, _ in TRAIN_ESPEAK}
