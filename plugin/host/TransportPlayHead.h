#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <cstdint>

namespace vocalmidi::host
{

/** The play head a hosted plugin sees: playing or stopped, a sample position that moves on
    with every processed block while playing, and a tempo. Lets tests start and stop the
    transport as a DAW would.

    Thread: set() from a control call, getPosition()/advance() on the processing thread. */
class TransportPlayHead final : public juce::AudioPlayHead
{
public:
    void set (bool playing, int64_t samplePosition, double bpm) noexcept;
    void setSampleRate (double rate) noexcept { sampleRate.store (rate, std::memory_order_relaxed); }

    /** Moves the position on by a block just processed (only while playing). */
    void advance (int numSamples) noexcept;

    int64_t position() const noexcept { return samplePos.load (std::memory_order_relaxed); }

    juce::Optional<PositionInfo> getPosition() const override;

private:
    std::atomic<bool> isPlaying { false };
    std::atomic<int64_t> samplePos { 0 };
    std::atomic<double> tempo { 120.0 };
    std::atomic<double> sampleRate { 48000.0 };
};

} // namespace vocalmidi::host
