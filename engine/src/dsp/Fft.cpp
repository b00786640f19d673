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
    twRe.resize(static_cast<size_t>(n - 1));
    twIm.resize(static_cast<size_t>(n - 1));
    const double pi = std::acos(-1.0);
    for (int half = 1; half < n; half <<= 1)
        for (int k = 0; k < half; ++k) {
            // the same angles as a table of n/2 read at k * n / (2 half)
            const double angle = -2.0 * pi * (static_cast<double>(k) * (n / (2 * half))) / n;
            twRe[static_cast<size_t>(half - 1 + k)] = std::cos(angle);
            twIm[static_cast<size_t>(half - 1 + k)] = std::sin(angle);
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
    for (int i = 0; i < n; i += 2) {  // the first stage: every twiddle is 1
        const double r = re[i + 1], m = im[i + 1];
        re[i + 1] = re[i] - r;
        im[i + 1] = im[i] - m;
        re[i] += r;
        im[i] += m;
    }
    for (int half = 2; half < n; half <<= 1) {
        const double* wr = twRe.data() + (half - 1);
        const double* wi = twIm.data() + (half - 1);
        for (int start = 0; start < n; start += 2 * half) {
            double* __restrict ar = re + start;
            double* __restrict ai = im + start;
            double* __restrict br = ar + half;
            double* __restrict bi = ai + half;
            for (int k = 0; k < half; ++k) {
                const double tr = wr[k] * br[k] - wi[k] * bi[k];
                const double ti = wr[k] * bi[k] + wi[k] * br[k];
                br[k] = ar[k] - tr;
                bi[k] = ai[k] - ti;
                ar[k] += tr;
                ai[k] += ti;
            }
        }
    }
}

RealFft::RealFft(int size)
    : n(size),
      half(size >= 4 && (size & (size - 1)) == 0
               ? size / 2
               : throw std::invalid_argument("RealFft: size must be a power of two >= 4")),
      zRe(static_cast<size_t>(size / 2)),
      zIm(static_cast<size_t>(size / 2)),
      wRe(static_cast<size_t>(size / 2 + 1)),
      wIm(static_cast<size_t>(size / 2 + 1)) {
    const double pi = std::acos(-1.0);
    for (int k = 0; k <= n / 2; ++k) {
        wRe[static_cast<size_t>(k)] = std::cos(-2.0 * pi * k / n);
        wIm[static_cast<size_t>(k)] = std::sin(-2.0 * pi * k / n);
    }
}

void RealFft::forward(double* re, double* im) {
    half.forward(zRe.data(), zIm.data());
    const int m = n / 2;
    for (int k = 0; k <= m; ++k) {
        // Z[k] and conj(Z[m - k]) (indices mod m) give the even and the odd samples' spectra:
        // E = (Z[k] + conj(Z[m-k])) / 2, O = (Z[k] - conj(Z[m-k])) / 2i; X[k] = E + W^k O.
        const size_t a = static_cast<size_t>(k == m ? 0 : k), b = static_cast<size_t>(k == 0 ? 0 : m - k);
        const double eRe = 0.5 * (zRe[a] + zRe[b]), eIm = 0.5 * (zIm[a] - zIm[b]);
        const double oRe = 0.5 * (zIm[a] + zIm[b]), oIm = -0.5 * (zRe[a] - zRe[b]);
        const double w = wRe[static_cast<size_t>(k)], v = wIm[static_cast<size_t>(k)];
        re[k] = eRe + w * oRe - v * oIm;
        im[k] = eIm + w * oIm + v * oRe;
    }
}

}  // namespace vocalmidi
