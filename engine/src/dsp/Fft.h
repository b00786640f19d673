// An in-place radix-2 complex FFT (double precision) of a fixed power-of-two size, for the
// note model's front end (dsp/NoteFrontEnd). Tables are made at construction; forward()
// allocates nothing, so the ML thread may call it.
// Convention: X[k] = sum_n x[n] exp(-2 pi i k n / N), as numpy.fft and the torch DFT of
// pycontrol/vocalmidi/train/features.py.
// Real and imaginary parts in separate arrays, plain doubles: with std::complex the
// butterflies ran 3 times slower here (its operators guard against infinities unless
// -ffast-math; measured: 64 vs 21 µs for 1,024 points).
// Thread: forward() on one thread at a time per instance (no shared state is written).
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
    std::vector<double> twRe, twIm;  // exp(-2 pi i k / n), k < n/2
};

}  // namespace vocalmidi
