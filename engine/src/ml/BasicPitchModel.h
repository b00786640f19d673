// Basic Pitch (ICASSP 2022, `nmp.onnx` from the basic-pitch 0.4.0 wheel): polyphonic,
// 22.05 kHz, input [batch, 43844, 1], outputs per 172-frame window the note and onset
// posteriorgrams [batch, 172, 88] (MIDI 21..108) and the pitch contour [batch, 172, 264].
//
// Windowing follows basic_pitch/inference.py exactly: the audio is prefixed with 3840
// zeros (half of a 30-frame overlap), cut into 43844-sample windows every 36164 samples
// (the last one zero padded), and of each window's 172 frames the 15 at either end are
// dropped, so window w supplies frames [142 w, 142 w + 142). A stream of n samples has
// floor(n * 86 / 22050) frames. The first frame of a window needs 40004 samples of the
// real stream from its window's start: that, not a per-frame lookahead, bounds latency.
// Thread: construction/warm-up on a loader thread; runWindow()/analyse() on the ML thread.
#pragma once

#include <memory>
#include <vector>

#include "ml/PitchModel.h"

namespace Ort {
struct Session;
}

namespace vocalmidi {

class BasicPitchModel : public PitchModel {
public:
    static constexpr int kRate = 22050;
    static constexpr int kHop = 256;
    static constexpr int kBins = 88;           // MIDI 21..108
    static constexpr int kContourBins = 264;   // 3 per semitone
    static constexpr int kMidiOffset = 21;
    static constexpr int kWindow = 43844;      // AUDIO_N_SAMPLES
    static constexpr int kWindowFrames = 172;  // ANNOT_N_FRAMES
    static constexpr int kOverlapFrames = 30;
    static constexpr int kPad = kOverlapFrames * kHop / 2;              // 3840 zeros in front
    static constexpr int kWindowHop = kWindow - kOverlapFrames * kHop;  // 36164
    static constexpr int kKeptFrames = kWindowFrames - kOverlapFrames;  // 142
    static constexpr int kFps = kRate / kHop;                           // 86 (integer, as basic-pitch)
    static constexpr int kLookahead = kWindow - kPad;                   // 40004

    explicit BasicPitchModel(std::unique_ptr<Ort::Session> session);
    ~BasicPitchModel() override;

    // Checks the graph's input/outputs; returns an empty string when it is Basic Pitch.
    static std::string validate(Ort::Session& session);

    ModelKind kind() const override { return ModelKind::BasicPitch; }
    bool polyphonic() const override { return true; }
    int sampleRate() const override { return kRate; }
    int hop() const override { return kHop; }
    // The real-stream samples a window's first frame waits for (see the header comment).
    int lookaheadSamples(LatencyMode) const override { return kLookahead; }
    int leftContextSamples() const override { return 0; }
    bool batchInvariant(LatencyMode) const override { return true; }
    // f0 view (strongest note bin per frame), used for the warm-up and the pitch display.
    bool analyse(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t first,
                 int count, LatencyMode mode, FrameResult* out, std::string& error) override;

    // First real-stream sample of window w (negative for window 0: the zero prefix).
    static int64_t windowStart(int64_t w) { return w * kWindowHop - kPad; }
    // Real-stream samples that must exist before window w can run (unless the stream ends).
    static int64_t samplesNeeded(int64_t w) { return windowStart(w) + kWindow; }
    // Frames a stream of `samples` samples has (inference.py's unwrap_output trim).
    static int64_t framesFor(int64_t samples) { return samples * kFps / kRate; }
    // Seconds of frame f as basic-pitch's model_frames_to_time() reports it.
    static double frameSeconds(int64_t f);

    // Runs window w. `stream` holds real samples [streamStart, streamEnd); samples outside
    // it (the prefix, past the end) are zeros. Writes kKeptFrames x kBins of note and onset
    // activations, and kKeptFrames x kContourBins of contour when `contour` is not null.
    bool runWindow(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t w,
                   float* note, float* onset, float* contour, std::string& error);

private:
    std::unique_ptr<Ort::Session> session;
    std::vector<float> input;  // one window, reused
};

}  // namespace vocalmidi
