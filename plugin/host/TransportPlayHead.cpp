#include "TransportPlayHead.h"

namespace vocalmidi::host
{

void TransportPlayHead::set (bool playing, int64_t samplePosition, double bpm) noexcept
{
    // Relaxed is enough: a control call never overlaps processing on the same host.
    isPlaying.store (playing, std::memory_order_relaxed);
    samplePos.store (samplePosition, std::memory_order_relaxed);
    tempo.store (bpm > 0.0 ? bpm : 120.0, std::memory_order_relaxed);
}

void TransportPlayHead::advance (int numSamples) noexcept
{
    if (isPlaying.load (std::memory_order_relaxed))
        samplePos.fetch_add (numSamples, std::memory_order_relaxed);
}

juce::Optional<juce::AudioPlayHead::PositionInfo> TransportPlayHead::getPosition() const
{
    const auto samples = samplePos.load (std::memory_order_relaxed);
    const auto bpm = tempo.load (std::memory_order_relaxed);
    const auto rate = sampleRate.load (std::memory_order_relaxed);
    const auto seconds = rate > 0.0 ? (double) samples / rate : 0.0;

    PositionInfo info;
    info.setIsPlaying (isPlaying.load (std::memory_order_relaxed));
    info.setIsRecording (false);
    info.setTimeInSamples (samples);
    info.setTimeInSeconds (seconds);
    info.setBpm (bpm);
    info.setTimeSignature (juce::AudioPlayHead::TimeSignature { 4, 4 });
    info.setPpqPosition (seconds * bpm / 60.0);
    info.setPpqPositionOfLastBarStart (std::floor (seconds * bpm / 60.0 / 4.0) * 4.0);
    info.setFrameRate (juce::AudioPlayHead::fps25);
    return info;
}

} // namespace vocalmidi::host
