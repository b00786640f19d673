"""Run an LV2 plugin in ``jalv`` on a private JACK server and record what it does.

This is the real-time check of the LV2 build: :func:`render_lv2_in_jalv` starts a JACK
server on the dummy driver (:class:`vocalmidi.hosts.jack_server.JackServer`, no sound card
needed), runs the bundle in ``jalv`` (the LV2 reference host), plays a mono buffer into
the plugin's audio inputs in real time and records the MIDI it emits, with the frame each
event came at, and the audio it outputs. Unlike the offline hosts (pedalboard,
:class:`vocalmidi.hosts.PluginHost`), timing here comes from JACK's clock, and the plugin
runs as a host runs it live.

Frames count from the first sample of the played buffer; the plugin's reported latency
is not subtracted. ``jalv`` (Debian: jalv), ``lv2info`` (lilv-utils), ``jackd`` (jackd2)
and the JACK-Client Python package must be installed.

Controls: control ports are set with ``jalv -c``. jalv's console cannot send parameter
changes (lv2:Parameter, how JUCE exposes its parameters) to a plugin without showing its
UI, so VocalMIDI's parameters go in as a saved plugin state (``jalv -l``), in the
plugin's own state format (docs/plugin.md, State).

Examples
--------
>>> result = render_lv2_in_jalv(Path("VocalMIDI.lv2"), voice, 48000,
...                             controls={"MIDI Channel": 10})          # doctest: +SKIP
>>> [(m.sample, m.note) for m in result.messages if m.is_note_on]       # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vocalmidi.child_process import end_child
from vocalmidi.errors import BackendUnavailableError
from vocalmidi.hosts.jack_server import BufferPlayer, JackServer, import_jack
from vocalmidi.hosts.lv2_bundle import Lv2Error, Lv2Plugin, Lv2Port, lv2_path, lv2_plugin
from vocalmidi.hosts.midi import MidiMessage

__all__ = ["JalvError", "JalvResult", "render_lv2_in_jalv"]

VOCALMIDI_URI = "https://vocalmidi.org/plugins/vocalmidi"
# JUCE's base64 (MemoryBlock::toBase64Encoding) and binary XML wrapper (copyXmlToBinary).
_JUCE_B64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
_JUCE_XML_MAGIC = 0x21324356


class JalvError(Lv2Error):
    """jalv could not load or run the plugin."""


@dataclass
class JalvResult:
    """What the plugin did while the buffer played.

    Attributes
    ----------
    events : list of (int, bytes)
        MIDI the plugin emitted: (frame, raw bytes), frames counted from the first played
        sample (the reported latency is included, not subtracted). :attr:`messages` has
        them as :class:`~vocalmidi.hosts.midi.MidiMessage`.
    audio_out : ndarray
        Audio the plugin output, shape (channels, frames), aligned to the input the same
        way (frame 0 = first played sample); as long as the input plus the tail.
    latency_samples : int or None
        The latency the plugin reported at the end (as jalv tells JACK), None when it
        has no latency port.
    sample_rate, period : int
        The JACK server's settings.
    xruns : int
        Cycles JACK reported as late during the playback (0 in a clean run).
    controls : dict
        The control values set, by symbol.
    """

    events: list[tuple[int, bytes]]
    audio_out: np.ndarray
    latency_samples: int | None
    sample_rate: int
    period: int
    xruns: int = 0
    controls: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> list[MidiMessage]:
        """The events as MidiMessage (``sample`` = frame)."""
        return [MidiMessage(frame, data) for frame, data in self.events]


def _juce_base64(data: bytes) -> str:
    value = int.from_bytes(data, "little")
    chars = (len(data) * 8 + 5) // 6
    return f"{len(data)}." + "".join(_JUCE_B64[(value >> (6 * i)) & 63] for i in range(chars))


def _vocalmidi_state_dir(plugin: Lv2Plugin, params: list[tuple[Lv2Port, float]],
                         folder: Path) -> None:
    """Write a jalv state folder (``-l``) that sets VocalMIDI's parameters.

    The state is the plugin's own (``<VocalMIDI version="2">`` with plain values; missing
    parameters take their defaults) in JUCE's LV2 state property ``<uri>:StateString``.
    """
    rows = "".join(f'<PARAM id="{p.uri.rsplit(":", 1)[-1]}" value="{v:.9g}"/>'
                   for p, v in params)
    text = f'<VocalMIDI version="2">{rows}</VocalMIDI>'.encode() + b"\x00"
    blob = _JUCE_XML_MAGIC.to_bytes(4, "little") + len(text).to_bytes(4, "little") + text
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.ttl").write_text(
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
        "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<state.ttl> a pset:Preset ;\n"
        f"\tlv2:appliesTo <{plugin.uri}> ;\n\trdfs:seeAlso <state.ttl> .\n")
    (folder / "state.ttl").write_text(
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
        "@prefix pset: <http://lv2plug.in/ns/ext/presets#> .\n"
        "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
        "<> a pset:Preset ;\n"
        f"\tlv2:appliesTo <{plugin.uri}> ;\n"
        f'\tstate:state [ <{plugin.uri}:StateString> "{_juce_base64(blob)}" ] .\n')


class _Pipe(threading.Thread):
    """Collects the lines a child writes, so its pipe never fills."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


