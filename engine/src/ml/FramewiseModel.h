// Adapter for framewise models (crepe-tiny, pesto as exported by models/recipes/):
// input `audio_frames` float32 [N, W] of raw 16 kHz windows (W fixed in the graph, read
// from the session), outputs `f0_hz` [N] and `confidence` [N]. Hop 160 samples (10 ms);
// frame f is the window centred at f * 160, so its lookahead is W / 2.
#pragma once

#include <memory>
#include <vector>

#include "ml/PitchModel.h"

namespace Ort {
struct Session;
}

namespace vocalmidi {

class FramewiseModel : public PitchModel {
public:
    static constexpr int kRate = 16000;
    static constexpr int kHop = 160;

    FramewiseModel(ModelKind kind, std::unique_ptr<Ort::Session> session, int windowSize);
    ~FramewiseModel() override;

    // Checks the I/O names; on success stores W in windowSize and returns "".
    static std::string validate(Ort::Session& session, int& windowSize);

    ModelKind kind() const override { return modelKind; }
    int sampleRate() const override { return kRate; }
    int hop() const override { return kHop; }
    int lookaheadSamples(LatencyMode) const override { return window - window / 2; }
    int leftContextSamples() const override { return window / 2; }
    bool batchInvariant(LatencyMode) const override { return true; }
    int maxBatchFrames() const override { return 32; }
    bool analyse(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t first,
                 int count, LatencyMode mode, FrameResult* out, std::string& error) override;

private:
    ModelKind modelKind;
    std::unique_ptr<Ort::Session> session;
    int window;
    std::vector<float> staging;  // [count, window], grown on the ML thread
};

}  // namespace vocalmidi
