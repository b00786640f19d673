"""Which device the engine's ONNX sessions run on: ``auto``, ``cpu`` or ``cuda``.

The engine uses ONNX Runtime's CUDA execution provider only when three things hold: an
NVIDIA GPU is present, the ONNX Runtime library the engine loaded offers that provider
(the ``onnxruntime-gpu`` build, ``pip install vocalmidi[gpu]``), and the user did not ask
for the CPU. Otherwise everything runs on the CPU; asking for ``cuda`` where it cannot
run warns once with the reason and falls back to the CPU rather than failing, so a batch
script written for a GPU machine still runs on a laptop.

The choice reaches the engine through the ``VOCALMIDI_DEVICE`` environment variable,
which the engine reads each time it opens a model session, and which worker processes
(the local pool, Ray actors) inherit.

Examples
--------
>>> from vocalmidi.device import resolve_device
>>> resolve_device("auto").device  # doctest: +SKIP
'cpu'
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Any

from vocalmidi.errors import NotBuiltError, UsageError

__all__ = ["DEVICES", "DeviceChoice", "gpu_names", "gpu_wheel", "resolve_device", "use_device"]

#: What ``--device`` accepts.
DEVICES = ("auto", "cpu", "cuda")
#: The environment variable the engine reads (engine/src/ml/OrtRuntime.cpp).
ENV_VAR = "VOCALMIDI_DEVICE"
CUDA_PROVIDER = "CUDAExecutionProvider"


@dataclass(frozen=True)
class DeviceChoice:
    """The device a transcription runs on, and why.

    Attributes
    ----------
    requested : str
        ``auto``, ``cpu`` or ``cuda``.
    device : str
        ``cpu`` or ``cuda``: what the engine will use.
    reason : str
        One line: why this device (and, after a fallback, what to do about it).
    gpus : list of str
        NVIDIA GPUs found.
    providers : list of str
        Execution providers of the ONNX Runtime library the engine loaded.
    gpu_wheel : str or None
        Version of the installed ``onnxruntime-gpu`` package, if any.
    """

    requested: str
    device: str
    reason: str
    gpus: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    gpu_wheel: str | None = None

    @property
    def fell_back(self) -> bool:
        """``cuda`` was asked for but the CPU is used."""
        return self.requested == "cuda" and self.device == "cpu"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gpu_names() -> list[str]:
    """NVIDIA GPUs on this machine: names from ``nvidia-smi``, else device nodes."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
            if out.returncode == 0 and names:
                return names
        except (OSError, subprocess.TimeoutExpired):
            pass
    return [f"NVIDIA device {p}" for p in sorted(glob.glob("/dev/nvidia[0-9]*"))]


def gpu_wheel() -> str | None:
    """Version of the installed ``onnxruntime-gpu`` package, or None."""
    try:
        return metadata.version("onnxruntime-gpu")
    except metadata.PackageNotFoundError:
        return None


def _engine_providers() -> list[str]:
    from vocalmidi.engine import onnxruntime_info

    try:
        return list(onnxruntime_info().get("providers", []))
    except (OSError, ValueError, NotBuiltError):
        return []


def resolve_device(requested: str = "auto") -> DeviceChoice:
    """Decide the device for ``requested`` on this machine (nothing is changed).

    Parameters
    ----------
    requested : {"auto", "cpu", "cuda"}

    Returns
    -------
    DeviceChoice

    Raises
    ------
    UsageError
        For any other name.
    """
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise UsageError(f"unknown device {requested!r}: use one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return DeviceChoice("cpu", "cpu", "the CPU was asked for")
    gpus, wheel = gpu_names(), gpu_wheel()
    if not gpus:
        # Decided without loading the engine: the whole-take route does not need it.
        return DeviceChoice(requested, "cpu", "no NVIDIA GPU found, running on the CPU",
                            gpus, [], wheel)
    providers = _engine_providers()
    if CUDA_PROVIDER not in providers:
        lib = "the engine's ONNX Runtime" + (f" (onnxruntime-gpu {wheel} is installed, but "
                                             "the engine was built with the CPU library)"
                                             if wheel else "")
        why = (f"{lib} has no CUDA provider, running on the CPU: install vocalmidi[gpu] and "
               "build the engine against it")
    else:
        return DeviceChoice(requested, "cuda", f"{gpus[0]} with ONNX Runtime's CUDA provider",
                            gpus, providers, wheel)
    return DeviceChoice(requested, "cpu", why, gpus, providers, wheel)


_resolve_once = lru_cache(maxsize=None)(resolve_device)
_warned: set[str] = set()


def use_device(requested: str = "auto", *, warn: bool = True) -> DeviceChoice:
    """Resolve ``requested`` (once per process) and tell the engine (``VOCALMIDI_DEVICE``)
    before it opens its next model session.

    Asking for ``cuda`` where it cannot run warns once per process (``warn=False``: the
    caller tells the user itself) and uses the CPU.
    """
    choice = _resolve_once((requested or "auto").lower())
    os.environ[ENV_VAR] = choice.device
    if choice.fell_back and choice.requested not in _warned:
        _warned.add(choice.requested)
        if warn:
            warnings.warn(f"--device cuda: {choice.reason}", RuntimeWarning, stacklevel=2)
    return choice
