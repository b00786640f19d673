"""The note model's front end: audio samples -> per-frame log spectra, inside the graph.

The front end is part of the exported ONNX graph (the engine only feeds samples), and
the trainer runs the same code once per clip to cache features, so training and the
shipped graph see identical numbers.

Per label frame (see :mod:`vocalmidi.train.contract`), from the ``WINDOW`` samples that
end one hop after the frame:

- long window (1,024 samples, Hann): log10 power of rfft bins ``LONG_BINS`` (31 Hz to
  4 kHz at 15.6 Hz spacing) for pitch;
- short window (the last 256 samples, Hann): log10 power of rfft bins ``SHORT_BINS``
  (62.5 Hz to 8 kHz) for attacks and consonants;
- the short window's level in dB (RMS of the raw samples);
- optionally (``mid_window=512``, a recipe's ``[model] mid_window``) the last 512 samples
  (Hann): log10 power of rfft bins ``MID_BINS`` (31 Hz to 4 kHz at 31 Hz spacing),
  appended after the level. Why: at a legato change the long window still holds ~45 ms
  of the previous note when the new one is 20 ms old, and the short window cannot
  resolve low voices' harmonics; the middle one hears the new note sooner than the long
  one at twice the short one's resolution. Same right edge, so no added lookahead.
"""

from __future__ import annotations

import torch

from vocalmidi.train.contract import CONTEXT, HOP, MID_WINDOW, SHORT_WINDOW, WINDOW

__all__ = ["FEATURES", "LONG_BINS", "MID_BINS", "SHORT_BINS", "FrontEnd", "feature_count",
           "level_db"]

