#include "dsp/StreamingResampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vocalmidi {

namespace {

double besselI0(double x) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 50; ++k) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        if (term < 1e-12 * sum) break;
    }
    return sum;
}

}  // namespace

void StreamingResampler::configure(int inRate_, int outRate_) {
    rateIn = inRate_;
    rateOut = outRate_;
    const int64_t g = std::gcd<int64_t, int64_t>(rateIn, rateOut);
    num = rateIn / g;
    den = rateOut / g;
    passthrough = (rateIn == rateOut);
    if (passthrough) {
        half = 0;
        taps = 0;
        table.clear();
    } else {
        // Pass band up to 0.45 of the lower rate (singing f0 and its first harmonics sit far
        // below), 16 zero crossings each side for ~80 dB stop band with Kaiser beta 8.
        const double lower = std::min(rateIn, rateOut);
        const double fc = 0.45 * lower / rateIn;  // cycles per input sample
        const double zeroCrossings = 16.0;
        half = static_cast<int>(std::ceil(zeroCrossings / (2.0 * fc)));
        taps = 2 * half;
        const double beta = 8.0;
        const double i0b = besselI0(beta);
        table.assign(static_cast<size_t>(kPhases + 1) * taps, 0.0f);
        for (int p = 0; p <= kPhases; ++p) {
            const double frac = static_cast<double>(p) / kPhases;
            double sum = 0.0;
            std::vector<double> h(taps);
            for (int k = 0; k < taps; ++k) {
                // Tap k multiplies input index n - half + 1 + k; output time is n + frac.
                const double d = (k - half + 1) - frac;
                const double x = 2.0 * fc * d;
                const double sinc = (std::abs(x) < 1e-12) ? 1.0 : std::sin(M_PI * x) / (M_PI * x);
                const double r = d / half;
                const double w = (std::abs(r) >= 1.0) ? 0.0 : besselI0(beta * std::sqrt(1.0 - r * r)) / i0b;
                h[k] = sinc * w;
                sum += h[k];
            }
            // Unity gain at DC for every phase, so a constant stays constant.
            for (int k = 0; k < taps; ++k)
                table[static_cast<size_t>(p) * taps + k] = static_cast<float>(h[k] / sum);
        }
    }
    hist.reserve(static_cast<size_t>(taps) + 65536);
    reset();
}

void StreamingResampler::reset() {
    inCount = 0;
    outCount = 0;
    // Samples before the stream start count as silence.
    hist.assign(static_cast<size_t>(half), 0.0f);
    histStart = -half;
}

int64_t StreamingResampler::inputNeededFor(int64_t outputs) const {
    if (outputs <= 0) return 0;
    if (passthrough) return outputs;
    const int64_t j = outputs - 1;
    return (j * num) / den + half + 1;
}

int64_t StreamingResampler::outputsAvailableFor(int64_t inputs) const {
    if (passthrough) return inputs;
    // Largest j with floor(j*num/den) + half + 1 <= inputs.
    const int64_t nMax = inputs - half - 1;
    if (nMax < 0) return 0;
    // floor(j*num/den) <= nMax  <=>  j*num < (nMax+1)*den  <=>  j <= ((nMax+1)*den - 1)/num
    return ((nMax + 1) * den - 1) / num + 1;
}

void StreamingResampler::process(const float* in, int numIn, std::vector<float>& out) {
    if (passthrough) {
        out.insert(out.end(), in, in + numIn);
        inCount += numIn;
        outCount += numIn;
        return;
    }
    hist.insert(hist.end(), in, in + numIn);
    inCount += numIn;
    const int64_t avail = outputsAvailableFor(inCount);
    for (; outCount < avail; ++outCount) {
        const int64_t t = outCount * num;
        const int64_t n = t / den;
        const int64_t rem = t % den;
        const double pos = static_cast<double>(rem) * kPhases / static_cast<double>(den);
        int p0 = static_cast<int>(pos);
        if (p0 >= kPhases) p0 = kPhases - 1;
        const float a = static_cast<float>(pos - p0);
        const float* x = hist.data() + (n - half + 1 - histStart);
        const float* h0 = table.data() + static_cast<size_t>(p0) * taps;
        float acc0 = 0.0f;
        for (int k = 0; k < taps; ++k) acc0 += h0[k] * x[k];
        float y = acc0;
        if (a > 0.0f) {
            const float* h1 = h0 + taps;
            float acc1 = 0.0f;
            for (int k = 0; k < taps; ++k) acc1 += h1[k] * x[k];
            y = acc0 + a * (acc1 - acc0);
        }
        out.push_back(y);
    }
    // Keep only what the next output still needs.
    const int64_t nextN = (outCount * num) / den;
    const int64_t keepFrom = nextN - half + 1;
    const int64_t drop = std::min<int64_t>(keepFrom - histStart, static_cast<int64_t>(hist.size()));
    if (drop > 4096) {
        hist.erase(hist.begin(), hist.begin() + drop);
        histStart += drop;
    }
}

}  // namespace vocalmidi
