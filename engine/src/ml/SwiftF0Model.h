// SwiftF0 (swift-f0 0.3.0 wheel, swift_f0/model.onnx): 16 kHz, hop 256, inputs audio
// [1, samples], fmin, fmax; outputs pitch (double) and confidence per 256-sample frame.
// Its receptive field reaches 2815 samples each way: a frame is exact with 11 frames of
// left context and 10 frames of lookahead. Accurate mode uses the exact lookahead; Fast
// mode a short one (see kFastLookaheadFrames for the measured cost in accuracy).
#pragma once

#include <memory>
#include <vector>

#include "ml/PitchModel.h"

namespace Ort {
struct Session;
}

namespace vocalmidi {

class SwiftF0Model : public PitchModel {
public:
    static constexpr int kRate = 16000;
    static constexpr int kHop = 256;
    static constexpr int kLeftFrames = 11;
    static constexpr int kExactLookaheadFrames = 10;
    // Voicing against the exact result (10 frames, confidence >= 0.5) on the 16 clean takes
    // of the evaluation set: 97% of frames agree with 3 frames of lookahead, 87% with 1
    // (93% at a 0.3 threshold), none with 0 (a window's last frame always gets a confidence
    // near 0.02). Notes are decided 30-150 ms after their onset anyway (the sung pitch
    // settles late), and 1 frame gave the same note F1 as 3 for 32 ms less latency.
    static constexpr int kFastLookaheadFrames = 1;
    // Frames whose own hop peaks below this get confidence 0 (the model answers digital
    // silence with random voiced frames).
    static constexpr float kSilencePeak = 1e-3f;

    explicit SwiftF0Model(std::unique_ptr<Ort::Session> session);
    ~SwiftF0Model() override;

    // Checks the graph's inputs/outputs; returns an empty string when it is SwiftF0-like.
    static std::string validate(Ort::Session& session);

    ModelKind kind() const override { return ModelKind::SwiftF0; }
    int sampleRate() const override { return kRate; }
    int hop() const override { return kHop; }
    int lookaheadSamples(LatencyMode mode) const override;
    int leftContextSamples() const override { return kLeftFrames * kHop; }
    bool batchInvariant(LatencyMode mode) const override { return mode == LatencyMode::Accurate; }
    bool analyse(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t first,
                 int count, LatencyMode mode, FrameResult* out, std::string& error) override;

    static int lookaheadFrames(LatencyMode mode) {
        return mode == LatencyMode::Accurate ? kExactLookaheadFrames : kFastLookaheadFrames;
    }

private:
    std::unique_ptr<Ort::Session> session;
};

}  // namespace vocalmidi
