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
- the short window's level in dB (RMS of the raw samples).
"""

from __future__ import annotations

from typing import Any

import torch

from vocalmidi.train.contract import CONTEXT, HOP, SHORT_WINDOW, WINDOW

__all__ = ["FEATURES", "LONG_BINS", "SHORT_BINS", "FrontEnd", "level_db"]

LONG_BINS = (2, 257)  # rfft bins [2, 257) of the 1,024-sample window
SHORT_BINS = (1, 129)  # rfft bins [1, 129) of the 256-sample window
FEATURES = (LONG_BINS[1] - LONG_BINS[0]) + (SHORT_BINS[1] - SHORT_BINS[0]) + 1
POWER_FLOOR = 1e-10  # -100 dB: keeps log10 finite on digital silence


def level_db(frames: torch.Tensor) -> torch.Tensor:
    """RMS level in dB of the last ``SHORT_WINDOW`` samples of each frame ``[..., WINDOW]``."""
    tail = frames[..., WINDOW - SHORT_WINDOW:]
    return 10.0 * torch.log10(torch.mean(tail * tail, dim=-1) + POWER_FLOOR)


class _PowerSpectrum(torch.autograd.Function):
    """``|rfft(x)|^2`` over the last axis, exported as ONNX ``DFT`` (opset 17).

    The TorchScript exporter has no rule for ``aten::fft_rfft`` and no complex tensors,
    so the whole power spectrum is one function with its own ONNX form: ``DFT``
    (one-sided, real input) then the sum of squares of its real/imaginary pair. No
    gradient is needed: the trainer caches front-end features.
    """

    @staticmethod
    def forward(ctx: object, frames: torch.Tensor) -> torch.Tensor:  # noqa: ARG004
        spec = torch.fft.rfft(frames, dim=-1)
        return spec.real * spec.real + spec.imag * spec.imag

    @staticmethod
    def symbolic(g: Any, frames: Any) -> Any:
        last = g.op("Constant", value_t=torch.tensor([-1], dtype=torch.long))
        x = g.op("Unsqueeze", frames, last)  # [B, n, N, 1]: real signal, one channel
        spec = g.op("DFT", x, axis_i=2, onesided_i=1)  # [B, n, N/2 + 1, 2]
        return g.op("ReduceSum", g.op("Mul", spec, spec), last, keepdims_i=0)


def power_spectrum(frames: torch.Tensor) -> torch.Tensor:
    """One-sided power spectrum of real frames ``[B, n, N]`` -> ``[B, n, N/2 + 1]``."""
    return _PowerSpectrum.apply(frames)


class FrontEnd(torch.nn.Module):
    """Frames ``cat(ctx, audio)`` at hop ``HOP`` and returns ``[1, n, FEATURES]``.

    Framing gathers with a computed index (``arange``), which exports with a dynamic
    number of hops; ``Tensor.unfold`` does not export cleanly with dynamic sizes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("long_window", torch.hann_window(WINDOW, periodic=True),
                             persistent=False)
        self.register_buffer("short_window", torch.hann_window(SHORT_WINDOW, periodic=True),
                             persistent=False)
        self.register_buffer("offsets", torch.arange(WINDOW, dtype=torch.long),
                             persistent=False)

    def frames(self, buf: torch.Tensor) -> torch.Tensor:
        """``[B, CONTEXT + n * HOP]`` samples -> ``[B, n, WINDOW]`` analysis frames."""
        n = (buf.shape[1] - CONTEXT) // HOP
        starts = torch.arange(n, device=buf.device, dtype=torch.long) * HOP
        index = starts.unsqueeze(1) + self.offsets.unsqueeze(0)  # [n, WINDOW]
        return buf[:, index]

    def forward(self, buf: torch.Tensor) -> torch.Tensor:
        frames = self.frames(buf)
        long_pow = power_spectrum(frames * self.long_window)
        short_pow = power_spectrum(frames[..., WINDOW - SHORT_WINDOW:] * self.short_window)
        return torch.cat([
            torch.log10(long_pow[..., LONG_BINS[0]:LONG_BINS[1]] + POWER_FLOOR),
            torch.log10(short_pow[..., SHORT_BINS[0]:SHORT_BINS[1]] + POWER_FLOOR),
            level_db(frames).unsqueeze(-1) / 10.0,
        ], dim=-1)