class _Jalv:
    """The jalv process: started, waited for, ended."""

    def __init__(self, plugin: Lv2Plugin, server: JackServer, lv2_path: str,
                 port_controls: dict[str, float], state_dir: Path | None) -> None:
        jalv = shutil.which("jalv")
        if not jalv:
            raise BackendUnavailableError("jalv is not installed (Debian: jalv)")
        self.client_name = f"lv2-{uuid.uuid4().hex[:6]}"
        args = [jalv, "-n", self.client_name, "-x"]
        if state_dir is not None:
            args += ["-l", str(state_dir)]
        for symbol, value in port_controls.items():
            args += ["-c", f"{symbol}={value:.9g}"]
        self.proc = subprocess.Popen(args + [plugin.uri], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**server.env, "LV2_PATH": lv2_path})
        self.out, self.err = _Pipe(self.proc.stdout), _Pipe(self.proc.stderr)
        self.out.start()
        self.err.start()

    def failure(self, what: str) -> JalvError:
        tail = (self.err.text() + "\n" + self.out.text()).strip()[-600:]
        return JalvError(f"jalv {what}: {tail}")

    def wait_for_ports(self, client: Any, count: int, deadline: float) -> None:
        while True:
            if len(client.get_ports(f"^{re.escape(self.client_name)}:")) >= count:
                return
            if self.proc.poll() is not None:
                raise self.failure(f"exited with status {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise self.failure("did not show its JACK ports in time")
            time.sleep(0.05)

    def close(self) -> None:
        # End of input ends jalv's console loop: a clean exit that deactivates the plugin.
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            end_child(self.proc, timeout=5)
        self.out.join(timeout=2)
        self.err.join(timeout=2)


class _LatencyRange(ctypes.Structure):
    _fields_ = [("min", ctypes.c_uint32), ("max", ctypes.c_uint32)]


def _playback_latency(jack: Any, port: Any) -> int:
    """The playback latency JACK has for ``port`` (JACK-Client does not expose it).

    jalv adds the plugin's reported latency to its output ports' playback latency;
    downstream of them is only our recorder, which adds none.
    """
    lib = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
    lib.jack_port_get_latency_range.argtypes = [
        ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_LatencyRange)]
    span = _LatencyRange()
    playback_mode = 1  # JackPlaybackLatency
    pointer = int(jack._ffi.cast("uintptr_t", port._ptr))
    lib.jack_port_get_latency_range(pointer, playback_mode, ctypes.byref(span))
    return int(span.max)


class _Recorder:
    """A JACK client recording audio and MIDI, placed by frame against the player's start.

    A client of its own (not the player's), so JACK orders the graph player -> plugin ->
    recorder within one cycle.
    """

    def __init__(self, jack: Any, server: str, player: BufferPlayer, channels: int,
                 total: int) -> None:
        self.player = player
        self.recorded = np.zeros((channels, total), np.float32)
        self.midi: list[tuple[int, bytes]] = []
        self.xruns = 0
        self.xrun_frames: list[int] = []
        self.last_frame = 0
        self.client = jack.Client(f"rec-{uuid.uuid4().hex[:6]}", servername=server,
                                  no_start_server=True)
        self.ins = [self.client.inports.register(f"in_{i + 1}") for i in range(channels)]
        self.midi_in = self.client.midi_inports.register("midi_in")
        self.client.set_process_callback(self._record)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()

    def _xrun(self, _delay: float) -> None:
        self.xruns += 1
        self.xrun_frames.append(self.client.frame_time - (self.player.start or 0))

    def _record(self, frames: int) -> None:
        now = self.client.last_frame_time
        self.last_frame = now + frames
        start = self.player.start
        if start is None:
            return
        pos = now - start
        lo, hi = max(pos, 0), min(pos + frames, self.recorded.shape[1])
        if lo < hi:
            for ch, port in enumerate(self.ins):
                self.recorded[ch, lo:hi] = port.get_array()[lo - pos : hi - pos]
        for offset, data in self.midi_in.incoming_midi_events():
            self.midi.append((pos + offset, bytes(data)))

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def _split_controls(plugin: Lv2Plugin, controls: Mapping[str, float | str]
                    ) -> tuple[dict[str, float], list[tuple[Lv2Port, float]]]:
    ports: dict[str, float] = {}
    params: list[tuple[Lv2Port, float]] = []
    for key, value in controls.items():
        port, v = plugin.control(key, value)
        if port.index >= 0:
            ports[port.symbol] = v
        else:
            params.append((port, v))
    if params and plugin.uri != VOCALMIDI_URI:
        raise Lv2Error(f"jalv's console cannot set {plugin.name}'s parameters "
                       f"({', '.join(p.name for p, _ in params)}): they are not control ports")
    return ports, params


