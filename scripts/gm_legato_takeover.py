"""When does the new note of a General-MIDI patch sung legato outweigh the old one?

The evaluation set's patches sing a legato change as a keyboard plays it: the old note is
held 10-35 ms into the new one (``eval.perform``), then released over up to 150 ms (the
patches' calibration), while the new note's sample attacks. A sung-syllable voice glides
from one pitch to the other instead. So at a patch's legato change the truth onset (the
new note-on) comes before the new pitch is the louder one, and no model that names the
pitch it hears can be on time by much. This script renders each note of a joined pair
alone, with the evaluation set's calibration, and prints for each patch how long after
the new note-on the new note is the louder of the two (5 ms frames), and when it is
within 6 dB of its held level.

``--heard`` prints instead when the new pitch is heard in the pair as rendered, played
as a keyboard (evaluation set version 3) and as a glide (version 4, ``GMVoice(...,
legato="glide")``), beside the sung-syllable voices' glide (15-40 ms, eased out) on a
harmonic tone: a harmonic-sum pitch tracker (20 ms windows every 5 ms, 10-cent grid
around the pair) and the first two frames within 50 cents of the new note.

    .venv/bin/python scripts/gm_legato_takeover.py [--fonts fluidr3 timgm6mb musescore] [--heard]
"""

from __future__ import annotations

import argparse

import numpy as np

from vocalmidi.eval.synth import render_notes
from vocalmidi.notes import Note
from vocalmidi.train.voices.gm import GM_PATCHES, GMVoice, _font, calibration_controls

SR = 48000
FRAME = 240  # 5 ms
OLD_ON, CHANGE, NEW_OFF = 0.1, 0.6, 1.2
# Pitch pairs (old, new) up and down, steps to a fifth, low to high voices.
PAIRS = ((57, 60), (60, 62), (64, 62), (62, 67), (69, 65), (52, 55), (72, 74), (65, 64))
OVERLAPS_S = (0.010, 0.020, 0.035)  # eval.perform's range of legato overlaps
PATCHES = ("voice_oohs", "choir_aahs", "synth_voice")  # the evaluation set's patches


def _level_db(x: np.ndarray) -> np.ndarray:
    n = x.size // FRAME
    return 10 * np.log10(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1) + 1e-12)


def takeover(font: str, patch: str) -> np.ndarray:
    """(louder, within 6 dB) in ms after the new note-on, one row per pair and overlap."""
    voice = GMVoice(font, patch)
    kw = {"soundfont": _font(font), "program": GM_PATCHES[patch], "sample_rate": SR,
          "tail": 0.5, "controls": calibration_controls(*voice.calibration)}
    k0 = int(CHANGE * SR) // FRAME
    rows = []
    for old, new in PAIRS:
        b = _level_db(render_notes([Note(CHANGE, NEW_OFF, new)], **kw))
        held = float(np.median(b[k0 + 40:k0 + 80]))
        rise = next((k for k in range(60) if b[k0 + k] > held - 6.0), 60)
        for overlap in OVERLAPS_S:
            a = _level_db(render_notes([Note(OLD_ON, CHANGE + overlap, old)], **kw))
            n = min(a.size, b.size)
            louder = next((k for k in range(60) if k0 + k < n and b[k0 + k] > a[k0 + k]), 60)
            rows.append((5 * louder, 5 * rise))
    return np.array(rows, float)


