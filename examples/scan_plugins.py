"""Scan plugins with JUCE from Python (cppyy) and print each one's buses and parameters.

Usage::

    python examples/scan_plugins.py /usr/lib/lv2 --match x42   # a folder of bundles
    python examples/scan_plugins.py "$(vocalmidi plugin path)"  # or bundles themselves

Every ``.vst3`` and ``.lv2`` bundle found is scanned with JUCE's own format classes
(``juce::VST3PluginFormat``, ``juce::LV2PluginFormat``); each plugin in it is instantiated
and its buses, MIDI ports and parameters are read through ``juce::AudioPluginInstance``.
Nothing here is wrapped by vocalmidi: it is JUCE's hosting API as C++ exposes it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

# Before anything else imports cppyy: the module picks Cling's precompiled header.
from vocalmidi.hosts import juce


def bundles(paths: list[Path], match: str) -> Iterator[Path]:
    """The plugin bundles named, or found directly inside the folders named."""
    for path in paths:
        if path.suffix in (".vst3", ".lv2"):
            yield path
        elif path.is_dir():
            yield from (p for p in sorted(path.iterdir())
                        if p.suffix in (".vst3", ".lv2") and match in p.name)


def describe(cpp: juce.JuceBindings, desc: object) -> list[str]:
    """Lines describing one plugin: what it is, its buses, MIDI and parameters."""
    text = juce.pystring
    lines = [f"{text(desc.name)} [{text(desc.pluginFormatName)}] by "
             f"{text(desc.manufacturerName) or '?'}: {text(desc.fileOrIdentifier)}"]
    error = cpp.juce.String()
    instance = cpp.host.py.instantiate(desc, 48000.0, 512, error)
    if not instance:
        return lines + [f"  cannot instantiate: {text(error)}"]
    instance.__python_owns__ = True  # deleted with the Python object, on this thread
    for is_input, kind in ((True, "in"), (False, "out")):
        for i in range(instance.getBusCount(is_input)):
            bus = instance.getBus(is_input, i)
            layout = bus.getCurrentLayout()
            lines.append(f"  {kind:3} bus {i} {text(bus.getName())!r}: "
                         f"{layout.size()} ch ({text(layout.getDescription())})")
    lines.append(f"  MIDI in: {bool(instance.acceptsMidi())}, "
                 f"MIDI out: {bool(instance.producesMidi())}, "
                 f"latency {instance.getLatencySamples()} samples")
    for param in instance.getParameters():
        value, label = text(param.getCurrentValueAsText()), text(param.getLabel())
        unit = f" {label}" if label and not value.endswith(label) else ""
        lines.append(f"  param {param.getParameterIndex():3} {text(param.getName(64))!r}"
                     f" = {value}{unit}")
    del instance
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="plugin bundles or folders of them")
    parser.add_argument("--match", default="", help="only bundles whose name contains this")
    args = parser.parse_args(argv)
    cpp = juce.load()
    failed = 0
    for bundle in bundles(args.paths, args.match):
        try:
            found = juce.scan(bundle)
        except Exception as exc:  # noqa: BLE001 - report the bundle and go on
            print(f"{bundle}: {exc}")
            failed += 1
            continue
        for desc in found:
            print("\n".join(describe(cpp, desc)))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
