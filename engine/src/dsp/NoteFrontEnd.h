// The note model's front end in C++: per 5 ms hop, the features a note-features/1 graph
// takes (docs/note-model.md). A port of pycontrol/vocalmidi/train/front_end_np.py (numpy),
// which equals the torch front end inside note-model/1 graphs and training
// (pycontrol/vocalmidi/train/features.py says what each block is for); the constants are
// contract.py's. Golden-tested through the model: tests/engine/test_note_model.cpp runs
// a note-features/1 graph against the outputs Python computed, and
// tests/engine/test_note_front_end.cpp checks the features themselves.
//
// Why in C++: inside the ONNX graph the front end was ~60 % of a hop's ONNX Runtime time
// (hundreds of small nodes, each a few µs on cold caches after a 5 ms pause); here it is
// a few FFTs (docs/measurements.md, session 32).
//
// Per frame (the 1,024 samples at 16 kHz that end with the hop), in order:
//   long window (1,024, Hann): log10 power of bins [2, 257);
//   short window (last 256, Hann): log10 power of bins [1, 129);
//   the short window's level: log10 of its raw mean square;
//   optional middle window (last 512, Hann): log10 power of bins [1, 129);
//   optional lag correlations (LAG_COUNT of them), then optional values off their peak.
// Thread: construction anywhere (allocates); compute() on one thread, allocation-free.
#pragma once

#include <string>
#include <vector>

#include "dsp/Fft.h"

namespace vocalmidi {

struct FrontEndConfig {
    int midWindow = 0;     // 0 or 512
    int lagWindow = 0;     // 0 or 160
    bool lagPeak = false;  // needs lagWindow

    // From a model's `vocalmidi.model` metadata (JSON: mid_window, lag_window, lag_peak);
    // false with the reason when a value is not one the front end has.
    static bool fromJson(const std::string& text, FrontEndConfig& out, std::string& error);
    int features() const;
};

class NoteFrontEnd {
public:
    static constexpr int kWindow = 1024;
    static constexpr int kShort = 256;
    static constexpr int kMid = 512;
    static constexpr int kLagWindow = 160;
    static constexpr int kLagSpan = 512;
    static constexpr int kLagCount = 101;  // MIDI 36..86 in half semitones
    static constexpr int kLagBinLo = 1, kLagBinHi = 97;

    explicit NoteFrontEnd(const FrontEndConfig& config);
    int features() const { return config.features(); }
    // `frame`: the kWindow samples that end with the hop. Writes features() floats.
    void compute(const float* frame, float* out);

private:
    void lags(const float* span, float* out);
    FrontEndConfig config;
    Fft fft1024;                          // the lag correlations' two real signals at once
    RealFft long1024, mid512, short256;  // the windows' power
    std::vector<double> longWin, shortWin, midWin;
    std::vector<double> re, im;  // FFT work and output buffers (kWindow)
    // Lag correlations: cos/sin of 2 pi k p / 1024 per [bin][period] (float: the ML thread
    // reads them cold every hop, and half the bytes cost less; sums stay double), and each
    // period's earlier stretch start in the span.
    std::vector<float> lagCos, lagSin;
    std::vector<int> lagLo;
    std::vector<double> running, cRe, cIm;
};

}  // namespace vocalmidi
