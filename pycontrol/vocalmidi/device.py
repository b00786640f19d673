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

The engine is built against the CPU library of ONNX Runtime. Where a GPU and the
``onnxruntime-gpu`` package (or ``$VOCALMIDI_ORT_GPU_DIR``, a folder holding its
``libonnxruntime.so.*`` and provider libraries) are there, :func:`load_gpu_runtime` makes
the engine use that package's library instead, before the engine library is loaded: a
copy renamed to the engine's ONNX Runtime SONAME is loaded first, so the engine binds to
it, and ONNX Runtime finds its CUDA provider beside that copy.

Examples
--------
>>> from vocalmidi.device import resolve_device
>>> resolve_device("auto").device  # doctest: +SKIP
'cpu'
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import shutil
import subprocess
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from vocalmidi.errors import NotBuiltError, UsageError

__all__ = ["DEVICES", "DeviceChoice", "gpu_names", "gpu_runtime_dir", "gpu_wheel",
           "load_gpu_runtime", "onnx_providers", "resolve_device", "use_device"]

#: What ``--device`` accepts.
DEVICES = ("auto", "cpu", "cuda")
#: The environment variable the engine reads (engine/src/ml/OrtRuntime.cpp).
ENV_VAR = "VOCALMIDI_DEVICE"
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
#: A folder with a CUDA build of ONNX Runtime's libraries (default: onnxruntime-gpu's).
GPU_DIR_VAR = "VOCALMIDI_ORT_GPU_DIR"
#: The SONAME the engine links ONNX Runtime by (cmake/VocalmidiOnnxRuntime.cmake).
ENGINE_ORT_SONAME = "libvocalmidi_onnxruntime.so"
_PROVIDER_LIBS = ("libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so")


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


def gpu_runtime_dir() -> Path | None:
    """The folder of a CUDA build of ONNX Runtime's libraries: ``$VOCALMIDI_ORT_GPU_DIR``,
    else the installed ``onnxruntime-gpu`` package's ``capi`` folder; None without one."""
    override = os.environ.get(GPU_DIR_VAR)
    if override:
        folder = Path(override)
    else:
        spec = importlib.util.find_spec("onnxruntime") if gpu_wheel() else None
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "capi"
    has_lib = bool(glob.glob(str(folder / "libonnxruntime.so.*")))
    return folder if has_lib and (folder / _PROVIDER_LIBS[1]).is_file() else None