def _pitch_track(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Per 5 ms frame (centred windows of 20 ms), the pitch (MIDI, 0.1 steps) whose
    harmonics 1-8 (weighted 1/h) hold the most magnitude."""
    win, nfft = 4 * FRAME, 8192
    grid = np.arange(lo - 1.0, hi + 1.0, 0.1)
    f0s = 440.0 * 2.0 ** ((grid - 69.0) / 12.0)
    freqs = np.fft.rfftfreq(nfft, 1.0 / SR)
    w = np.hanning(win)
    out = []
    for c in range(win // 2, x.size - win // 2, FRAME):
        mag = np.abs(np.fft.rfft(x[c - win // 2:c + win // 2] * w, nfft))
        sal = sum(np.interp(h * f0s, freqs, mag) / h for h in range(1, 9))
        out.append(grid[int(np.argmax(sal))])
    return np.array(out)


def _heard_ms(x: np.ndarray, old: int, new: int) -> float:
    """ms from the new note-on to the first two frames within 50 cents of ``new``."""
    p = _pitch_track(x, min(old, new), max(old, new))
    k0 = int(round((CHANGE * SR - 2 * FRAME) / FRAME))  # frame centred on the change
    for k in range(k0, min(k0 + 30, p.size - 1)):
        if abs(p[k] - new) < 0.5 and abs(p[k + 1] - new) < 0.5:
            return 1000.0 * ((k * FRAME + 2 * FRAME) / SR - CHANGE)
    return 150.0


def _sung_glide(old: int, new: int, frames: int) -> np.ndarray:
    """A harmonic tone gliding as the syllable voice's legato does (eased out)."""
    t = np.arange(int((NEW_OFF + 0.5) * SR)) / SR
    x = np.clip((t - CHANGE) / (frames * 0.005), 0.0, 1.0)
    semis = old + (new - old) * (1.0 - (1.0 - x) ** 2)
    phase = 2 * np.pi * np.cumsum(440.0 * 2.0 ** ((semis - 69.0) / 12.0)) / SR
    y = sum(np.sin(h * phase) / h for h in range(1, 9))
    return np.where((t >= OLD_ON) & (t <= NEW_OFF), y, 0.0)


def heard(font: str, patch: str, legato: str) -> np.ndarray:
    """ms until the new pitch is heard, one value per pair and overlap."""
    voice = GMVoice(font, patch, legato=legato)
    out = []
    for i, (old, new) in enumerate(PAIRS):
        for j, overlap in enumerate(OVERLAPS_S):
            pair = [Note(OLD_ON, CHANGE + overlap, old, 100), Note(CHANGE, NEW_OFF, new, 100)]
            x, _ = voice.render(pair, SR, seed=10 * i + j)
            out.append(_heard_ms(x, old, new))
    return np.array(out)


def main_heard(fonts: list[str]) -> None:
    sung = np.array([_heard_ms(_sung_glide(a, b, g), a, b) for a, b in PAIRS for g in (3, 5, 8)])
    print(f"sung-syllable glide (15-40 ms, eased out): median {np.median(sung):.0f} / "
          f"p90 {np.percentile(sung, 90):.0f} ms\n")
    print("| SoundFont | patch | keyboard: new pitch heard, median / p90 ms | "
          "glide: median / p90 ms |")
    print("|---|---|---|---|")
    for font in fonts:
        for patch in PATCHES:
            k, g = heard(font, patch, "keyboard"), heard(font, patch, "glide")
            print(f"| {font} | {patch} | {np.median(k):.0f} / {np.percentile(k, 90):.0f} | "
                  f"{np.median(g):.0f} / {np.percentile(g, 90):.0f} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fonts", nargs="+", default=["fluidr3", "timgm6mb", "musescore"])
    p.add_argument("--heard", action="store_true",
                   help="when the new pitch is heard: keyboard vs glide legato")
    args = p.parse_args()
    if args.heard:
        main_heard(args.fonts)
        return
    print("| SoundFont | patch | new louder than old: median / p90 ms | "
          "new within 6 dB of its held level: median ms |")
    print("|---|---|---|---|")
    for font in args.fonts:
        for patch in PATCHES:
            r = takeover(font, patch)
            print(f"| {font} | {patch} | {np.median(r[:, 0]):.0f} / "
                  f"{np.percentile(r[:, 0], 90):.0f} | {np.median(r[:, 1]):.0f} |")


if __name__ == "__main__":
    main()