LONG_BINS = (2, 257)  # rfft bins [2, 257) of the 1,024-sample window
SHORT_BINS = (1, 129)  # rfft bins [1, 129) of the 256-sample window
MID_BINS = (1, 129)  # rfft bins [1, 129) of the optional 512-sample window
FEATURES = (LONG_BINS[1] - LONG_BINS[0]) + (SHORT_BINS[1] - SHORT_BINS[0]) + 1
POWER_FLOOR = 1e-10  # -100 dB: keeps log10 finite on digital silence
_SPAN = -(-WINDOW // HOP)  # hops a window touches (13)
_PAD = _SPAN * HOP - WINDOW  # zeros before the context so frames align to hops (16)


def feature_count(mid_window: int = 0) -> int:
    """Features per frame of a front end with (``MID_WINDOW``) or without (0) the middle window."""
    if mid_window not in (0, MID_WINDOW):
        raise ValueError(f"mid_window must be 0 or {MID_WINDOW}, got {mid_window}")
    return FEATURES + (MID_BINS[1] - MID_BINS[0] if mid_window else 0)


def level_db(frames: torch.Tensor) -> torch.Tensor:
    """RMS level in dB of the last ``SHORT_WINDOW`` samples of each frame ``[..., WINDOW]``."""
    tail = frames[..., WINDOW - SHORT_WINDOW:]
    return 10.0 * torch.log10(torch.mean(tail * tail, dim=-1) + POWER_FLOOR)


def _split(size: int) -> tuple[int, int]:
    """``size = rows * cols`` with ``rows <= cols`` as close as possible (32 x 32, 16 x 32)."""
    rows = int(size ** 0.5)
    while size % rows:
        rows -= 1
    return rows, size // rows


def _dft_factors(size: int, bins: int) -> dict[str, torch.Tensor]:
    """Constants of a two-stage (Cooley-Tukey, ``size = A * B``) real DFT of ``size``
    points that returns bins ``[0, bins)``: sample ``m = B * m1 + m2``, bin ``k = k1 + A * k2``."""
    a_n, b_n = _split(size)
    k2_count = -(-bins // a_n)
    a = torch.arange(a_n, dtype=torch.float64)
    b = torch.arange(b_n, dtype=torch.float64)
    f = -2.0 * torch.pi * torch.outer(a, a) / a_n  # A-point DFT angles [k1, m1]
    tw = -2.0 * torch.pi * torch.outer(a, b) / size  # twiddles [k1, m2]
    g = -2.0 * torch.pi * torch.outer(b, b[:k2_count]) / b_n  # B-point DFT angles [m2, k2]
    return {"f_re": torch.cos(f).float(), "f_im": torch.sin(f).float(),
            "tw_re": torch.cos(tw).float(), "tw_im": torch.sin(tw).float(),
            "g_re": torch.cos(g).float(), "g_im": torch.sin(g).float()}


class _Dft(torch.nn.Module):
    """Power spectrum ``|DFT(x)|^2`` of real frames, bins ``[0, bins)``, as two stages of
    small matrix products (``N = A * B``: an A-point DFT over the rows, twiddles, a
    B-point DFT over the columns, only the columns the bins need).

    Why not ``torch.fft``/ONNX ``DFT``: ONNX Runtime's CPU ``DFT`` cost ~120 µs per frame
    here (a quarter of a core at 200 frames/s, measured), while these MatMuls cost a few
    µs and their constants are ~10 k floats; the values equal ``rfft`` to float rounding.
    """

    def __init__(self, size: int, bins: int) -> None:
        super().__init__()
        self.size, self.bins = size, bins
        self.rows, self.cols = _split(size)
        for name, value in _dft_factors(size, bins).items():
            self.register_buffer(name, value, persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``[B, n, size]`` real -> ``[B, n, bins]`` power."""
        b, n = frames.shape[0], frames.shape[1]
        x = frames.reshape(b, n, self.rows, self.cols)  # [m1, m2], sample m = cols * m1 + m2
        y_re = torch.matmul(self.f_re, x)  # [k1, m2] = sum over m1
        y_im = torch.matmul(self.f_im, x)
        z_re = y_re * self.tw_re - y_im * self.tw_im
        z_im = y_re * self.tw_im + y_im * self.tw_re
        out_re = torch.matmul(z_re, self.g_re) - torch.matmul(z_im, self.g_im)  # [k1, k2]
        out_im = torch.matmul(z_re, self.g_im) + torch.matmul(z_im, self.g_re)
        power = out_re * out_re + out_im * out_im
        # bin k = k1 + rows * k2: k2-major order
        return power.transpose(-1, -2).reshape(b, n, -1)[..., :self.bins]


class FrontEnd(torch.nn.Module):
    """Frames ``cat(ctx, audio)`` at hop ``HOP`` and returns ``[1, n, FEATURES]``.

    Framing stacks shifted slices of the hop grid (``Slice``/``Concat`` in the graph, a
    dynamic number of hops; ``Tensor.unfold`` does not export cleanly with dynamic sizes
    and a computed-index ``Gather`` cost ~35 µs per frame in ONNX Runtime).
    """

    def __init__(self, mid_window: int = 0) -> None:
        super().__init__()
        feature_count(mid_window)  # raises on a size this front end does not have
        self.mid_window = mid_window
        self.register_buffer("long_window", torch.hann_window(WINDOW, periodic=True),
                             persistent=False)
        self.register_buffer("short_window", torch.hann_window(SHORT_WINDOW, periodic=True),
                             persistent=False)
        self.long_dft = _Dft(WINDOW, LONG_BINS[1])
        self.short_dft = _Dft(SHORT_WINDOW, SHORT_BINS[1])
        if mid_window:
            self.register_buffer("mid_window_fn", torch.hann_window(MID_WINDOW, periodic=True),
                                 persistent=False)
            self.mid_dft = _Dft(MID_WINDOW, MID_BINS[1])

    def frames(self, buf: torch.Tensor) -> torch.Tensor:
        """``[B, CONTEXT + n * HOP]`` samples -> ``[B, n, WINDOW]`` analysis frames."""
        b = buf.shape[0]
        n = (buf.shape[1] - CONTEXT) // HOP
        # Left-pad to whole hops: frame j is hops j .. j + _SPAN - 1 minus the pad.
        hops = torch.nn.functional.pad(buf, (_PAD, 0)).reshape(b, n + _SPAN - 1, HOP)
        stacked = torch.cat([hops[:, i:i + n] for i in range(_SPAN)], dim=-1)
        return stacked[..., _PAD:]

    def forward(self, buf: torch.Tensor) -> torch.Tensor:
        frames = self.frames(buf)
        long_pow = self.long_dft(frames * self.long_window)
        short_pow = self.short_dft(frames[..., WINDOW - SHORT_WINDOW:] * self.short_window)
        parts = [
            torch.log10(long_pow[..., LONG_BINS[0]:LONG_BINS[1]] + POWER_FLOOR),
            torch.log10(short_pow[..., SHORT_BINS[0]:SHORT_BINS[1]] + POWER_FLOOR),
            level_db(frames).unsqueeze(-1) / 10.0,
        ]
        if self.mid_window:
            mid_pow = self.mid_dft(frames[..., WINDOW - MID_WINDOW:] * self.mid_window_fn)
            parts.append(torch.log10(mid_pow[..., MID_BINS[0]:MID_BINS[1]] + POWER_FLOOR))
        return torch.cat(parts, dim=-1)
