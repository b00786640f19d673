// The plugin's saved state: versioned XML inside JUCE's binary wrapper.
//   version 2 (current): <VocalMIDI version="2"><PARAM id=".." value=".."/>...</VocalMIDI>
//   version 1 (0.0.x):   <VocalMIDI version="1" sensitivity="0.7" model="crepe-tiny" .../>
// Values are plain (not normalised); choices may also be given by name. Unknown ids are
// skipped, missing ones take their default, and a blob that is not ours changes nothing.
// Thread: message (host state calls).
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

namespace vocalmidi::plugin {

class PluginState {
public:
    static constexpr int kVersion = 2;
    static constexpr const char* kTag = "VocalMIDI";

    static void save(juce::AudioProcessorValueTreeState& state, juce::MemoryBlock& dest);
    // False (and nothing changed) when the data is corrupt or not a VocalMIDI state.
    static bool restore(juce::AudioProcessorValueTreeState& state, const void* data, int size);
    static bool restoreXml(juce::AudioProcessorValueTreeState& state, const juce::XmlElement& xml);

private:
    static bool plainValueOf(juce::RangedAudioParameter& p, const juce::String& text, float& out);
};

}  // namespace vocalmidi::plugin
