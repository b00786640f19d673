#include "dsp/NoteFrontEnd.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace vocalmidi {

namespace {

constexpr double kPowerFloor = 1e-10;
constexpr double kLagFloor = 0.05;
constexpr double kLagClip = 1.5;
constexpr double kLagStep = 0.5;
constexpr double kLagNoteLo = 36.0;
constexpr int kRate = 16000;
constexpr int kLongLo = 2, kLongHi = 257, kShortLo = 1, kShortHi = 129, kMidLo = 1, kMidHi = 129;
constexpr int kPeakCount = 3;

std::vector<double> hann(int n) {
    const double pi = std::acos(-1.0);
    std::vector<double> w(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) w[static_cast<size_t>(i)] = 0.5 - 0.5 * std::cos(2.0 * pi * i / n);
    return w;
}

// Windowed power of `size` samples ending at `end`, bins [lo, hi), as log10(p + floor).
void logPower(RealFft& fft, const float* end, const std::vector<double>& win, int lo, int hi,
              double* re, double* im, float* out) {
    const int n = fft.size();
    double* even = fft.even();
    double* odd = fft.odd();
    const float* x = end - n;
    for (int m = 0; m < n / 2; ++m) {
        even[m] = static_cast<double>(x[2 * m]) * win[static_cast<size_t>(2 * m)];
        odd[m] = static_cast<double>(x[2 * m + 1]) * win[static_cast<size_t>(2 * m + 1)];
    }
    fft.forward(re, im);
    for (int k = lo; k < hi; ++k) *out++ = static_cast<float>(std::log10(re[k] * re[k] + im[k] * im[k] + kPowerFloor));
}

}  // namespace

bool FrontEndConfig::fromJson(const std::string& text, FrontEndConfig& out, std::string& error) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        error = std::string("vocalmidi.model is not valid JSON: ") + e.what();
        return false;
    }
    if (!j.is_object()) {
        error = "vocalmidi.model must be a JSON object";
        return false;
    }
    FrontEndConfig c;
    try {
        c.midWindow = j.value("mid_window", 0);
        c.lagWindow = j.value("lag_window", 0);
        c.lagPeak = j.value("lag_peak", false);
    } catch (const std::exception& e) {
        error = std::string("vocalmidi.model: ") + e.what();
        return false;
    }
    if (c.midWindow != 0 && c.midWindow != NoteFrontEnd::kMid) {
        error = "vocalmidi.model mid_window must be 0 or 512, got " + std::to_string(c.midWindow);
        return false;
    }
    if (c.lagWindow != 0 && c.lagWindow != NoteFrontEnd::kLagWindow) {
        error = "vocalmidi.model lag_window must be 0 or 160, got " + std::to_string(c.lagWindow);
        return false;
    }
    if (c.lagPeak && !c.lagWindow) {
        error = "vocalmidi.model lag_peak needs lag_window";
        return false;
    }
    out = c;
    return true;
}

int FrontEndConfig::features() const {
    return (kLongHi - kLongLo) + (kShortHi - kShortLo) + 1 + (midWindow ? kMidHi - kMidLo : 0) +
           (lagWindow ? NoteFrontEnd::kLagCount : 0) + (lagPeak ? kPeakCount : 0);
}

NoteFrontEnd::NoteFrontEnd(const FrontEndConfig& c)
    : config(c),
      fft1024(kWindow),
      long1024(kWindow),
      mid512(kMid),
      short256(kShort),
      longWin(hann(kWindow)),
      shortWin(hann(kShort)),
      midWin(hann(kMid)),
      re(kWindow),
      im(kWindow) {
    if (!config.lagWindow) return;
    const double pi = std::acos(-1.0);
    const int bins = kLagBinHi - kLagBinLo;
    lagCos.resize(static_cast<size_t>(bins) * kLagCount);
    lagSin.resize(lagCos.size());
    lagLo.resize(kLagCount);
    for (int p = 0; p < kLagCount; ++p) {
        const double note = kLagNoteLo + kLagStep * p;
        const double period = kRate / (440.0 * std::pow(2.0, (note - 69.0) / 12.0));
        // numpy/torch round half to even; nearbyint does too in the default mode
        lagLo[static_cast<size_t>(p)] = static_cast<int>(std::nearbyint(kLagSpan - kLagWindow - period));
        for (int k = 0; k < bins; ++k) {
            const double theta = 2.0 * pi * (k + kLagBinLo) * period / kWindow;
            lagCos[static_cast<size_t>(k) * kLagCount + p] = static_cast<float>(std::cos(theta));
            lagSin[static_cast<size_t>(k) * kLagCount + p] = static_cast<float>(std::sin(theta));
        }
    }
    running.resize(kLagSpan + 1);
    cRe.resize(static_cast<size_t>(bins));
    cIm.resize(static_cast<size_t>(bins));
}

