#include "dsp/Fft.h"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace vocalmidi {

Fft::Fft(int size) : n(size) {
    if (size < 2 || (size & (size - 1)) != 0) throw std::invalid_argument("Fft: size must be a power of two");
    int bits = 0;
    while ((1 << bits) < n) ++bits;
    swapWith.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        int r = 0;
        for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
        swapWith[static_cast<size_t>(i)] = r;
    }
    twRe.resize(static_cast<size_t>(n / 2));
    twIm.resize(static_cast<size_t>(n / 2));
    const double pi = std::acos(-1.0);
    for (int k = 0; k < n / 2; ++k) {
        twRe[static_cast<size_t>(k)] = std::cos(-2.0 * pi * k / n);
        twIm[static_cast<size_t>(k)] = std::sin(-2.0 * pi * k / n);
    }
}

void Fft::forward(double* re, double* im) const {
    for (int i = 0; i < n; ++i) {
        const int j = swapWith[static_cast<size_t>(i)];
        if (j > i) {
            std::swap(re[i], re[j]);
            std::swap(im[i], im[j]);
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        const int half = len / 2, step = n / len;
        for (int start = 0; start < n; start += len) {
            double* ar = re + start;
            double* ai = im + start;
            double* br = ar + half;
            double* bi = ai + half;
            for (int k = 0; k < half; ++k) {
                const double wr = twRe[static_cast<size_t>(k * step)], wi = twIm[static_cast<size_t>(k * step)];
                const double tr = wr * br[k] - wi * bi[k];
                const double ti = wr * bi[k] + wi * br[k];
                br[k] = ar[k] - tr;
                bi[k] = ai[k] - ti;
                ar[k] += tr;
                ai[k] += ti;
            }
        }
    }
}

}  // namespace vocalmidi