def _mapped(name: str) -> list[str]:
    """Paths of the loaded shared objects of this process whose file name is ``name``."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    return sorted({line.split()[-1] for line in maps if line.endswith("/" + name)})


def load_gpu_runtime() -> str:
    """Make the engine use the CUDA build of ONNX Runtime (see the module notes).

    Must run before the engine library is loaded in this process. The renamed copy is
    kept under ``<cache root>/gpu-runtime/``.

    Returns
    -------
    str
        Empty when the CUDA build is in place, else why not (one line).
    """
    folder = gpu_runtime_dir()
    if folder is None:
        return "no CUDA build of ONNX Runtime found: install vocalmidi[gpu]"
    loaded = _mapped(ENGINE_ORT_SONAME)
    if loaded:
        ours = [p for p in loaded if "gpu-runtime" in p]
        return "" if ours else "the engine had already loaded its CPU ONNX Runtime"
    src = sorted(folder.glob("libonnxruntime.so.*"))[-1]
    want = engine_ort_version()
    have = src.name.removeprefix("libonnxruntime.so.")
    if want and have != want:
        # ONNX Runtime versions its symbols (VERS_<version>): only the same release binds.
        return (f"the CUDA build in {folder} is ONNX Runtime {have}, the engine needs {want}: "
                f"pip install onnxruntime-gpu=={want}")
    patchelf = shutil.which("patchelf")
    if patchelf is None:
        return "patchelf is needed to use onnxruntime-gpu's library (apt-get install patchelf)"
    from vocalmidi.models.cache import cache_root

    st = src.stat()
    dest_dir = cache_root() / "gpu-runtime" / f"{src.name}-{st.st_size}-{st.st_mtime_ns}"
    dest = dest_dir / ENGINE_ORT_SONAME
    try:
        if not dest.is_file():
            dest_dir.mkdir(parents=True, exist_ok=True)
            tmp = dest_dir / f".{ENGINE_ORT_SONAME}.{os.getpid()}.part"
            shutil.copyfile(src, tmp)
            subprocess.run([patchelf, "--set-soname", ENGINE_ORT_SONAME, str(tmp)], check=True,
                           capture_output=True, timeout=120)
            os.replace(tmp, dest)
        for name in _PROVIDER_LIBS:
            # ONNX Runtime loads its providers from its own folder.
            link = dest_dir / name
            if not link.exists():
                link.symlink_to(folder / name)
        _preload_cuda_libraries()
        ctypes.CDLL(str(dest), mode=ctypes.RTLD_GLOBAL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot prepare onnxruntime-gpu's library: {exc}"
    return ""


def engine_ort_version() -> str | None:
    """The ONNX Runtime release the engine library was linked against (from the symbol
    version it needs, ``VERS_<version>``), or None when it cannot be read."""
    import re

    from vocalmidi import native

    try:
        data = native.engine_library().read_bytes()
    except (OSError, NotBuiltError):
        return None
    found = re.search(rb"VERS_(\d+\.\d+\.\d+)", data)
    return found.group(1).decode() if found else None


def _preload_cuda_libraries() -> None:
    """Load CUDA and cuDNN from their pip packages (nvidia-*), as onnxruntime-gpu's own
    Python API does; system-wide CUDA libraries are found without this."""
    try:
        import onnxruntime

        preload = getattr(onnxruntime, "preload_dlls", None)
        if preload is not None:
            preload()
    except Exception:  # best effort: ONNX Runtime itself reports a missing CUDA library
        pass


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
    not_loaded = load_gpu_runtime()
    providers = _engine_providers()
    if CUDA_PROVIDER not in providers:
        lib = "the engine's ONNX Runtime"
        why = (f"{lib} has no CUDA provider ({not_loaded}), running on the CPU")
    else:
        return DeviceChoice(requested, "cuda", f"{gpus[0]} with ONNX Runtime's CUDA provider",
                            gpus, providers, wheel)
    return DeviceChoice(requested, "cpu", why, gpus, providers, wheel)


def onnx_providers(device: str) -> tuple[list[str], str]:
    """Execution providers for a session of the Python ``onnxruntime`` module (the
    whole-take route) on a resolved ``device`` (``cpu`` or ``cuda``).

    Returns
    -------
    providers : list of str
        CUDA first with the CPU behind it (ONNX Runtime puts what CUDA cannot run there),
        or the CPU alone.
    why : str
        Empty, or why ``cuda`` cannot be had from this module (one line).
    """
    if device != "cuda":
        return [CPU_PROVIDER], ""
    try:
        import onnxruntime
    except ImportError:
        return [CPU_PROVIDER], "ONNX Runtime's Python module is not installed"
    if CUDA_PROVIDER not in onnxruntime.get_available_providers():
        return [CPU_PROVIDER], ("the Python onnxruntime module has no CUDA provider "
                                "(pip install 'vocalmidi[gpu]')")
    return [CUDA_PROVIDER, CPU_PROVIDER], ""


_resolve_once = lru_cache(maxsize=None)(resolve_device)
_warned: set[str] = set()


def use_device(requested: str = "auto", *, warn: bool = True) -> DeviceChoice:
    """Resolve ``requested`` (once per process) and tell the engine (``VOCALMIDI_DEVICE``)
    before it opens its next model session.

    Asking for ``cuda`` where it cannot run warns once per process (``warn=False``: the
    caller tells the user itself) and uses the CPU.
    """
    choice = _resolve_once((requested or "auto").lower())
    if choice.requested != "auto":
        # Only an explicit choice binds the engine: "auto" resolved to the CPU here must
        # not force a plugin this process loads later (its Device parameter) off CUDA.
        os.environ[ENV_VAR] = choice.device
    if choice.fell_back and choice.requested not in _warned:
        _warned.add(choice.requested)
        if warn:
            warnings.warn(f"--device cuda: {choice.reason}", RuntimeWarning, stacklevel=2)
    return choice
