#include "ml/PolyTranscriber.h"

#include <algorithm>

namespace vocalmidi {

int PolyTranscriber::latencyModelSamples() {
    // A segment starting at frame a is decided once frame a + kMaxSegmentFrames - 1 exists,
    // i.e. once its window has its 43844 samples: at most kMaxSegmentFrames hops plus the
    // window's reach past its first frame. basic-pitch's frame times drift against the
    // windows by 0.0002 samples per frame; the margin covers hours.
    return PolyNoteDecoder::kMaxSegmentFrames * BasicPitchModel::kHop +
           BasicPitchModel::kLookahead + 2048;
}

void PolyTranscriber::reset() {
    decoder.reset();
    nextWindow = 0;
}

bool PolyTranscriber::run(BasicPitchModel& model, const float* stream, int64_t streamStart, int64_t streamEnd,
                          bool endOfStream, const Params& p, std::vector<PolyEvent>& out, std::string& error) {
    constexpr int kept = BasicPitchModel::kKeptFrames;
    const int64_t total = BasicPitchModel::framesFor(streamEnd);
    bool ok = true;
    for (;;) {
        if (endOfStream ? nextWindow * kept >= total : BasicPitchModel::samplesNeeded(nextWindow) > streamEnd)
            break;
        if (!model.runWindow(stream, streamStart, streamEnd, nextWindow, note.data(), onset.data(), nullptr,
                             error)) {
            std::fill(note.begin(), note.end(), 0.0f);
            std::fill(onset.begin(), onset.end(), 0.0f);
            ok = false;
        }
        // At the end, frames past basic-pitch's trim are dropped as it drops them.
        const int64_t first = nextWindow * kept;
        const int64_t n = endOfStream ? std::min<int64_t>(kept, total - first) : kept;
        for (int64_t i = 0; i < n; ++i)
            decoder.push(note.data() + i * BasicPitchModel::kBins, onset.data() + i * BasicPitchModel::kBins);
        ++nextWindow;
        decoder.decide(p, false, out);
    }
    if (endOfStream) decoder.decide(p, true, out, total);
    return ok;
}

}  // namespace vocalmidi
