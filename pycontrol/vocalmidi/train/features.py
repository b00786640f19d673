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
- optionally (``lag_window=160``, a recipe's ``[model] lag_window``) ``LAG_COUNT``
  normalised lag correlations: the last 160 samples (10 ms) against the audio one period
  earlier, at the periods of MIDI ``LAG_NOTES`` in half-semitone steps, band-limited to
  1.5 kHz (broad peaks between grid periods, and a small back-projection: the model must
  stay under 2 MB), appended last. Why: the stream's most common false note (stage 10, dev split) is
  a legato change named more than 50 ms late; a spectrum names a new pitch only once its
  window is mostly the new note (16 ms short window too coarse for low voices, the others
  32 and 64 ms), while this correlation needs the new note for 10 ms plus one period, and
  gives the period directly (a pitch the MLP need not learn from log spectra).
- optionally (``lag_peak=True``, a recipe's ``[model] lag_peak``; needs the lag
  correlations) ``PEAK_COUNT`` values read off their highest peak, appended last: the
  peak's pitch, refined between grid points by a parabola through it and its neighbours,
  as ``h cos(2 pi p)`` and ``h sin(2 pi p)`` (``p`` in semitones, ``h`` the peak
  clipped to [0, 1]), and ``h``. Why: in a note's first frames the note head is sure of
  its pitch late (session 20: frame 4-5) and its fine-pitch head is off by 19 / 15 cents
  (median, frames 2 / 3, clean notes sung on pitch after a rest), while this peak is
  off by 10 / 6 (session 21, dev split, ``scripts/note_on_gates.py``). Whether a note
  starts on its pitch or is still scooping into it is in those cents. Stage 24, grown
  with it from a trained model, barely used it (docs/measurements.md, session 21). The
  angle is the pitch's distance from the semitone grid only, so the peak being an octave
  (or an octave and a fifth: 19.02 semitones) off does not matter.
"""

from __future__ import annotations

import torch

from vocalmidi.train.contract import (
    FEATURES,
    HOP,
    LAG_BINS,
    LAG_CLIP,
    LAG_COUNT,
    LAG_FFT,
    LAG_FLOOR,
    LAG_NOTES,
    LAG_SPAN,
    LAG_STEP,
    LAG_WINDOW,
    LONG_BINS,
    MID_BINS,
    MID_WINDOW,
    PEAK_COUNT,
    POWER_FLOOR,
    SHORT_BINS,
    SHORT_WINDOW,
    WINDOW,
    feature_count,
    lag_period_samples,
)

__all__ = ["FEATURES", "LAG_COUNT", "LAG_NOTES", "LONG_BINS", "MID_BINS", "PEAK_COUNT",
           "SHORT_BINS", "FrontEnd", "feature_count", "lag_periods"]

_SPAN = -(-WINDOW // HOP)  # hops a window touches (13)
_PAD = _SPAN * HOP - WINDOW  # zeros before the context so frames align to hops (16)


def lag_periods() -> torch.Tensor:
    """Periods in model samples (float64) of the lag correlations, lowest note first."""
    return torch.from_numpy(lag_period_samples())


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

    def stages(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, size]`` real -> ``[N, k1, (re k2 | im k2)]`` (bin k = k1 + rows * k2)."""
        a, b = self.rows, self.cols
        x = frames.reshape(-1, a, b)  # [m1, m2], sample m = cols * m1 + m2
        y = torch.matmul(self.f, x) * self.tw  # [4A, m2]: the four products of the twiddle
        z = y.reshape(-1, 2, 2, a, b).sum(2)  # [re/im, k1, m2]
        z = z.transpose(1, 2).reshape(-1, a, 2 * b)  # [k1, (re m2 | im m2)]
        return torch.matmul(z, self.g)

    def power(self, out: torch.Tensor) -> torch.Tensor:
        """:meth:`stages` output -> ``[N, hi - lo]`` power."""
        a, k2 = self.rows, self.k2
        power = (out * out).reshape(-1, a, 2, k2).sum(2)  # [k1, k2]
        # bin k = k1 + rows * k2: k2-major order
        return power.transpose(1, 2).reshape(-1, a * k2)[:, self.lo:self.hi]

    def complex(self, out: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        """:meth:`stages` output -> ``[N, 2, hi - lo]``: real and imaginary parts of bins
        ``[lo, hi)`` (``hi`` at most this DFT's own ``hi`` rounded up to whole columns)."""
        a, k2 = self.rows, self.k2
        if hi > a * k2:
            raise ValueError(f"bins up to {a * k2} only, asked {hi}")
        out = out.reshape(-1, a, 2, k2).permute(0, 2, 3, 1)  # [re/im, k2, k1]
        return out.reshape(-1, 2, a * k2)[..., lo:hi]

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``[N, size]`` real -> ``[N, hi - lo]`` power."""
        return self.power(self.stages(frames))


class _LagCorrelation(torch.nn.Module):
    """``[N, LAG_SPAN]`` samples -> ``[N, LAG_COUNT]`` normalised correlations of the last
    ``LAG_WINDOW`` samples with the same stretch one period earlier, at each period of
    :func:`lag_periods` (fractional periods by band-limited interpolation).

    ``c(p) = sum_n a[n] b[n - p]``, with ``b`` the span and ``a`` its last ``LAG_WINDOW``
    samples (zeros before), comes from the cross-spectrum ``A conj(B)`` of both zero-padded
    to ``LAG_FFT`` points (the long window's DFT: same size, so :class:`FrontEnd` runs all
    three in one call and the graph holds its constants once), one MatMul back to the
    periods. Divided by the root of both stretches' energies (differences of one running
    sum of the span's squares), so
    a periodic sound gives ~1 at its period whatever its level; silence gives 0.
    """

    def __init__(self) -> None:
        super().__init__()
        periods = lag_periods()
        k = torch.arange(*LAG_BINS, dtype=torch.float64)
        theta = 2.0 * torch.pi * torch.outer(k, periods) / LAG_FFT  # [bins, periods]
        # c(p) = 2/M * sum_k (Re C_k cos(theta) - Im C_k sin(theta)), C = A conj(B)
        back = torch.cat([torch.cos(theta), -torch.sin(theta)]) * (2.0 / LAG_FFT)
        self.register_buffer("back", back.float(), persistent=False)
        start = LAG_SPAN - LAG_WINDOW
        self.register_buffer("recent", (torch.arange(LAG_SPAN) >= start).float(),
                             persistent=False)
        # The earlier stretch of period p: span samples [first, first + LAG_WINDOW); its
        # energy is a difference of the running sum (index i = sum of samples before i).
        first = torch.round(start - periods).long()
        self.register_buffer("sum_lo", first, persistent=False)
        self.register_buffer("sum_hi", first + LAG_WINDOW, persistent=False)

    def inputs(self, span: torch.Tensor) -> torch.Tensor:
        """``[N, LAG_SPAN]`` -> ``[2N, LAG_FFT]``: the recent part, then the span, zero-padded."""
        both = torch.cat([span * self.recent, span])
        return torch.nn.functional.pad(both, (0, LAG_FFT - LAG_SPAN))

    def forward(self, span: torch.Tensor, spec: torch.Tensor) -> torch.Tensor:
        """The span and the spectra ``[2N, re/im, LAG_BINS]`` of :meth:`inputs`."""
        n = span.shape[0]
        a, b = spec[:n], spec[n:]
        c_re = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]
        c_im = a[:, 1] * b[:, 0] - a[:, 0] * b[:, 1]
        corr = torch.matmul(torch.cat([c_re, c_im], dim=-1), self.back)
        running = torch.nn.functional.pad(torch.cumsum(span * span, dim=-1), (1, 0))
        start = LAG_SPAN - LAG_WINDOW
        energy_recent = running[:, LAG_SPAN:] - running[:, start:start + 1]
        energy_before = running[:, self.sum_hi] - running[:, self.sum_lo]
        # The band limit smears the recent sound a little into a silent earlier stretch, so
        # a plain ratio explodes at an onset after silence: the earlier energy gets a floor
        # of LAG_FLOOR of the recent one (no evidence of a period yet reads ~0), and the
        # result is clipped to +-LAG_CLIP (cached as float16; a flat input for the MLP).
        denom = energy_recent * (energy_before + LAG_FLOOR * energy_recent)
        return torch.clamp(corr / torch.sqrt(denom + POWER_FLOOR), -LAG_CLIP, LAG_CLIP)


def lag_peak(lags: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """``[N, LAG_COUNT]`` correlations -> ``[N, PEAK_COUNT]``: ``h cos(2 pi p)``,
    ``h sin(2 pi p)``, ``h`` for the highest one (``neighbours`` = ``[-1, 0, 1]``, int64).

    ``p``: the peak's grid index times ``LAG_STEP`` plus a parabola's vertex through it and
    its neighbours (indices clipped at the grid's ends), semitones from ``LAG_NOTES[0]``
    (a whole note, so the angle is the same as from MIDI 0).
    """
    top = torch.argmax(lags, dim=-1, keepdim=True)
    three = torch.gather(lags, -1, torch.clamp(top + neighbours, 0, LAG_COUNT - 1))
    below, h, above = three[:, 0:1], three[:, 1:2], three[:, 2:3]
    # a peak curves down: the clamp keeps the division finite on a flat or edge triple
    curve = torch.clamp(below + above - 2.0 * h, max=-1e-3)
    vertex = torch.clamp(0.5 * (below - above) / curve, -0.5, 0.5)
    angle = (2.0 * torch.pi * LAG_STEP) * (top.to(lags.dtype) + vertex)
    h = torch.clamp(h, 0.0, 1.0)
    return torch.cat([h * torch.cos(angle), h * torch.sin(angle), h], dim=-1)


class FrontEnd(torch.nn.Module):
    """Frames ``cat(ctx, audio)`` at hop ``HOP`` and returns ``[B, n, features]``.

    Framing stacks shifted slices of the hop grid (``Slice``/``Concat`` in the graph, a
    dynamic number of hops; ``Tensor.unfold`` does not export cleanly with dynamic sizes
    and a computed-index ``Gather`` cost ~35 µs per frame in ONNX Runtime). The slices
    end at fixed offsets from the end, so the graph computes no indices.
    """

    def __init__(self, mid_window: int = 0, lag_window: int = 0,
                 lag_peak: bool = False) -> None:
        super().__init__()
        # raises on a size it does not have
        self.features = feature_count(mid_window, lag_window, lag_peak)
        self.mid_window = mid_window
        self.lag_window = lag_window
        self.lag_peak = lag_peak
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
        if lag_window:
            self.lag = _LagCorrelation()
        if lag_peak:
            self.register_buffer("neighbours", torch.tensor([[-1, 0, 1]]), persistent=False)

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
        long_in = frames * self.long_window
        if self.lag_window:  # the lag spectra ride along in the long window's DFT call
            span = frames[:, WINDOW - LAG_SPAN:]
            out = self.long_dft.stages(torch.cat([long_in, self.lag.inputs(span)]))
            n = frames.shape[0]
            long_power = self.long_dft.power(out[:n])
            lags = self.lag(span, self.long_dft.complex(out[n:], *LAG_BINS))
        else:
            long_power = self.long_dft(long_in)
        parts = [long_power,
                 self.short_dft(tail * self.short_window),
                 torch.mean(tail * tail, dim=-1, keepdim=True)]
        if self.mid_window:
            parts.append(self.mid_dft(frames[:, WINDOW - MID_WINDOW:] * self.mid_window_fn))
        feats = torch.log10(torch.cat(parts, dim=-1) + POWER_FLOOR)
        if self.lag_window:  # signed correlations: appended after the logs
            feats = torch.cat([feats, lags] + ([lag_peak(lags, self.neighbours)]
                                               if self.lag_peak else []), dim=-1)
        return feats.reshape(batch, -1, self.features)
