"""What an LV2 bundle holds: its plugins' URIs, ports, parameters and presets.

Read from the bundle's Turtle files and from ``lv2info`` (Debian: lilv-utils), with lilv
looking only at this bundle (and the LV2 specifications), never at other installed copies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocalmidi.errors import BackendUnavailableError, VocalMidiError

__all__ = ["Lv2Error", "Lv2Plugin", "Lv2Port", "lv2_path", "lv2_plugin"]

# Where lilv finds the LV2 specifications (lv2:reportsLatency, atom, midi, ...); LV2_PATH
# replaces the default search path, so these stay on it.
_SPEC_DIRS = ("/usr/lib/lv2", "/usr/local/lib/lv2")


class Lv2Error(VocalMidiError):
    """Not an LV2 bundle, no such plugin, or a control that is unknown or out of range."""

    exit_code = 8


@dataclass(frozen=True)
class Lv2Port:
    """One port (or lv2:Parameter) of an LV2 plugin, as ``lv2info`` describes it."""

    index: int  # -1 for a parameter
    symbol: str
    name: str
    types: frozenset[str]  # short LV2 class names: "InputPort", "AudioPort", ...
    minimum: float | None = None
    maximum: float | None = None
    default: float | None = None
    scale_points: Mapping[str, float] = field(default_factory=dict)
    reports_latency: bool = False
    uri: str = ""  # a parameter's URI

    @property
    def is_control_input(self) -> bool:
        """A control the host sets: an input control port or a parameter (lv2:Parameter)."""
        return {"ControlPort", "InputPort"} <= self.types or "Parameter" in self.types

    @property
    def is_audio(self) -> bool:
        return "AudioPort" in self.types


@dataclass(frozen=True)
class Lv2Plugin:
    """URI, name, ports, parameters and preset names of one plugin in a bundle."""

    uri: str
    name: str
    bundle: Path
    ports: tuple[Lv2Port, ...]
    parameters: tuple[Lv2Port, ...] = ()  # lv2:Parameter controls (JUCE's parameters)
    presets: tuple[str, ...] = ()  # preset labels (a JUCE plugin's program names)

    @property
    def controls(self) -> dict[str, Lv2Port]:
        """Control inputs by symbol."""
        return {p.symbol: p for p in self.ports if p.is_control_input}

    @property
    def latency_port(self) -> Lv2Port | None:
        return next((p for p in self.ports if p.reports_latency), None)

    def control(self, key: str, value: float | str) -> tuple[Lv2Port, float]:
        """Resolve a control by symbol or name and a value by number or scale-point label.

        Raises
        ------
        Lv2Error
            When there is no such control or the value is outside its range.
        """
        controls = {**self.controls, **{p.symbol: p for p in self.parameters}}
        port = controls.get(key) or next((p for p in controls.values() if p.name == key), None)
        if port is None:
            known = ", ".join(f"{p.symbol} ({p.name})" for p in controls.values())
            raise Lv2Error(f"{self.name} has no control {key!r}; controls: {known}")
        if isinstance(value, str):
            if value not in port.scale_points:
                labels = ", ".join(port.scale_points) or "none; give a number"
                raise Lv2Error(f"{port.name}: no choice {value!r} (choices: {labels})")
            value = port.scale_points[value]
        value = float(value)
        lo, hi = port.minimum, port.maximum
        if not np.isfinite(value) or (lo is not None and value < lo) or (
                hi is not None and value > hi):
            raise Lv2Error(f"{port.name}: {value:g} is outside {lo:g}..{hi:g}")
        return port, value


def _lilv_symbol(uri: str) -> str:
    """The symbol lilv (and so jalv) derives for a parameter URI without lv2:symbol."""
    tail = uri.split("#", 1)[1] if "#" in uri else uri.split("?", 1)[-1].rsplit("/", 1)[-1]
    return "".join(c if c.isascii() and (c.isalpha() or c == "_" or (i and c.isdigit()))
                   else "_" for i, c in enumerate(tail))


def _parse_parameters(bundle: Path) -> list[Lv2Port]:
    """The lv2:Parameter controls in a bundle's Turtle files (as JUCE writes them).

    JUCE gives their range in the parameter's own units (a choice: its index) but its
    scale-point values as 0..1; the values here are all in the units the plugin accepts.
    """
    params = []
    for ttl in sorted(bundle.glob("*.ttl")):
        text = ttl.read_text(errors="replace")
        prefixes = dict(re.findall(r"@prefix\s+([\w-]*):\s*<([^>]*)>", text))
        for subject, body in re.findall(
                r"^(\S+)\s+a\s+lv2:Parameter\s*;(.*?)\s\.\s*$", text, re.M | re.S):
            prefix, _, local = subject.strip("<>").partition(":")
            uri = prefixes[prefix] + local if prefix in prefixes else subject.strip("<>")

            def number(key: str, b: str = body) -> float | None:
                m = re.search(rf"lv2:{key}\s+([-+\d.eE]+)", b)
                return float(m.group(1)) if m else None

            label = re.search(r'rdfs:label\s+"((?:[^"\\]|\\.)*)"', body)
            lo, hi = number("minimum"), number("maximum")
            points = {lab: float(v) for lab, v in re.findall(
                r'rdfs:label\s+"((?:[^"\\]|\\.)*)"\s*;\s*rdf:value\s+([-+\d.eE]+)', body)}
            if points and lo is not None and hi is not None and hi > 1 and all(
                    0 <= v <= 1 for v in points.values()):
                step = (hi - lo) / max(1, len(points) - 1)  # choices are evenly spaced
                points = {lab: lo + step * round(v * (len(points) - 1))
                          for lab, v in points.items()}
            params.append(Lv2Port(
                index=-1, symbol=_lilv_symbol(uri), name=label.group(1) if label else local,
                types=frozenset({"Parameter"}), minimum=lo, maximum=hi,
                default=number("default"), scale_points=points, uri=uri))
    return params


@contextmanager
def lv2_path(bundle: str | Path) -> Iterator[str]:
    """An ``LV2_PATH`` under which lilv sees this bundle (and the specifications) only."""
    bundle = Path(bundle).resolve()
    with tempfile.TemporaryDirectory(prefix="vm-lv2-") as tmp:
        (Path(tmp) / bundle.name).symlink_to(bundle, target_is_directory=True)
        yield os.pathsep.join([tmp, *(d for d in _SPEC_DIRS if Path(d).is_dir())])


def _manifest_uris(bundle: Path) -> list[str]:
    manifest = bundle / "manifest.ttl"
    if not manifest.is_file():
        raise Lv2Error(f"{bundle} is not an LV2 bundle (no manifest.ttl)")
    text = manifest.read_text(errors="replace")
    prefixes = dict(re.findall(r"@prefix\s+([\w-]*):\s*<([^>]*)>", text))
    uris = []
    for full, prefix, local in re.findall(
            r"(?:<([^>\s]+)>|([\w-]*):([\w.-]*))\s+a\s+lv2:Plugin\b", text):
        uris.append(full or prefixes.get(prefix, prefix + ":") + local)
    return uris


def _parse_lv2info(text: str) -> tuple[str, list[Lv2Port], tuple[str, ...]]:
    name_match = re.search(r"^\s*Name:\s*(.+)$", text, re.M)
    presets_match = re.search(r"^\s*Presets:(.*?)(?=^\s*Port 0:|\Z)", text, re.M | re.S)
    presets = tuple(ln.strip() for ln in (presets_match.group(1) if presets_match else "")
                    .splitlines() if ln.strip())
    ports = []
    for block in re.split(r"^\s*Port (?=\d+:)", text, flags=re.M)[1:]:
        index = int(block.split(":", 1)[0])

        def field_of(label: str, b: str = block) -> str | None:
            m = re.search(rf"^\s*{label}:\s*(.+)$", b, re.M)
            return m.group(1).strip() if m else None

        def number(label: str) -> float | None:
            v = field_of(label)
            return float(v) if v is not None else None

        types = frozenset(u.rsplit("#", 1)[-1] for u in re.findall(
            r"http://lv2plug\.in/ns/[\w/-]+#\w+", block.split("Symbol:", 1)[0]))
        points = {label: float(v) for v, label in re.findall(
            r'^\s*([-\d.e+]+) = "(.*)"$', block, re.M)}
        ports.append(Lv2Port(
            index=index, symbol=field_of("Symbol") or f"port{index}",
            name=field_of("Name") or "", types=types, minimum=number("Minimum"),
            maximum=number("Maximum"), default=number("Default"), scale_points=points,
            reports_latency="reportsLatency" in block or "lv2core#latency" in block))
    return (name_match.group(1).strip() if name_match else ""), ports, presets


def lv2_plugin(bundle: str | Path, uri: str | None = None) -> Lv2Plugin:
    """Describe a plugin in an LV2 bundle (URI from the manifest, ports from lv2info).

    Parameters
    ----------
    bundle : path
        The ``.lv2`` folder.
    uri : str or None
        Which plugin, when the bundle holds several.

    Raises
    ------
    Lv2Error
        When the folder is not a bundle or the plugin is not in it.
    BackendUnavailableError
        When ``lv2info`` is not installed.
    """
    bundle = Path(bundle).resolve()
    uris = _manifest_uris(bundle)
    if uri is None:
        if len(uris) != 1:
            raise Lv2Error(f"{bundle.name} holds {len(uris)} plugins, pick one by uri: "
                            + ", ".join(uris))
        uri = uris[0]
    elif uri not in uris:
        raise Lv2Error(f"{bundle.name} has no plugin {uri}; it has: {', '.join(uris)}")
    lv2info = shutil.which("lv2info")
    if not lv2info:
        raise BackendUnavailableError("lv2info is not installed (Debian: lilv-utils)")
    with lv2_path(bundle) as path:
        run = subprocess.run([lv2info, uri], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "LV2_PATH": path})
    if run.returncode != 0 or "Port 0:" not in run.stdout:
        raise Lv2Error(f"lv2info could not read {uri} from {bundle}: "
                        f"{(run.stderr or run.stdout).strip()[-300:]}")
    name, ports, presets = _parse_lv2info(run.stdout)
    return Lv2Plugin(uri=uri, name=name, bundle=bundle, ports=tuple(ports),
                     parameters=tuple(_parse_parameters(bundle)), presets=presets)
