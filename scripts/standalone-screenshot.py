#!/usr/bin/env python3
"""Re-make docs/images/standalone.png: the VocalMIDI Standalone tracking a sung melody.

The Standalone runs on a private Xvfb display and a JACK server (dummy driver, no sound
card); the demo take (``vocalmidi demo``'s folk tune, FluidSynth "Voice Oohs") plays into
its input in real time, and the window is captured while the notes are on the piano roll.

    .venv/bin/python scripts/standalone-screenshot.py [--out PATH] [--at SECONDS]

Needs the built plugin (``make build``), Xvfb, jackd, FluidSynth with the FluidR3 GM
SoundFont, and the default model in the cache (pulled here if missing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "standalone.png")
    parser.add_argument("--at", type=float, default=10.5,
                        help="seconds into the take to capture (default: 10.5)")
    args = parser.parse_args()

    from vocalmidi import native
    from vocalmidi.eval.render import render_demo_melody
    from vocalmidi.hosts.standalone import StandaloneRun
    from vocalmidi.hosts.xdisplay import save_png
    from vocalmidi.models import pull

    program = native.plugin_paths().standalone
    if program is None:
        print("the Standalone is not built: run make build", file=sys.stderr)
        return 3
    pull()  # the default model, into the cache the plugin reads ($VOCALMIDI_CACHE or the user's)
    with tempfile.TemporaryDirectory() as tmp:
        audio, _, _ = render_demo_melody(Path(tmp) / "demo.wav", sample_rate=48000)
    with StandaloneRun(program) as run:
        run.play(audio, until=args.at)
        image = run.window()
    save_png(image, args.out)
    print(f"{args.out}: {image.shape[1]}x{image.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
