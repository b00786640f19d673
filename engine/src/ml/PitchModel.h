// One interface for every pitch model the engine runs (one adapter per model family).
//
// Framing: frame f is centred at model-rate sample f * hop(). It is final once the stream
// holds samples up to f * hop() + lookaheadSamples(mode) (exclusive), and its analysis
// needs leftContextSamples() before its centre (fewer at the stream start).
// Thread: construction/warm-up on a loader thread; analyse() on the ML thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vocalmidi/Types.h"

namespace vocalmidi {

struct FrameResult {
    float f0Hz = 0.0f;
    float confidence = 0.0f;  // 0..1, voiced around >= 0.5
};

class PitchModel {
public:
    virtual ~PitchModel() = default;
    virtual ModelKind kind() const = 0;
    // Polyphonic models (basic-pitch) decide notes over windows of seconds: the pipeline
    // runs them through PolyTranscriber instead of the frame-wise NoteTracker, offline only.
    virtual bool polyphonic() const { return false; }
    // Note models (ours, NoteModel) output note posteriors, not f0: the pipeline runs them
    // through their own stateful step() and the NoteDecoder.
    virtual bool decidesNotes() const { return false; }
    virtual int sampleRate() const = 0;
    virtual int hop() const = 0;
    virtual int lookaheadSamples(LatencyMode mode) const = 0;
    virtual int leftContextSamples() const = 0;
    // True when a frame's result does not depend on how many frames share one call, so the
    // engine may analyse a backlog in one call without changing any result.
    virtual bool batchInvariant(LatencyMode mode) const = 0;
    virtual int maxBatchFrames() const { return 64; }

    // Analyses frames [first, first + count). `stream` holds model-rate samples with
    // stream[0] at absolute index streamStart and ends at streamEnd (exclusive); it covers
    // every sample those frames need. Returns false with `error` set on failure.
    virtual bool analyse(const float* stream, int64_t streamStart, int64_t streamEnd,
                         int64_t first, int count, LatencyMode mode, FrameResult* out,
                         std::string& error) = 0;

    // The first Run allocates arenas and picks kernels: the loader runs this so that the
    // first hop of live audio does not. Returns false with `error` set when the model fails.
    virtual bool warmUp(std::string& error) {
        const int ctx = leftContextSamples() + lookaheadSamples(LatencyMode::Accurate) + hop() * 4;
        std::vector<float> audio(static_cast<size_t>(ctx), 0.0f);
        for (size_t i = 0; i < audio.size(); ++i) audio[i] = 1e-2f * static_cast<float>((i * 7919) % 13) / 13.0f;
        FrameResult r[2];
        return analyse(audio.data(), 0, static_cast<int64_t>(audio.size()), leftContextSamples() / hop(), 2,
                       LatencyMode::Accurate, r, error);
    }
};

}  // namespace vocalmidi
