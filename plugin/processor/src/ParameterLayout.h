// The plugin's parameters (ids, ranges, units) and their mapping to the engine's Params.
// Thread: createLayout() on the message thread; ParamReader::read() on any thread
// (it only loads atomics).
#pragma once

#include <array>
#include <atomic>

#include <juce_audio_processors/juce_audio_processors.h>

#include "vocalmidi/Engine.h"
#include "vocalmidi/Types.h"

namespace vocalmidi::plugin {

namespace ids {
inline constexpr const char* inputGain = "inputGain";
inline constexpr const char* sensitivity = "sensitivity";
inline constexpr const char* minNoteMs = "minNoteMs";
inline constexpr const char* bendMode = "bendMode";
inline constexpr const char* bendRange = "bendRange";
inline constexpr const char* keyRoot = "keyRoot";
inline constexpr const char* scale = "scale";
inline constexpr const char* velocityMode = "velocityMode";
inline constexpr const char* velocityCurve = "velocityCurve";
inline constexpr const char* fixedVelocity = "fixedVelocity";
inline constexpr const char* midiChannel = "midiChannel";
inline constexpr const char* noteLow = "noteLow";
inline constexpr const char* noteHigh = "noteHigh";
inline constexpr const char* model = "model";
inline constexpr const char* latencyMode = "latencyMode";
inline constexpr const char* earlyCorrection = "earlyCorrection";
inline constexpr const char* midiTiming = "midiTiming";
inline constexpr const char* monitorMix = "monitorMix";
inline constexpr const char* device = "device";
inline constexpr const char* bypass = "bypass";
}  // namespace ids

// Model choices, in the order of the "model" parameter (basic-pitch: offline renders only;
// vocalnote: our note model, Instant by default). New choices go
// at the end so saved sessions keep their model.
inline constexpr std::array<ModelKind, 5> kModelChoices = {
    ModelKind::SwiftF0, ModelKind::CrepeTiny, ModelKind::Pesto, ModelKind::BasicPitch, ModelKind::VocalNote};

// Index of the default choice: our note model.
inline constexpr int kDefaultModelChoice = 4;
static_assert(kModelChoices[kDefaultModelChoice] == ModelKind::VocalNote);

// The model cache id of a choice: the adapter id, except for our note model, whose
// manifest entry names its size ("vocalnote-s").
inline const char* modelIdFor(ModelKind kind) {
    return kind == ModelKind::VocalNote ? "vocalnote-s" : modelKindId(kind);
}

// Device choices, in the order of the "device" parameter (Auto / CPU / CUDA).
inline constexpr std::array<Device, 3> kDeviceChoices = {Device::Auto, Device::Cpu, Device::Cuda};

juce::AudioProcessorValueTreeState::ParameterLayout createLayout();

// Reads the parameters' atomics into an engine Params without locks or allocation.
class ParamReader {
public:
    explicit ParamReader(juce::AudioProcessorValueTreeState& state);
    Params read() const;
    int modelIndex() const;
    Device device() const;
    float monitorMix() const;

private:
    std::atomic<float>* get(juce::AudioProcessorValueTreeState& s, const char* id);

    std::atomic<float>* inputGain;
    std::atomic<float>* sensitivity;
    std::atomic<float>* minNoteMs;
    std::atomic<float>* bendMode;
    std::atomic<float>* bendRange;
    std::atomic<float>* keyRoot;
    std::atomic<float>* scale;
    std::atomic<float>* velocityMode;
    std::atomic<float>* velocityCurve;
    std::atomic<float>* fixedVelocity;
    std::atomic<float>* midiChannel;
    std::atomic<float>* noteLow;
    std::atomic<float>* noteHigh;
    std::atomic<float>* model;
    std::atomic<float>* latencyMode;
    std::atomic<float>* earlyCorrection;
    std::atomic<float>* midiTiming;
    std::atomic<float>* mix;
    std::atomic<float>* deviceChoice;
};

bool operator==(const Params& a, const Params& b);
inline bool operator!=(const Params& a, const Params& b) { return !(a == b); }

}  // namespace vocalmidi::plugin
