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

    .venv/bin/python scripts/gm_legato_takeover.py [--fonts fluidr3 timgm6mb musescore]
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fonts", nargs="+", default=["fluidr3", "timgm6mb", "musescore"])
    args = p.parse_args()
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
