// A sine at the detected pitch, for hearing what the tracker hears ("monitor mix").
// It glides between pitches and fades in/out at voicing changes so it never clicks.
// Thread: prepare() message; reset(), render() audio.
#pragma once

namespace vocalmidi::plugin {

class GuideTone {
public:
    void prepare(double sampleRate);
    void reset();
    // Adds the tone (times gain) for pitchHz (0 = silent) into out[0..n).
    void render(float* out, int numSamples, float pitchHz, float gain);

private:
    double sampleRate = 48000.0;
    double phase = 0.0;
    float freq = 0.0f;
    float amp = 0.0f;
    float glide = 0.0f;    // one-pole coefficients per sample
    float attack = 0.0f;
};

}  // namespace vocalmidi::plugin
