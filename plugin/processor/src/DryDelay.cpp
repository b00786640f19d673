#include "DryDelay.h"

#include <algorithm>

namespace vocalmidi::plugin {

void DryDelay::prepare(int numChannels, int maxDelaySamples) {
    capacity = std::max(1, maxDelaySamples + 1);
    lines.assign(size_t(std::max(0, numChannels)), std::vector<float>(size_t(capacity), 0.0f));
    writePos = 0;
    setDelay(target.load(std::memory_order_relaxed));
}

void DryDelay::setDelay(int samples) {
    target.store(std::clamp(samples, 0, capacity - 1), std::memory_order_relaxed);
}

void DryDelay::clear() {
    for (auto& l : lines)
        std::fill(l.begin(), l.end(), 0.0f);
    writePos = 0;
}

void DryDelay::process(float* const* channels, int numChannels, int numSamples) {
    const int d = std::min(target.load(std::memory_order_relaxed), capacity - 1);
    // Recorded also without delay: when the delay grows, the audio it replays is the input.
    if (lines.empty())
        return;
    const int n = std::min(numChannels, int(lines.size()));
    int pos = writePos;
    for (int c = 0; c < n; ++c) {
        float* line = lines[size_t(c)].data();
        float* x = channels[c];
        pos = writePos;
        for (int i = 0; i < numSamples; ++i) {
            line[pos] = x[i];
            int readPos = pos - d;
            if (readPos < 0)
                readPos += capacity;
            x[i] = line[readPos];
            if (++pos == capacity)
                pos = 0;
        }
    }
    writePos = pos;
}

}  // namespace vocalmidi::plugin
