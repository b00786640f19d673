// Spectral-flux onset detector on the model-rate stream: says *when* a note began, which
// the pitch model cannot. A sung note's pitch settles 30-150 ms after its attack (voice
// attacks take 25-80 ms, legato notes overlap the previous note's release, scoops glide
// in), so the tracker decides a note from pitch and then places its onset at the attack
// found here.
//
// Flux: half-wave rectified rise of log magnitude spectra (Hann window of ~64 ms, hop of
// an eighth of it), summed over bins. A flux frame is causal: it uses audio up to its
// window end. Peaks above an adaptive threshold (a multiple of the recent median) are kept
// with their estimated onset sample (window end minus the measured peak delay).
// Thread: the ML thread only. configure() allocates; advance() and the queries do not.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

namespace vocalmidi {

class OnsetDetector {
public:
    struct Peak {
        int64_t sample = 0;     // estimated onset, model-rate samples from the segment start
        float strength = 0.0f;  // flux over the adaptive threshold (>= 1)
    };
    static constexpr int kMaxPeaks = 16;

    void configure(int modelRate);
    void reset();

    // Computes every flux frame whose window ends at or before `available`. `stream` holds
    // model-rate samples, stream[0] at absolute index streamStart; it must still hold the
    // last window (the pipeline keeps more left context than this).
    void advance(const float* stream, int64_t streamStart, int64_t available);

    // The strongest peak with an onset in [from, to] (model-rate samples); false if none.
    bool strongestIn(int64_t from, int64_t to, Peak& out) const;

    int window() const { return n; }

private:
    void fft();
    float fluxOf(const float* frame);

    int n = 1024, h = 128, bins = 513;
    int64_t peakDelay = 320;
    int64_t nextEnd = 1024;  // window end of the next flux frame
    std::vector<float> hann;
    std::vector<std::complex<float>> buf, twiddle;
    std::vector<int> bitrev;
    std::vector<float> prevLog, curLog;
    bool havePrev = false;

    // The last flux values (for the median threshold and the peak test).
    static constexpr int kHistory = 48;
    float hist[kHistory] = {};
    int64_t histCount = 0;
    Peak peaks[kMaxPeaks];
    int peakCount = 0;
    int peakHead = 0;
};

}  // namespace vocalmidi
