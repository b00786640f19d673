#include "GuideTone.h"

#include <cmath>

namespace vocalmidi::plugin {

namespace {
constexpr double kTwoPi = 6.283185307179586;
constexpr float kLevel = 0.25f;  // about -12 dBFS: audible, not louder than a voice
}  // namespace

void GuideTone::prepare(double sr) {
    sampleRate = sr > 0.0 ? sr : 48000.0;
    glide = float(1.0 - std::exp(-1.0 / (0.015 * sampleRate)));   // 15 ms glide
    attack = float(1.0 - std::exp(-1.0 / (0.010 * sampleRate)));  // 10 ms fade
    reset();
}

void GuideTone::reset() {
    phase = 0.0;
    freq = 0.0f;
    amp = 0.0f;
}

void GuideTone::render(float* out, int numSamples, float pitchHz, float gain) {
    const bool voiced = std::isfinite(pitchHz) && pitchHz > 20.0f && pitchHz < 5000.0f;
    const float targetAmp = voiced ? kLevel : 0.0f;
    if (voiced && freq <= 0.0f)
        freq = pitchHz;  // start on pitch, glide only between notes
    for (int i = 0; i < numSamples; ++i) {
        if (voiced)
            freq += glide * (pitchHz - freq);
        amp += attack * (targetAmp - amp);
        if (amp < 1.0e-5f && !voiced) {
            amp = 0.0f;
            freq = 0.0f;
            continue;
        }
        phase += kTwoPi * double(freq) / sampleRate;
        if (phase >= kTwoPi)
            phase -= kTwoPi;
        out[i] += gain * amp * float(std::sin(phase));
    }
}

}  // namespace vocalmidi::plugin
