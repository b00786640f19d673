// Streaming windowed-sinc resampler (Kaiser window, 512-phase table with linear
// interpolation between phases) for any rate pair.
//
// Output sample j sits exactly at input time j * inRate / outRate (computed in integers,
// so no drift); its value depends only on the input stream, never on how the input was
// chunked. Output j becomes available once input sample floor(j*in/out) + halfTaps has
// arrived; inputNeededFor() gives that count so the engine can place events at the
// stream position where they became decidable.
// Thread: configure() allocates (ML thread or control thread); process() is for one
// thread (the ML side) and may grow `out`.
#pragma once

#include <cstdint>
#include <vector>

namespace vocalmidi {

class StreamingResampler {
public:
    void configure(int inRate, int outRate);
    void reset();

    // Appends every output sample that the input so far allows.
    void process(const float* in, int numIn, std::vector<float>& out);

    // Input samples (counted from the stream start) needed before `outCount` outputs exist.
    int64_t inputNeededFor(int64_t outCount) const;
    // Outputs that exist once `inCount` inputs arrived (inverse of inputNeededFor).
    int64_t outputsAvailableFor(int64_t inCount) const;

    int halfTaps() const { return half; }
    int inRate() const { return rateIn; }
    int outRate() const { return rateOut; }
    int64_t inputCount() const { return inCount; }
    int64_t outputCount() const { return outCount; }

private:
    static constexpr int kPhases = 512;
    int rateIn = 48000, rateOut = 16000;
    int64_t num = 3, den = 1;  // in/out reduced: input step per output = num/den
    int half = 0;              // taps each side, in input samples
    int taps = 0;              // 2 * half
    bool passthrough = false;
    std::vector<float> table;  // (kPhases + 1) x taps
    std::vector<float> hist;   // input samples from absolute index histStart
    int64_t histStart = 0;
    int64_t inCount = 0;
    int64_t outCount = 0;
};

}  // namespace vocalmidi
