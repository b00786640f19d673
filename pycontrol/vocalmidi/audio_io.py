"""Read audio for transcription: files or folders in, mono float32 arrays out.

Anything ``soundfile`` (libsndfile) can read is accepted: WAV, FLAC, OGG/Vorbis, Opus
and, with libsndfile 1.1 or newer, MP3. Any sample rate; several channels are averaged
to mono. Unusable audio (unreadable, empty, NaN or infinite samples) raises
:class:`~vocalmidi.errors.AudioInputError` with a one-line message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vocalmidi.errors import AudioInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "AUDIO_SUFFIXES",
    "audio_digest",
    "check_audio",
    "file_digest",
    "find_audio_files",
    "read_audio",
    "to_mono",
]

#: File suffixes collected from folders (a file named explicitly is tried whatever its suffix).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")


def find_audio_files(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted, de-duplicated list of audio files.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files (taken as they are) and folders (searched recursively for
        :data:`AUDIO_SUFFIXES`).

    Returns
    -------
    list of Path

    Raises
    ------
    AudioInputError
        When an input does not exist, or a folder holds no audio file.
    """
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            in_dir = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            if not in_dir:
                raise AudioInputError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in {path}")
            found.extend(in_dir)
        elif path.is_file():
            found.append(path)
        else:
            raise AudioInputError(f"no such file or folder: {path}")
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average the channels of ``(frames, channels)`` audio; 1-D audio is returned as is.

    A 2-D array with at most 8 rows and more columns is taken as ``(channels, frames)``.
    """
    import numpy as np

    arr = np.asarray(audio)
    if arr.ndim == 1:
        return arr.astype(np.float32, copy=False)
    if arr.ndim != 2:
        raise AudioInputError(f"audio must be 1-D or 2-D (frames, channels), got {arr.ndim}-D")
    if arr.size == 0:
        return np.zeros(0, np.float32)
    if arr.shape[0] <= 8 < arr.shape[1]:
        arr = arr.T
    return arr.mean(axis=1, dtype=np.float64).astype(np.float32)


def check_audio(audio: np.ndarray, sr: float, what: str = "audio") -> np.ndarray:
    """Validate mono audio for transcription and return it as contiguous float32.

    Raises
    ------
    AudioInputError
        Empty audio, NaN or infinite samples, or a non-positive sample rate.
    """
    import numpy as np

    if not (sr and float(sr) > 0):
        raise AudioInputError(f"{what}: sample rate must be > 0, got {sr}")
    arr = np.ascontiguousarray(to_mono(audio), dtype=np.float32)
    if arr.size == 0:
        raise AudioInputError(f"{what} holds no samples")
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(arr.size - np.count_nonzero(finite))
        raise AudioInputError(
            f"{what} holds {bad} NaN/infinite sample(s) of {arr.size}: the file is corrupt"
        )
    return arr


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    audio : numpy.ndarray
        1-D float32, channels averaged.
    sr : int
        The file's sample rate.

    Raises
    ------
    AudioInputError
        When the file is missing, not audio, empty, or holds NaN/infinite samples.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"no such audio file: {path}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AudioInputError(f"cannot read {path} as audio: {msg}") from None
    return check_audio(data, sr, what=str(path)), int(sr)


def file_digest(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (the result cache's key for a file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def audio_digest(audio: np.ndarray, sr: float) -> str:
    """Hex SHA-256 of mono float32 samples and their rate (the cache key for an array)."""
    import numpy as np

    digest = hashlib.sha256()
    digest.update(f"float32:{float(sr)!r}:".encode())
    digest.update(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
    return digest.hexdigest()
