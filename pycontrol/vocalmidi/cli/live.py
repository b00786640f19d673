"""`vocalmidi live`: sing into a JACK input, get MIDI out, in real time.

The engine runs in the C++ JACK process callback (libvocalmidi_live); this command loads
the model, connects ports, forwards the notes to a python-rtmidi port and shows a live
view. Ctrl-C (or SIGTERM, or --duration) stops cleanly: every sounding note gets its
note-off on both outputs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import TYPE_CHECKING

from vocalmidi.cli.engine_params import engine_params

if TYPE_CHECKING:
    from vocalmidi.live.native import LiveEvent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="voice to MIDI in real time through JACK",
                       description="Run the engine on a JACK audio input and send MIDI out.")
    p.add_argument("--model", help="model id from the model cache, or a path to an .onnx file")
    p.add_argument("--kind", help="adapter of a model given as a path (default swiftf0)")
    p.add_argument("--preset", help="manifest preset, e.g. live-fast")
    p.add_argument("--server", help="JACK server name (default: $JACK_DEFAULT_SERVER or default)")
    p.add_argument("--name", default="vocalmidi", help="JACK client name")
    p.add_argument("--connect", action="append", default=[], metavar="PORT",
                   help="JACK port to connect: an audio capture port to our input, or a MIDI "
                   "input to our MIDI output (repeatable)")
    p.add_argument("--midi-port", help="send to this existing MIDI input instead of opening "
                   "a virtual port")
    p.add_argument("--midi-api", choices=("jack", "alsa", "none"), default="jack",
                   help="python-rtmidi API for the forwarded output (none: JACK port only)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--sensitivity", type=float, help="0..1, higher finds quieter notes")
    p.add_argument("--min-note-ms", type=float, help="shortest note emitted, ms")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any engine parameter (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no live view: print one line per note instead")
    p.set_defaults(func=run)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_notes(events: Iterable[LiveEvent], note_name: Callable[[int], str]) -> None:
    """One line per note-on/off: frame, on/off, name, number, velocity."""
    for ev in events:
        if ev.type in (0, 1):
            kind = "on " if ev.type == 0 else "off"
            print(f"{ev.frame}\t{kind}\t{note_name(ev.note)}\t{ev.note}\t{ev.velocity}",
                  flush=True)


def run(args: argparse.Namespace) -> int:
    from vocalmidi.live.session import LiveSession
    from vocalmidi.live.view import note_name, render
    from vocalmidi.transcribe import resolve_model

    model, preset_params = resolve_model(args.model, args.preset, args.kind)
    params = {k: float(v) if not isinstance(v, str) else v for k, v in preset_params.items()}
    params.update(engine_params(args))
    from vocalmidi.engine import _enum_value

    session = LiveSession(
        model_path=str(model.path), kind=model.adapter,
        params={k: _enum_value(k, v) for k, v in params.items()},
        server=args.server, client_name=args.name, midi_port=args.midi_port,
        midi_api=None if args.midi_api == "none" else args.midi_api, connect=args.connect,
    )
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    session.start()
    assert session.client is not None
    print(f"vocalmidi live: {model.id} on {session.client.input_port} -> "
          f"{session.client.output_port}"
          + (f" and {session.forwarder.port_name}" if session.forwarder else ""),
          file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    sent = 0
    try:
        if args.quiet:
            while deadline is None or time.monotonic() < deadline:
                _print_notes(session.pump(), note_name)
                time.sleep(0.002)
        else:
            from rich.console import Console
            from rich.live import Live

            with Live(render(session), console=Console(stderr=True), refresh_per_second=15,
                      transient=False) as live:
                last = 0.0
                while deadline is None or time.monotonic() < deadline:
                    session.pump()
                    now = time.monotonic()
                    if now - last > 1 / 15:
                        live.update(render(session))
                        last = now
                    time.sleep(0.002)
    except KeyboardInterrupt:
        pass
    finally:
        if args.quiet:  # notes already sent but not yet printed when the stop came
            _print_notes(session.pump(), note_name)
        sent = session.stop()
        if args.quiet:  # ...and those that went out while it stopped
            _print_notes(session.stop_events, note_name)
        signal.signal(signal.SIGTERM, previous)
    print(f"vocalmidi live: stopped, {session.notes_played} notes played, "
          f"{sent} note(s) ended on stop", file=sys.stderr)
    return 0