void NoteFrontEnd::compute(const float* frame, float* out) {
    const float* end = frame + kWindow;
    logPower(long1024, end, longWin, kLongLo, kLongHi, re.data(), im.data(), out);
    out += kLongHi - kLongLo;
    logPower(short256, end, shortWin, kShortLo, kShortHi, re.data(), im.data(), out);
    out += kShortHi - kShortLo;
    double sq = 0.0;
    for (int i = kWindow - kShort; i < kWindow; ++i) sq += static_cast<double>(frame[i]) * frame[i];
    *out++ = static_cast<float>(std::log10(sq / kShort + kPowerFloor));
    if (config.midWindow) {
        logPower(mid512, end, midWin, kMidLo, kMidHi, re.data(), im.data(), out);
        out += kMidHi - kMidLo;
    }
    if (config.lagWindow) lags(end - kLagSpan, out);
}

// The normalised correlation of the last kLagWindow samples with the stretch one period
// earlier, for each period, band-limited through the cross-spectrum (front_end_np._lags).
void NoteFrontEnd::lags(const float* span, float* out) {
    const int start = kLagSpan - kLagWindow;
    // One complex FFT for both real signals: z = recent + i * span (zero-padded).
    for (int i = 0; i < kWindow; ++i) {
        const double s = i < kLagSpan ? static_cast<double>(span[i]) : 0.0;
        re[static_cast<size_t>(i)] = i >= start ? s : 0.0;
        im[static_cast<size_t>(i)] = s;
    }
    fft1024.forward(re.data(), im.data());
    const int bins = kLagBinHi - kLagBinLo;
    for (int j = 0; j < bins; ++j) {
        const size_t k = static_cast<size_t>(j + kLagBinLo), m = static_cast<size_t>(kWindow) - k;
        // Z[k] and conj(Z[N - k]) give the two real signals' spectra:
        // A = (Z[k] + conj(Z[N-k])) / 2 (recent), B = (Z[k] - conj(Z[N-k])) / 2i (span).
        const double aRe = 0.5 * (re[k] + re[m]), aIm = 0.5 * (im[k] - im[m]);
        const double bRe = 0.5 * (im[k] + im[m]), bIm = -0.5 * (re[k] - re[m]);
        // C = A conj(B)
        cRe[static_cast<size_t>(j)] = aRe * bRe + aIm * bIm;
        cIm[static_cast<size_t>(j)] = aIm * bRe - aRe * bIm;
    }
    running[0] = 0.0;
    for (int i = 0; i < kLagSpan; ++i) running[static_cast<size_t>(i) + 1] = running[static_cast<size_t>(i)] + static_cast<double>(span[i]) * span[i];
    const double recent = running[kLagSpan] - running[static_cast<size_t>(start)];
    double corr[kLagCount] = {};
    for (int j = 0; j < bins; ++j) {
        const float* c = &lagCos[static_cast<size_t>(j) * kLagCount];
        const float* s = &lagSin[static_cast<size_t>(j) * kLagCount];
        const double re = cRe[static_cast<size_t>(j)], im = cIm[static_cast<size_t>(j)];
        for (int p = 0; p < kLagCount; ++p) corr[p] += re * c[p] - im * s[p];
    }
    float* lag = out;
    for (int p = 0; p < kLagCount; ++p) {
        const int lo = lagLo[static_cast<size_t>(p)];
        const double before = running[static_cast<size_t>(lo + kLagWindow)] - running[static_cast<size_t>(lo)];
        const double denom = recent * (before + kLagFloor * recent);
        const double v = corr[p] * (2.0 / kWindow) / std::sqrt(denom + kPowerFloor);
        lag[p] = static_cast<float>(std::clamp(v, -kLagClip, kLagClip));
    }
    if (!config.lagPeak) return;
    // front_end_np._peak: the highest correlation (first of equals), a parabola's vertex
    // through it and its neighbours, as h cos, h sin of its pitch angle, and h.
    const int top = static_cast<int>(std::max_element(lag, lag + kLagCount) - lag);
    const double below = lag[std::max(top - 1, 0)], h = lag[top], above = lag[std::min(top + 1, kLagCount - 1)];
    const double curve = std::min(below + above - 2.0 * h, -1e-3);
    const double vertex = std::clamp(0.5 * (below - above) / curve, -0.5, 0.5);
    const double angle = 2.0 * std::acos(-1.0) * kLagStep * (top + vertex);
    const double hc = std::clamp(h, 0.0, 1.0);
    out[kLagCount] = static_cast<float>(hc * std::cos(angle));
    out[kLagCount + 1] = static_cast<float>(hc * std::sin(angle));
    out[kLagCount + 2] = static_cast<float>(hc);
}

}  // namespace vocalmidi
