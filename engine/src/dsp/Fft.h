// In-place radix-2 complex FFT (double precision) of a fixed power-of-two size, and a
// real-input FFT built on one of half the size, for the note model's front end
// (dsp/NoteFrontEnd). Tables are made at construction; forward() allocates nothing, so
// the ML thread may call it.
// Convention: X[k] = sum_n x[n] exp(-2 pi i k n / N), as numpy.fft and the torch DFT of
// pycontrol/vocalmidi/train/features.py.
// Real and imaginary parts in separate arrays, plain doubles: with std::complex the
// butterflies ran 3 times slower here (its operators guard against infinities unless
// -ffast-math; measured: 64 vs 21 µs for 1,024 points). Each stage reads its twiddles
// from a table of its own, in order, so the compiler vectorises the butterflies (a
// stride through one table did not: docs/measurements.md, session 34).
// Thread: Fft::forward() on any number of threads (it writes no member); RealFft::forward()
// on one thread at a time per instance (it uses the instance's work buffers).
#pragma once

#include <vector>

namespace vocalmidi {

class Fft {
public:
    explicit Fft(int size);  // size: a power of two >= 2
    int size() const { return n; }
    void forward(double* re, double* im) const;

private:
    int n;
    std::vector<int> swapWith;       // bit-reversed index of each index
    // Twiddles of the stage whose butterflies span `half` pairs: exp(-2 pi i k / (2 half)),
    // k < half, at [half - 1, 2 half - 1) (stages of half = 1, 2, 4 ... n/2; n - 1 in all).
    std::vector<double> twRe, twIm;
};

// The spectrum of `size` real samples (bins 0..size/2) from one complex FFT of size/2: the
// even samples as the real part, the odd as the imaginary, untangled after. Half the work
// of a complex FFT of the real signal.
class RealFft {
public:
    explicit RealFft(int size);  // size: a power of two >= 4
    int size() const { return n; }
    // Work buffers the caller fills: sample 2m at even()[m], sample 2m + 1 at odd()[m].
    double* even() { return zRe.data(); }
    double* odd() { return zIm.data(); }
    // The spectrum of the samples in even()/odd() (which it overwrites): bins 0..size/2 to
    // re/im (size/2 + 1 values each).
    void forward(double* re, double* im);

private:
    int n;
    Fft half;
    std::vector<double> zRe, zIm;
    std::vector<double> wRe, wIm;  // exp(-2 pi i k / n), k <= n/2
};

}  // namespace vocalmidi
