"""Judge int8/fp16 variants of SwiftF0 against the fp32 original.

A variant is worth keeping only if it is smaller or faster *and* still agrees with the
fp32 model. Agreement is measured on a synthetic sung-like signal (harmonic tones with
vibrato, scoops and breath noise, male and female range) as the share of frames the fp32
model calls voiced where the variant's pitch is within 50 cents, plus the share of frames
where both agree on voicing.

Run ``python -m vocalmidi.models.variants`` to print the comparison as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vocalmidi.models.derive import TRANSFORMS, derive
from vocalmidi.models.hashing import sha256_file

RATE = 16000
#: Samples per call in live use: 11 context + 10 new + 10 look-ahead frames of 256, rounded up.
LIVE_WINDOW = 8192


def sung_signal(seconds_per_note: float = 0.8, seed: int = 0) -> np.ndarray:
    """Synthetic singing: harmonic notes with vibrato, scoops, breath noise (16 kHz)."""
    rng = np.random.default_rng(seed)
    notes_hz = [110.0, 146.8, 196.0, 261.6, 329.6, 440.0, 587.3, 784.0, 220.0, 164.8]
    pieces = []
    for f0 in notes_hz:
        n = int(seconds_per_note * RATE)
        t = np.arange(n) / RATE
        vibrato = 0.5 * np.sin(2 * np.pi * 5.5 * t) * np.clip(t / 0.3, 0, 1)  # semitones
        scoop = -1.0 * np.exp(-t / 0.06)  # a scoop up into the note
        freq = f0 * 2 ** ((vibrato + scoop) / 12)
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        tone = sum((0.6**k) * np.sin((k + 1) * phase) for k in range(8))
        envelope = np.clip(t / 0.05, 0, 1) * np.clip((seconds_per_note - t) / 0.05, 0, 1)
        pieces.append(tone * envelope * 0.3 + rng.normal(0, 0.003, n))
        pieces.append(rng.normal(0, 0.003, int(0.15 * RATE)))  # a breath between notes
    return np.concatenate(pieces).astype(np.float32)


@dataclass
class VariantReport:
    """Size, speed and agreement of one variant (``transform == "fp32"`` is the original)."""

    transform: str
    size: int
    sha256: str
    ms_per_second_of_audio: float
    ms_per_live_window: float
    pitch_agreement: float
    voicing_agreement: float
    runs: bool = True
    error: str = ""


def _session(path: Path):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _run(session, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    feeds = {
        "audio": audio[None, :],
        "fmin": np.asarray(46.875, dtype=np.float32),
        "fmax": np.asarray(2093.75, dtype=np.float32),
    }
    pitch, confidence = session.run(["pitch", "confidence"], feeds)
    return np.asarray(pitch[0], np.float64), np.asarray(confidence[0], np.float64)


def _speed(session, audio: np.ndarray, repeats: int = 9) -> float:  # type: ignore[no-untyped-def]
    """Median milliseconds per second of audio (the median resists other load)."""
    _run(session, audio)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _run(session, audio)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)) / (len(audio) / RATE)


def _call_ms(session, window: np.ndarray, repeats: int = 31) -> float:  # type: ignore[no-untyped-def]
    """Median milliseconds of one call on a live-sized window."""
    return _speed(session, window, repeats) * (len(window) / RATE)


def compare(model: Path, transforms: tuple[str, ...] = TRANSFORMS) -> list[VariantReport]:
    """Derive each variant of ``model`` and compare it with the original.

    Returns
    -------
    list of VariantReport
        The original first, then one per transform.
    """
    audio = sung_signal()
    base = _session(model)
    ref_pitch, ref_conf = _run(base, audio)
    voiced = ref_conf >= 0.5
    window = audio[:LIVE_WINDOW]
    reports = [
        VariantReport(
            "fp32",
            model.stat().st_size,
            sha256_file(model),
            _speed(base, audio),
            _call_ms(base, window),
            1.0,
            1.0,
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for transform in transforms:
            out = Path(tmp) / f"{transform}.onnx"
            derive(transform, model, out)
            try:
                session = _session(out)
                pitch, conf = _run(session, audio)
            except Exception as exc:  # a variant onnxruntime cannot run is simply not kept
                line = str(exc).strip().splitlines()[0][:200]
                reports.append(
                    VariantReport(
                        transform,
                        out.stat().st_size,
                        sha256_file(out),
                        float("nan"),
                        float("nan"),
                        0.0,
                        0.0,
                        False,
                        line,
                    )
                )
                continue
            cents = 1200 * np.abs(np.log2(np.maximum(pitch, 1e-6) / np.maximum(ref_pitch, 1e-6)))
            reports.append(
                VariantReport(
                    transform,
                    out.stat().st_size,
                    sha256_file(out),
                    _speed(session, audio),
                    _call_ms(session, window),
                    float(np.mean(cents[voiced] < 50)) if voiced.any() else 0.0,
                    float(np.mean((conf >= 0.5) == voiced)),
                )
            )
    return reports


def wins(report: VariantReport, original: VariantReport, min_agreement: float = 0.99) -> bool:
    """A variant wins when it runs, agrees on >= 99 % of frames, is not slower in live use
    (within 5 %), and is clearly smaller (< 80 %) or faster (< 90 %)."""
    if not report.runs:
        return False
    agrees = min(report.pitch_agreement, report.voicing_agreement) >= min_agreement
    not_slower = report.ms_per_live_window <= 1.05 * original.ms_per_live_window
    better = (
        report.size < 0.8 * original.size
        or report.ms_per_live_window < 0.9 * original.ms_per_live_window
    )
    return agrees and not_slower and better


def main(argv: list[str] | None = None) -> int:
    from vocalmidi.models.memo import get_model_path

    args = argv if argv is not None else sys.argv[1:]
    model = Path(args[0]) if args else get_model_path("swiftf0")
    transforms = tuple(a for a in args[1:]) or TRANSFORMS
    reports = compare(model, transforms)
    out = [
        asdict(r) | {"wins": wins(r, reports[0]) if r.transform != "fp32" else None}
        for r in reports
    ]
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
