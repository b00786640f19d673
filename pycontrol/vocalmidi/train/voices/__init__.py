"""Voices that sing performed notes, for the note model's training and validation data.

Every voice has a ``name`` and one method::

    render(notes, sample_rate, seed) -> (audio, truth)

``notes`` are performed notes (:func:`vocalmidi.eval.perform.perform`: start, end, pitch,
velocity and a ``bend`` curve of absolute (time s, semitones) points). ``audio`` is mono
float32 at ``sample_rate``, time 0 = time 0 of the notes, 0.5 s after the last note-off,
peak -6 dBFS. ``truth`` are the notes as sounded: ``start`` where the onset is in the
audio (exact to < 2 ms; what "onset" means for each voice is in its module docstring),
``end`` the note-off, pitch, velocity and the bend curve. Renders are deterministic
per seed.

Kinds:

- ``syllable:<espeak voice>`` (:mod:`.syllable`): espeak-ng syllables re-pitched with WORLD.
- ``syllable:flite:<name>`` (voice set 2): the same with flite's voices, which are built
  from recordings of real speakers (diphones, statistical parametric voices).
- ``syllable:festival:<name>`` (voice set 4): the same with Festival's voices, also from
  real speakers: three women (Italian, Catalan, Finnish), a boy (Czech) and an American
  man, where flite's training voices are three men.
- ``gm:<soundfont>:<patch>`` (:mod:`.gm`): calibrated General-MIDI patches.
- ``hum:<kind>`` (:mod:`.hum`): humming and whistling made directly.

:func:`training_voices` and :func:`validation_voices` never share a SoundFont or an
espeak voice variant: FluidR3 trains, TimGM6mb and MuseScore General Lite validate;
the espeak variants ``f5``/``m5`` and the French and Dutch voices are held apart, and so
is flite's ``slt`` (its one female voice): a voice made from a real speaker that no
training set hears (``vocalmidi eval make DIR --singer flite:slt``).

Voice sets (``vocalmidi train data --voice-set N``): 1 is what every model until stage 16
heard; 2 adds the training flite voices; 3 has set 2's voices with set 1's share of GM
patches (``generate.VOICE_KIND_SHARE``); 4 adds Festival's voices to set 3; 5 has set 4's
voices, with some singers vibrating from a note's first moment; 7 has set 5's voices and
singers, but its General-MIDI patches glide into a legato change as a singer does
(``GMVoice(legato="glide")``, as the evaluation set's do from its version 4) where sets
1-6 play it as a keyboard does, two notes overlapping; 8 is set 7 with one more hum kind,
a steady pure sine (``hum:sine``: a test tone, which no earlier set held). A set never
changes once a model is trained on it, so a data card's commands make the same files
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from vocalmidi.eval.synth import available_soundfonts
from vocalmidi.notes import Note
from vocalmidi.train.voices.gm import GMVoice, usable_patches
from vocalmidi.train.voices.hum import HUM_KINDS, SET8_KINDS, HumVoice
from vocalmidi.train.voices.syllable import SyllableVoice

__all__ = [
    "TRAIN_ESPEAK",
    "TRAIN_FESTIVAL",
    "TRAIN_FLITE",
    "TRAIN_SOUNDFONTS",
    "VALIDATION_ESPEAK",
    "VALIDATION_FLITE",
    "VALIDATION_SOUNDFONTS",
    "Voice",
    "training_voices",
    "validation_voices",
]

TRAIN_SOUNDFONTS = ("fluidr3",)
VALIDATION_SOUNDFONTS = ("timgm6mb", "musescore")
# (espeak voice+variant, female) - training and held-apart validation voices share no
# variant and no language. ("en" is British English: espeak ignores a variant given
# with "en-gb".)
TRAIN_ESPEAK = (
    ("en-us+f3", True), ("en-us+m3", False), ("en+f2", True), ("en+m1", False),
    ("de+f1", True), ("de+m2", False), ("it+f4", True), ("it+m4", False),
    ("es+f2", True), ("es+m6", False), ("pt+f1", True), ("pt+m7", False),
)
VALIDATION_ESPEAK = (
    ("en-gb-x-rp+f5", True), ("en-us+m5", False), ("fr+f5", True), ("nl+m5", False),
)
# flite's voices (Debian flite): kal16 (a diphone voice), awb and rms (clustergen voices
# of CMU ARCTIC speakers) train; slt, the one female voice, validates.
TRAIN_FLITE = (("flite:kal16", False), ("flite:awb", False), ("flite:rms", False))
VALIDATION_FLITE = (("flite:slt", True),)
# Festival's voices (Debian festival and festvox-* packages; voice set 4): (voice, female
# or a child's range, its syllables). Only the syllables whose onset WORLD finds where
# the voicing is heard (within 8 ms, as tests/python/test_train_voices.py checks): in
# these voices a voiced consonant often starts before or after what WORLD calls voiced.
# Czech "dita" is left out (every syllable's onset 9-22 ms off), and festvox-us-slt-hts
# is never used: it is the validation voice slt's speaker.
TRAIN_FESTIVAL = (
    ("festival:lp_diphone", True, ("la", "pa", "no", "mi", "a", "u", "mmm")),  # Italian woman
    ("festival:upc_ca_ona_hts", True, ("na", "da", "ma", "no", "mi")),  # Catalan woman
    ("festival:suo_fi_lj_diphone", True, ("la", "a", "u")),  # Finnish woman
    ("festival:czech_krb", True,  # Czech boy
     ("la", "na", "da", "ma", "ta", "no", "mi", "a", "u")),
    ("festival:ked_diphone", False, ("la", "na", "no", "u")),  # American man
)


class Voice(Protocol):
    """Something that sings performed notes (see the module docstring)."""

    name: str

    def render(self, notes: Sequence[Note], sample_rate: int,
               seed: int) -> tuple[np.ndarray, list[Note]]: ...


def _gm(fonts: Sequence[str], legato: str = "keyboard") -> list[Voice]:
    have = available_soundfonts()
    return [GMVoice(f, p, legato) for f in fonts if f in have for p in usable_patches(f)]


def training_voices(voice_set: int = 1) -> list[Voice]:
    """FluidR3 calibrated patches, the training espeak voices, hums and a whistle; voice
    sets 2 and 3 add the training flite voices (they differ in shares, not voices), and
    sets 4-8 Festival's voices too (5 and 6 differ in their singers, not their voices;
    7 has set 5's voices with the patches gliding into a legato change; 8 is set 7 and a
    steady pure sine, ``hum:sine``)."""
    if voice_set not in (1, 2, 3, 4, 5, 6, 7, 8):
        raise ValueError(f"unknown voice set {voice_set}: 1 to 8")
    out: list[Voice] = _gm(TRAIN_SOUNDFONTS, "glide" if voice_set >= 7 else "keyboard")
    out += [SyllableVoice(v, female) for v, female in TRAIN_ESPEAK]
    out += [HumVoice(k) for k in HUM_KINDS if voice_set >= 8 or k not in SET8_KINDS]
    if voice_set >= 2:
        out += [SyllableVoice(v, female) for v, female in TRAIN_FLITE]
    if voice_set >= 4:
        out += [SyllableVoice(v, female, syl) for v, female, syl in TRAIN_FESTIVAL]
    return out


def validation_voices() -> list[Voice]:
    """TimGM6mb and MuseScore calibrated patches and the held-apart espeak and flite
    voices."""
    out: list[Voice] = _gm(VALIDATION_SOUNDFONTS)
    out += [SyllableVoice(v, female) for v, female in VALIDATION_ESPEAK + VALIDATION_FLITE]
    return out
