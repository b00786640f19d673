"""Health checks behind `vocalmidi doctor`: what is built, loadable, present and running.

Each check looks at the real thing (loads the engine library, re-hashes model files,
asks the JACK server), never at a flag file. A check marked ``required`` failing makes
the doctor exit non-zero.
"""

from __future__ import annotations

import ctypes
import glob
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any

from vocalmidi.errors import ModelError, NotBuiltError, VocalMidiError

__all__ = ["Check", "run_checks"]


@dataclass
class Check:
    """One finding.

    Attributes
    ----------
    name : str
        What was checked (``engine``, ``plugin``, ``model:swiftf0``, ...).
    ok : bool
    detail : str
        One line: what was found, or what is wrong and how to fix it.
    required : bool
        Whether VocalMIDI cannot work without it.
    exit_code : int
        Exit code for a failed required check (see vocalmidi.errors).
    info : dict
        Machine-readable details (for ``--json``).
    """

    name: str
    ok: bool
    detail: str
    required: bool = False
    exit_code: int = 1
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_engine() -> list[Check]:
    """The engine library loads and answers; ONNX Runtime's version and providers."""
    from vocalmidi import native

    try:
        path = native.engine_library()
        from vocalmidi.engine import _lib, onnxruntime_info

        version = _lib().vm_version().decode()
    except (NotBuiltError, OSError) as exc:
        return [Check("engine", False, str(exc), True, NotBuiltError.exit_code)]
    checks = [Check("engine", True, f"libvocalmidi {version} at {path}", True,
                    info={"version": version, "path": str(path)})]
    try:
        ort = onnxruntime_info()
        providers = list(ort.get("providers", []))
        checks.append(Check("onnxruntime", True,
                            f"ONNX Runtime {ort.get('version')}, providers: {', '.join(providers)}",
                            True, info=ort))
    except (OSError, ValueError) as exc:
        checks.append(Check("onnxruntime", False, f"ONNX Runtime does not answer: {exc}", True,
                            NotBuiltError.exit_code))
    return checks


def check_plugin() -> list[Check]:
    """Built plugin bundles (VST3 required) and the headless host library."""
    from vocalmidi import native

    try:
        paths = native.plugin_paths()
    except NotBuiltError as exc:
        return [Check("plugin", False, str(exc), True, NotBuiltError.exit_code)]
    found = {k: v for k, v in paths.as_dict().items() if v}
    checks = []
    if paths.vst3:
        checks.append(Check("plugin", True, ", ".join(f"{k} {v}" for k, v in found.items()),
                            True, info=paths.as_dict()))
    else:
        checks.append(Check("plugin", False, "the VST3 plugin is not built: run `make build`",
                            True, NotBuiltError.exit_code, info=paths.as_dict()))
    for what, getter in (("host", native.host_library),):
        try:
            checks.append(Check(what, True, str(getter())))
        except NotBuiltError as exc:
            checks.append(Check(what, False, str(exc)))
    return checks


def check_models() -> list[Check]:
    """Every model of the manifest: cached and verified (SHA-256) or not; default required."""
    from vocalmidi.models.cache import ModelCache
    from vocalmidi.models.manifest import load_manifest

    cache = ModelCache()
    try:
        manifest = cache.read_manifest() or load_manifest()
    except ModelError as exc:
        return [Check("models", False, str(exc), True, ModelError.exit_code)]
    checks = []
    for entry in manifest.models.values():
        results = cache.verify(entry)
        is_default = entry.id == manifest.default_model
        label = f"model:{entry.id}" + (" (default)" if is_default else "")
        if all(r.ok for r in results):
            detail = f"verified in {cache.model_dir(entry.id)}"
            checks.append(Check(label, True, detail, is_default, info={"adapter": entry.adapter}))
            continue
        bad = next(r for r in results if not r.ok)
        if bad.state == "missing":
            detail = f"not downloaded: run `vocalmidi models pull {entry.id}`"
        else:
            detail = (f"{bad.name} is damaged ({bad.state}: {bad.detail}): "
                      f"run `vocalmidi models pull {entry.id}`")
        checks.append(Check(label, False, detail, is_default, ModelError.exit_code))
    checks.insert(0, Check("model cache", True, str(cache.root)))
    return checks


def check_gpu() -> list[Check]:
    """An NVIDIA GPU (optional: the engine runs on the CPU)."""
    devices = sorted(glob.glob("/dev/nvidia[0-9]*"))
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                return [Check("gpu", True, out.stdout.strip().replace("\n", "; "))]
        except (OSError, subprocess.TimeoutExpired):
            pass
    if devices:
        return [Check("gpu", True, f"{len(devices)} NVIDIA device node(s), nvidia-smi unusable")]
    return [Check("gpu", False, "no NVIDIA GPU (the engine runs on the CPU)")]


def check_device() -> list[Check]:
    """The device transcriptions run on (``$VOCALMIDI_DEVICE``, else ``auto``) and why;
    ``info`` holds the full report (``vocalmidi.device.DeviceChoice``)."""
    from vocalmidi.device import ENV_VAR, resolve_device

    choice = resolve_device(os.environ.get(ENV_VAR) or "auto")
    return [Check("device", True, f"{choice.device}: {choice.reason}", info=choice.as_dict())]


def check_jack() -> list[Check]:
    """jackd installed, a server running, and the live client library built."""
    from vocalmidi import native

    checks = []
    jackd = shutil.which("jackd")
    checks.append(Check("jackd", bool(jackd), jackd or "jackd is not installed (Debian: jackd2)"))
    server = os.environ.get("JACK_DEFAULT_SERVER", "default")
    running, why = _jack_server_running()
    checks.append(Check("jack server", running,
                        f"server '{server}' is running" if running else why))
    try:
        live = native.native_dir() / "libvocalmidi_live.so"
        checks.append(Check("live client", live.exists(), str(live) if live.exists() else
                            "libvocalmidi_live.so is not built (needs libjack-jackd2-dev)"))
    except NotBuiltError as exc:
        checks.append(Check("live client", False, str(exc)))
    return checks


_silence: Any = None  # keeps the ctypes callback alive while libjack holds it


def _jack_server_running() -> tuple[bool, str]:
    """Ask libjack directly (never starts a server)."""
    try:
        lib = ctypes.CDLL("libjack.so.0")
    except OSError:
        return False, "libjack is not installed (Debian: libjack-jackd2-0)"
    # libjack prints its connection attempts on stderr: keep the doctor's output clean.
    global _silence
    _silence = ctypes.CFUNCTYPE(None, ctypes.c_char_p)(lambda msg: None)
    lib.jack_set_error_function(_silence)
    lib.jack_set_info_function(_silence)
    lib.jack_client_open.restype = ctypes.c_void_p
    lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int,
                                     ctypes.POINTER(ctypes.c_int)]
    lib.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    no_start_server = 0x01
    client = lib.jack_client_open(b"vocalmidi-doctor", no_start_server, ctypes.byref(status))
    if not client:
        return False, "no JACK server is running (start one, e.g. jackd -d alsa)"
    lib.jack_client_close(client)
    return True, ""


def run_checks() -> list[Check]:
    """All checks, in the order the doctor prints them."""
    checks: list[Check] = []
    for fn in (check_engine, check_plugin, check_models, check_gpu, check_device, check_jack):
        try:
            checks.extend(fn())
        except VocalMidiError as exc:
            checks.append(Check(fn.__name__.removeprefix("check_"), False, str(exc), True,
                                exc.exit_code))
    return checks
