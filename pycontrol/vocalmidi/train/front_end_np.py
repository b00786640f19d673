"""The note model's front end in numpy: what runs before a ``note-features/1`` graph in
Python (:class:`vocalmidi.train.export.OnnxNoteModel`), without torch.

The same numbers as :class:`vocalmidi.train.features.FrontEnd` (the torch one, inside a
``note-model/1`` graph and in training) to float rounding, computed with ``numpy.fft``
in float64; the engine's C++ twin is ``engine/src/dsp/NoteFrontEnd``. Which blocks a model
has comes from its ``vocalmidi.model`` metadata (``mid_window``, ``lag_window``,
``lag_peak``). ``tests/python/test_front_end_np.py`` holds the three together.
"""

from __future__ import annotations

import numpy as np

from vocalmidi.train.contract import (
    CONTEXT,
    HOP,
    LAG_BINS,
    LAG_CLIP,
    LAG_COUNT,
    LAG_FFT,
    LAG_FLOOR,
    LAG_SPAN,
    LAG_STEP,
    LAG_WINDOW,
    LONG_BINS,
    MID_BINS,
    MID_WINDOW,
    POWER_FLOOR,
    SHORT_BINS,
    SHORT_WINDOW,
    WINDOW,
    feature_count,
    lag_period_samples,
)

__all__ = ["NumpyFrontEnd"]


def _hann(size: int) -> np.ndarray:
    """Periodic Hann window (torch.hann_window(size, periodic=True))."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(size) / size)


class NumpyFrontEnd:
    """``cat(ctx, audio)`` (``CONTEXT + n * HOP`` samples) -> ``[n, features]`` float32."""

    def __init__(self, mid_window: int = 0, lag_window: int = 0, lag_peak: bool = False) -> None:
        self.features = feature_count(mid_window, lag_window, lag_peak)  # raises on bad sizes
        self.mid_window, self.lag_window, self.lag_peak = mid_window, lag_window, lag_peak
        self._long, self._short, self._mid = _hann(WINDOW), _hann(SHORT_WINDOW), _hann(MID_WINDOW)
        periods = lag_period_samples()
        k = np.arange(*LAG_BINS, dtype=np.float64)
        theta = 2.0 * np.pi * np.outer(k, periods) / LAG_FFT  # [bins, periods]
        self._cos, self._sin = np.cos(theta), np.sin(theta)
        self._lo = np.round(LAG_SPAN - LAG_WINDOW - periods).astype(np.int64)

    @classmethod
    def from_config(cls, config: dict) -> NumpyFrontEnd:
        """The front end a model's ``vocalmidi.model`` metadata (parsed JSON) names."""
        return cls(int(config.get("mid_window", 0)), int(config.get("lag_window", 0)),
                   bool(config.get("lag_peak", False)))

    def __call__(self, buf: np.ndarray) -> np.ndarray:
        buf = np.asarray(buf, np.float64).reshape(-1)
        n = (len(buf) - CONTEXT) // HOP
        if n < 1 or len(buf) != CONTEXT + n * HOP:
            raise ValueError(f"the front end takes {CONTEXT} + n * {HOP} samples, got {len(buf)}")
        # frame j: the WINDOW samples that end with hop j
        idx = HOP * np.arange(n)[:, None] + np.arange(WINDOW)[None, :]
        frames = buf[idx]
        tail = frames[:, WINDOW - SHORT_WINDOW:]
        parts = [_power(frames * self._long, WINDOW, LONG_BINS),
                 _power(tail * self._short, SHORT_WINDOW, SHORT_BINS),
                 np.mean(tail * tail, axis=-1, keepdims=True)]
        if self.mid_window:
            parts.append(_power(frames[:, WINDOW - MID_WINDOW:] * self._mid, MID_WINDOW, MID_BINS))
        feats = [np.log10(np.concatenate(parts, axis=-1) + POWER_FLOOR)]
        if self.lag_window:
            lags = self._lags(frames[:, WINDOW - LAG_SPAN:])
            feats.append(lags)
            if self.lag_peak:
                feats.append(_peak(lags))
        return np.concatenate(feats, axis=-1).astype(np.float32)

    def _lags(self, span: np.ndarray) -> np.ndarray:
        """Normalised lag correlations (features.py, ``_LagCorrelation``): the cross-spectrum
        of the last ``LAG_WINDOW`` samples and the span, band-limited, back to the periods."""
        start = LAG_SPAN - LAG_WINDOW
        recent = span.copy()
        recent[:, :start] = 0.0
        a = np.fft.rfft(recent, LAG_FFT)[:, LAG_BINS[0]:LAG_BINS[1]]
        b = np.fft.rfft(span, LAG_FFT)[:, LAG_BINS[0]:LAG_BINS[1]]
        c = a * np.conj(b)
        corr = (c.real @ self._cos - c.imag @ self._sin) * (2.0 / LAG_FFT)
        running = np.pad(np.cumsum(span * span, axis=-1), ((0, 0), (1, 0)))
        energy_recent = running[:, LAG_SPAN:] - running[:, start:start + 1]
        energy_before = running[:, self._lo + LAG_WINDOW] - running[:, self._lo]
        denom = energy_recent * (energy_before + LAG_FLOOR * energy_recent)
        return np.clip(corr / np.sqrt(denom + POWER_FLOOR), -LAG_CLIP, LAG_CLIP)


def _power(frames: np.ndarray, size: int, bins: tuple[int, int]) -> np.ndarray:
    spec = np.fft.rfft(frames, size)[:, bins[0]:bins[1]]
    return spec.real ** 2 + spec.imag ** 2


def _peak(lags: np.ndarray) -> np.ndarray:
    """features.py ``lag_peak``: ``h cos(2 pi p)``, ``h sin(2 pi p)``, ``h`` of the highest."""
    top = np.argmax(lags, axis=-1)[:, None]
    three = np.take_along_axis(lags, np.clip(top + np.array([[-1, 0, 1]]), 0, LAG_COUNT - 1), -1)
    below, h, above = three[:, 0:1], three[:, 1:2], three[:, 2:3]
    curve = np.minimum(below + above - 2.0 * h, -1e-3)
    vertex = np.clip(0.5 * (below - above) / curve, -0.5, 0.5)
    angle = (2.0 * np.pi * LAG_STEP) * (top + vertex)
    h = np.clip(h, 0.0, 1.0)
    return np.concatenate([h * np.cos(angle), h * np.sin(angle), h], axis=-1)