def render_lv2_in_jalv(
    bundle: str | Path,
    audio: np.ndarray,
    sample_rate: int,
    period: int = 256,
    controls: Mapping[str, float | str] | None = None,
    timeout: float = 120.0,
    *,
    uri: str | None = None,
    tail: float = 1.0,
    settle: float = 0.5,
    inputs: str = "all",
) -> JalvResult:
    """Play ``audio`` through an LV2 plugin in jalv in real time; record MIDI and audio.

    Parameters
    ----------
    bundle : path
        The ``.lv2`` folder.
    audio : ndarray
        Mono float32 samples.
    sample_rate : int
        The JACK server's sample rate (the buffer is played at it).
    period : int
        Frames per JACK cycle (the block size jalv gives the plugin).
    controls : mapping or None
        Control values by LV2 symbol or name, as plain numbers in the control's range
        (a choice: its index) or choice labels (``{"Latency Mode": "Accurate"}``).
    timeout : float
        Seconds the whole run may take, start-up included.
    uri : str or None
        Which plugin, when the bundle holds several.
    tail : float
        Seconds recorded after the buffer ends (add the plugin's latency to this).
    settle : float
        Seconds between the plugin's ports appearing and playback: time for it to load
        its resources (a plugin that loads a model in the background needs it).
    inputs : {"all", "first"}
        Play the buffer into every audio input of the plugin, or only the first.

    Returns
    -------
    JalvResult

    Raises
    ------
    Lv2Error
        When the bundle or plugin is not there, or a control is unknown or out of range
        (:class:`JalvError` when jalv cannot load or run it, or the run takes longer
        than ``timeout``).
    BackendUnavailableError
        When jackd, jalv, lv2info or JACK-Client is missing.
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise Lv2Error(f"audio must be mono (one dimension), got shape {audio.shape}")
    if inputs not in ("all", "first"):
        raise Lv2Error(f"inputs must be 'all' or 'first', not {inputs!r}")
    plugin = lv2_plugin(bundle, uri)
    port_controls, params = _split_controls(plugin, controls or {})
    audio_ins = [p for p in plugin.ports if p.is_audio and "InputPort" in p.types]
    audio_outs = [p for p in plugin.ports if p.is_audio and "OutputPort" in p.types]
    if not audio_ins:
        raise Lv2Error(f"{plugin.name} has no audio input")
    jack = import_jack()
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="vm-jalv-") as tmp, lv2_path(plugin.bundle) as path, \
            JackServer(sample_rate, period) as server:
        state_dir = None
        if params:
            state_dir = Path(tmp) / "state"
            _vocalmidi_state_dir(plugin, params, state_dir)
        host = _Jalv(plugin, server, path, port_controls, state_dir)
        player = recorder = None
        latency = None
        try:
            player = BufferPlayer(server.name, audio)
            recorder = _Recorder(jack, server.name, player, len(audio_outs),
                                 audio.size + int(tail * sample_rate))
            host.wait_for_ports(player.client, len(audio_ins) + len(audio_outs), deadline)
            time.sleep(settle)  # jalv registers the rest of its ports, the plugin loads
            _connect(player, recorder, host.client_name, audio_ins, audio_outs, inputs)
            start = player.play()
            recorder.xruns = 0  # graph changes while connecting count as xruns; not ours
            end = start + recorder.recorded.shape[1]
            while recorder.last_frame < end + period:
                if host.proc.poll() is not None:
                    raise host.failure(f"exited with status {host.proc.returncode} while playing")
                if time.monotonic() > deadline:
                    raise JalvError(f"the run took longer than {timeout:g} s "
                                    f"(JACK at frame {recorder.last_frame - start} "
                                    f"of {recorder.recorded.shape[1]})")
                time.sleep(0.02)
            if plugin.latency_port is not None and audio_outs:
                out = player.client.get_port_by_name(f"{host.client_name}:{audio_outs[0].symbol}")
                latency = _playback_latency(jack, out)
        finally:
            for client in (player, recorder):
                if client is not None:
                    client.close()
            host.close()
    return JalvResult(
        events=list(recorder.midi), audio_out=recorder.recorded, latency_samples=latency,
        sample_rate=sample_rate, period=period, xruns=recorder.xruns,
        controls={**port_controls, **{p.symbol: v for p, v in params}})


def _connect(player: BufferPlayer, recorder: _Recorder, client: str,
             audio_ins: list[Lv2Port], audio_outs: list[Lv2Port], inputs: str) -> None:
    ports = {p.name: p for p in player.client.get_ports(f"^{re.escape(client)}:")}

    def port(symbol: str) -> str:
        name = f"{client}:{symbol}"
        if name not in ports:
            raise JalvError(f"jalv shows no port {name}; it has {', '.join(ports)}")
        return name

    for p in audio_ins if inputs == "all" else audio_ins[:1]:
        player.client.connect(player.port, port(p.symbol))
    for p, rec in zip(audio_outs, recorder.ins, strict=True):
        player.client.connect(port(p.symbol), rec)
    for p in ports.values():
        if p.is_midi and p.is_output:
            player.client.connect(p, recorder.midi_in)
