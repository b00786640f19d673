// Delays the audio that passes through by the latency the plugin reports, so that a host's
// delay compensation lines the dry signal up with the other tracks (and with the notes).
// Thread: prepare() message; setDelay() any; process(), clear() audio.
#pragma once

#include <atomic>
#include <vector>

namespace vocalmidi::plugin {

class DryDelay {
public:
    void prepare(int numChannels, int maxDelaySamples);
    void setDelay(int samples);  // clamped to the prepared maximum
    int delay() const { return target.load(std::memory_order_relaxed); }
    void clear();
    void process(float* const* channels, int numChannels, int numSamples);

private:
    std::vector<std::vector<float>> lines;
    int capacity = 1;
    int writePos = 0;
    std::atomic<int> target{0};
};

}  // namespace vocalmidi::plugin
