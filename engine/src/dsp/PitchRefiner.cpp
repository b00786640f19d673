#include "dsp/PitchRefiner.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace vocalmidi {

namespace {
constexpr double kRate = 16000.0;
// Lags searched at most: the lowest pitch's period times the span's width, plus the ends.
constexpr int kMaxLags = 64;
}  // namespace

float PitchRefiner::refine(const float* end, int64_t available, float pitch) {
    const double p = pitch;
    if (!(p >= kPitchMin && p <= kPitchMax)) return pitch;
    const double period = kRate / (440.0 * std::exp2((p - 69.0) / 12.0));
    // A short period is read over several: the lag's grid is then finer against it.
    const int periods = std::max(1, static_cast<int>(kLagMin / period));
    const int lo = static_cast<int>(std::floor(periods * period * std::exp2(-kSpan / 12.0))) - 1;
    const int hi = static_cast<int>(std::ceil(periods * period * std::exp2(kSpan / 12.0))) + 1;
    const int w = std::max(kWindowMin, static_cast<int>(period));
    if (hi - lo + 1 > kMaxLags || available < static_cast<int64_t>(w) + hi) return pitch;
    const float* x = end - w;
    double xx = 0.0;
    for (int n = 0; n < w; ++n) xx += static_cast<double>(x[n]) * static_cast<double>(x[n]);
    std::array<double, kMaxLags> clarity{};
    int best = 0;
    for (int i = 0; i <= hi - lo; ++i) {
        const float* y = x - lo - i;
        double xy = 0.0, yy = 0.0;
        for (int n = 0; n < w; ++n) {
            const double yn = y[n];
            xy += static_cast<double>(x[n]) * yn;
            yy += yn * yn;
        }
        clarity[static_cast<size_t>(i)] = 2.0 * xy / (xx + yy + 1e-12);
        if (clarity[static_cast<size_t>(i)] > clarity[static_cast<size_t>(best)]) best = i;
    }
    if (clarity[static_cast<size_t>(best)] < kMinClarity || best == 0 || best == hi - lo) return pitch;
    const double before = clarity[static_cast<size_t>(best - 1)], peak = clarity[static_cast<size_t>(best)],
                 after = clarity[static_cast<size_t>(best + 1)];
    const double curve = before - 2.0 * peak + after;
    const double shift = std::clamp(curve < 0.0 ? 0.5 * (before - after) / curve : 0.0, -0.5, 0.5);
    return static_cast<float>(69.0 + 12.0 * std::log2(kRate * periods / (lo + best + shift) / 440.0));
}

}  // namespace vocalmidi
