#pragma once

#include "TransportPlayHead.h"
#include "HostTypes.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vocalmidi::host
{

/** One loaded plugin and everything needed to run it offline: its buses, a play head, the
    audio/MIDI buffers (sized in prepare(), so processing allocates nothing), and the MIDI
    the plugin emitted during the last process() call.

    Thread: process() on any one thread; everything else from control calls (message
    thread). Errors are returned as negative Status codes with the reason in lastError(). */
class HostedPlugin
{
public:
    HostedPlugin() = default;
    ~HostedPlugin();

    int load (const juce::String& path, const juce::String& which);
    bool isLoaded() const noexcept { return instance != nullptr; }
    juce::AudioPluginInstance* plugin() const noexcept { return instance.get(); }
    juce::String formatName() const;

    /** The program (preset) names a host lists. JUCE's VST3 hosting finds programs only
        through a program-change parameter, which a JUCE plugin with one program lacks; a
        VST3 host reads its units' program lists (IUnitInfo), so for a VST3 this does too. */
    juce::StringArray programNames() const;

    int parameterCount() const;
    juce::AudioProcessorParameter* parameter (int index) const;
    int parameterIndex (const juce::String& name) const;
    int setParameter (int index, float normalised);
    int setParameterText (int index, const juce::String& text);

    int prepare (double sampleRate, int maxBlockSize, int inputChannels, int outputChannels);
    int setNonRealtime (bool nonRealtime);
    void setBypassed (bool bypassed) noexcept { isBypassed = bypassed; }
    TransportPlayHead& transport() noexcept { return playHead; }
    int inputChannels() const noexcept { return numIn; }
    int outputChannels() const noexcept { return numOut; }

    /** Runs `numSamples` samples through the plugin in consecutive blocks whose sizes cycle
        through `blockSizes` (each in 1..the prepared maximum; null or 0 sizes: that maximum),
        the whole loop in C++ so the caller pays its call once, not per block. `input` and
        `output` are planar (channels rows of numSamples floats; null when there are none).
        `midiIn` events (sorted, positions in 0..numSamples-1, bytes in `midiInBytes`) are
        delivered in their block. Returns how many MIDI events the plugin emitted (see
        midiOutEvents()) or a negative Status; a plugin that throws gives pluginRefused. */
    int process (const float* input, float* output, int64_t numSamples,
                 const int32_t* blockSizes, int numBlockSizes,
                 const MidiEvent* midiIn, int numMidiIn, const uint8_t* midiInBytes);

    /** Process as a real-time host would: `speed` 1 = the block clock runs in real time,
        2 = twice as fast, 0 = as fast as possible (default). */
    void setPacing (double speed) noexcept { pacing = speed > 0.0 ? speed : 0.0; }

    /** Let process() pass blocks of up to `samples` even when prepared with fewer, as some
        hosts do in spite of what they announced in prepareToPlay. 0: hold to the promise. */
    int setBlockLimit (int samples);

    /** Heap calls made on the processing thread inside processBlock during the last
        process() call (live, i.e. not non-realtime, calls only; 0 otherwise): the plugin's
        and in how many blocks, and the host's own; false when libvocalmidi_alloccount is
        not preloaded. */
    bool allocationCounts (int64_t& calls, int64_t& blocks, int64_t& hostCalls) const noexcept;

    const std::vector<MidiEvent>& midiOutEvents() const noexcept { return outEvents; }
    const std::vector<uint8_t>& midiOutBytes() const noexcept { return outBytes; }

    int latencySamples();
    int reset();
    int release();

    int64_t saveState();
    const juce::MemoryBlock& savedState() const noexcept { return state; }
    int loadState (const void* data, int64_t size);

    int probeEditor (int& width, int& height);
    // Shows the editor on the desktop at (0, 0) for `milliseconds`, dispatching messages
    // meanwhile (so it paints), then closes it.
    int showEditor (int milliseconds, int& width, int& height);

    const std::string& lastError() const noexcept { return error; }
    int fail (int code, const juce::String& message);

private:
    int processBlocks (const float* input, float* output, int64_t numSamples,
                       const int32_t* blockSizes, int numBlockSizes,
                       const MidiEvent* midiIn, int numMidiIn, const uint8_t* midiInBytes);
    int requireLoaded();
    int requirePrepared();
    int applyLayout (int inputChannels, int outputChannels);
    void unload();
    void flushPendingParameters();
    void prepareInstance();
    void refreshLatency();

    std::unique_ptr<juce::AudioPluginInstance> instance;
    TransportPlayHead playHead;

    double rate = 0.0;
    int maxBlock = 0;
    int numIn = 0, numOut = 0;
    bool prepared = false;
    bool nonRealtime = false;
    bool isBypassed = false;
    double pacing = 0.0;
    int blockLimit = 0;
    int64_t allocCalls = 0, allocBlocks = 0, allocHostCalls = 0;

    juce::AudioBuffer<float> buffer;
    juce::MidiBuffer midi;
    std::vector<MidiEvent> outEvents;
    std::vector<uint8_t> outBytes;
    // Parameter values set since the last processed block. JUCE's LV2 host only writes them
    // to the plugin's ports while processing, and rebuilds the instance from the ports in
    // prepareToPlay, so until a block has run they must be carried across by hand.
    std::map<int, float> pending;
    juce::MemoryBlock state;
    std::string error;
};

} // namespace vocalmidi::host
