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
- the short window's level in dB / 10 (log10 of the raw samples' mean square);
- optionally (``mid_window=512``, a recipe's ``[model] mid_window``) the last 512 samples
  (Hann): log10 power of rfft bins ``MID_BINS`` (31 Hz to 4 kHz at 31 Hz spacing),
  appended after the level. Why: at a legato change the long window still holds ~45 ms
  of the previous note when the new one is 20 ms old, and the short window cannot
  resolve low voices' harmonics; the middle one hears the new note sooner than the long
  one at twice the short one's resolution. Same right edge, so no added lookahead.
"""

from __future__ import annotations

import torch

from vocalmidi.train.contract import HOP, MID_WINDOW, SHORT_WINDOW, WINDOW

__all__ = ["FEATURES", "LONG_BINS", "MID_BINS", "SHORT_BINS", "FrontEnd", "feature_count"]

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


def _split(size: int) -> tuple[int, int]:
    """``size = rows * cols`` with ``rows <= cols`` as close as possible (32 x 32, 16 x 32)."""
    rows = int(size ** 0.5)
    while size % rows:
        rows -= 1
    return rows, size // rows


def _dft_factors(size: int, bins: int) -> dict[str, torch.Tensor]:
    """Constants of a two-stage (Cooley-Tukey, ``size = A * B``) real DFT of ``size``
    points that returns bins ``[0, bins)``: sample ``m = B * m1 + m2``, bin ``k = k1 + A * k2``.

    Stacked so each stage is one MatMul: ``f`` is ``[f_re; f_im; f_re; f_im]`` (4A x A),
    ``tw`` the twiddles that turn its rows into ``y_re*tw_re - y_im*tw_im`` and
    ``y_re*tw_im + y_im*tw_re`` once row pairs are summed, and ``g`` the real form
    ``[[g_re, g_im], [-g_im, g_re]]`` (2B x 2K2) of the B-point DFT.
    """
    a_n, b_n = _split(size)
    k2_count = -(-bins // a_n)
    a = torch.arange(a_n, dtype=torch.float64)
    b = torch.arange(b_n, dtype=torch.float64)
    f = -2.0 * torch.pi * torch.outer(a, a) / a_n  # A-point DFT angles [k1, m1]
    tw = -2.0 * torch.pi * torch.outer(a, b) / size  # twiddles [k1, m2]
    g = -2.0 * torch.pi * torch.outer(b, b[:k2_count]) / b_n  # B-point DFT angles [m2, k2]
    f_re, f_im = torch.cos(f), torch.sin(f)
    tw_re, tw_im = torch.cos(tw), torch.sin(tw)
    g_re, g_im = torch.cos(g), torch.sin(g)
    return {"f": torch.cat([f_re, f_im, f_re, f_im]).float(),
            "tw": torch.cat([tw_re, -tw_im, tw_im, tw_re]).float(),
            "g": torch.cat([torch.cat([g_re, g_im], 1), torch.cat([-g_im, g_re], 1)]).float()}


class _Dft(torch.nn.Module):
    """Power spectrum ``|DFT(x)|^2`` of real frames, bins ``[lo, hi)``, as two stages of
    small matrix products (``N = A * B``: an A-point DFT over the rows, twiddles, a
    B-point DFT over the columns, only the columns the bins need).

    Why not ``torch.fft``/ONNX ``DFT``: ONNX Runtime's CPU ``DFT`` cost ~120 µs per frame
    here (a quarter of a core at 200 frames/s, measured), while these MatMuls cost a few
    µs and their constants are ~10 k floats; the values equal ``rfft`` to float rounding.
    Real and imaginary parts travel stacked in one tensor, so the graph has ~14 nodes per
    window: after a pause between hops each node costs ONNX Runtime a few µs of cold
    caches, more than its arithmetic (measured, docs/note-model.md).
    """

    def __init__(self, size: int, lo: int, hi: int) -> None:
        super().__init__()
        self.lo, self.hi = lo, hi
        self.rows, self.cols = _split(size)
        self.k2 = -(-hi // self.rows)
        for name, value in _dft_factors(size, hi).items():
            self.register_buffer(name, value, persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, size]`` real -> ``[N, hi - lo]`` power."""
        a, b, k2 = self.rows, self.cols, self.k2
        x = frames.reshape(-1, a, b)  # [m1, m2], sample m = cols * m1 + m2
        y = torch.matmul(self.f, x) * self.tw  # [4A, m2]: the four products of the twiddle
        z = y.reshape(-1, 2, 2, a, b).sum(2)  # [re/im, k1, m2]
        z = z.transpose(1, 2).reshape(-1, a, 2 * b)  # [k1, (re m2 | im m2)]
        out = torch.matmul(z, self.g)  # [k1, (re k2 | im k2)]
        power = (out * out).reshape(-1, a, 2, k2).sum(2)  # [k1, k2]
        # bin k = k1 + rows * k2: k2-major order
        return power.transpose(1, 2).reshape(-1, a * k2)[:, self.lo:self.hi]


class FrontEnd(torch.nn.Module):
    """Frames ``cat(ctx, audio)`` at hop ``HOP`` and returns ``[B, n, features]``.

    Framing stacks shifted slices of the hop grid (``Slice``/``Concat`` in the graph, a
    dynamic number of hops; ``Tensor.unfold`` does not export cleanly with dynamic sizes
    and a computed-index ``Gather`` cost ~35 µs per frame in ONNX Runtime). The slices
    end at fixed offsets from the end, so the graph computes no indices.
    """

    def __init__(self, mid_window: int = 0) -> None:
        super().__init__()
        self.features = feature_count(mid_window)  # raises on a size it does not have
        self.mid_window = mid_window
        self.register_buffer("long_window", torch.hann_window(WINDOW, periodic=True),
                             persistent=False)
        self.register_buffer("short_window", torch.hann_window(SHORT_WINDOW, periodic=True),
                             persistent=False)
        self.long_dft = _Dft(WINDOW, *LONG_BINS)
        self.short_dft = _Dft(SHORT_WINDOW, *SHORT_BINS)
        if mid_window:
            self.register_buffer("mid_window_fn", torch.hann_window(MID_WINDOW, periodic=True),
                                 persistent=False)
            self.mid_dft = _Dft(MID_WINDOW, *MID_BINS)

    def frames(self, buf: torch.Tensor) -> torch.Tensor:
        """``[B, CONTEXT + n * HOP]`` samples -> ``[B * n, WINDOW]`` analysis frames."""
        # Left-pad to whole hops: frame j is hops j .. j + _SPAN - 1 minus the pad.
        hops = torch.nn.functional.pad(buf, (_PAD, 0)).reshape(buf.shape[0], -1, HOP)
        last = _SPAN - 1
        stacked = torch.cat([hops[:, i:i - last if i < last else None] for i in range(_SPAN)],
                            dim=-1)
        return stacked[..., _PAD:].reshape(-1, WINDOW)

    def forward(self, buf: torch.Tensor) -> torch.Tensor:
        # The one shape read of the graph: a batch-dynamic copy of it (notemodel/segmented.py)
        # runs takes as segments side by side.
        batch = buf.shape[0]
        frames = self.frames(buf)
        tail = frames[:, WINDOW - SHORT_WINDOW:]
        # Powers first, one log10 for all: the level feature is log10 of the short
        # window's mean square (its level in dB / 10).
        parts = [self.long_dft(frames * self.long_window),
                 self.short_dft(tail * self.short_window),
                 torch.mean(tail * tail, dim=-1, keepdim=True)]
        if self.mid_window:
            parts.append(self.mid_dft(frames[:, WINDOW - MID_WINDOW:] * self.mid_window_fn))
        feats = torch.log10(torch.cat(parts, dim=-1) + POWER_FLOOR)
        return feats.reshape(batch, -1, self.features)
