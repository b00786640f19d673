// The polyphonic route of the ML side: runs Basic Pitch window by window over the
// model-rate stream and hands the posteriorgrams to PolyNoteDecoder, which returns note
// events stamped with frames. Offline only: a note is decided up to
// PolyNoteDecoder::kMaxSegmentFrames after it starts, and its first frame waits for a whole
// window, so the latency (latencyModelSamples) is about 3.9 s.
// Thread: the ML thread (or the offline caller), like MlPipeline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ml/BasicPitchModel.h"
#include "notes/PolyNoteDecoder.h"

namespace vocalmidi {

class PolyTranscriber {
public:
    // Model-rate samples between a frame's time and the latest moment its events are
    // decided (window wait + decoder horizon + margin for basic-pitch's frame-time drift).
    static int latencyModelSamples();

    void reset();
    // Runs every window the stream [streamStart, streamEnd) allows and decodes what that
    // decides. With `endOfStream` the stream ends at streamEnd: the last windows run zero
    // padded, frames are trimmed as basic-pitch trims them, and everything is decoded.
    // Appends events; returns false with `error` set when the model fails (that window's
    // frames count as silence).
    bool run(BasicPitchModel& model, const float* stream, int64_t streamStart, int64_t streamEnd,
             bool endOfStream, const Params& p, std::vector<PolyEvent>& out, std::string& error);
    // First stream sample a later window still reads.
    int64_t keepFrom() const { return BasicPitchModel::windowStart(nextWindow); }
    int64_t framesDecoded() const { return decoder.framesPushed(); }

private:
    PolyNoteDecoder decoder;
    int64_t nextWindow = 0;
    std::vector<float> note = std::vector<float>(size_t(BasicPitchModel::kKeptFrames) * BasicPitchModel::kBins);
    std::vector<float> onset = note;
};

}  // namespace vocalmidi
