#include "ParameterLayout.h"

#include <cmath>

#include "vocalmidi/Engine.h"


namespace vocalmidi::plugin {
namespace {

using juce::AudioParameterBool;
using juce::AudioParameterChoice;
using juce::AudioParameterFloat;
using juce::AudioParameterFloatAttributes;
using juce::AudioParameterInt;
using juce::AudioParameterIntAttributes;
using juce::NormalisableRange;
using juce::ParameterID;
using juce::String;
using juce::StringArray;

constexpr int kVersion = 1;  // JUCE parameter version hint (AU needs one)

const StringArray kNoteNames{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};

String noteName(int note) {
    return kNoteNames[note % 12] + String(note / 12 - 1);
}

int noteFromText(const String& text) {
    const auto t = text.trim().toUpperCase();
    if (t.containsOnly("0123456789"))
        return t.getIntValue();
    for (int pc = 11; pc >= 0; --pc) {  // longest names (with '#') first
        if (t.startsWith(kNoteNames[pc])) {
            const int octave = t.substring(kNoteNames[pc].length()).getIntValue();
            return juce::jlimit(0, 127, (octave + 1) * 12 + pc);
        }
    }
    return 60;
}

}  // namespace

juce::AudioProcessorValueTreeState::ParameterLayout createLayout() {
    juce::AudioProcessorValueTreeState::ParameterLayout layout;

    auto dbAttr = AudioParameterFloatAttributes().withLabel("dB").withStringFromValueFunction(
        [](float v, int) { return String(v, 1) + " dB"; });
    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{ids::inputGain, kVersion}, "Input Gain", NormalisableRange<float>(-24.0f, 24.0f, 0.1f),
        0.0f, dbAttr));

    auto pctAttr = AudioParameterFloatAttributes().withLabel("%").withStringFromValueFunction(
        [](float v, int) { return String(juce::roundToInt(v * 100.0f)) + " %"; });
    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{ids::sensitivity, kVersion}, "Sensitivity", NormalisableRange<float>(0.0f, 1.0f, 0.01f),
        0.5f, pctAttr));

    NormalisableRange<float> msRange(10.0f, 500.0f, 1.0f);
    msRange.setSkewForCentre(80.0f);
    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{ids::minNoteMs, kVersion}, "Min Note Length", msRange, 32.0f,
        AudioParameterFloatAttributes().withLabel("ms").withStringFromValueFunction(
            [](float v, int) { return String(juce::roundToInt(v)) + " ms"; })));

    layout.add(std::make_unique<AudioParameterChoice>(
        ParameterID{ids::bendMode, kVersion}, "Pitch Bend", StringArray{"Off", "Single", "Continuous"}, 0));
    layout.add(std::make_unique<AudioParameterInt>(
        ParameterID{ids::bendRange, kVersion}, "Bend Range", 1, 24, 2,
        AudioParameterIntAttributes().withLabel("semitones")));

    layout.add(std::make_unique<AudioParameterChoice>(ParameterID{ids::keyRoot, kVersion}, "Key", kNoteNames, 0));
    layout.add(std::make_unique<AudioParameterChoice>(
        ParameterID{ids::scale, kVersion}, "Scale",
        StringArray{"Chromatic", "Major", "Minor", "Dorian", "Phrygian", "Lydian", "Mixolydian",
                    "Locrian", "Harmonic Minor", "Major Pentatonic", "Minor Pentatonic", "Blues"},
        0));

    layout.add(std::make_unique<AudioParameterChoice>(
        ParameterID{ids::velocityMode, kVersion}, "Velocity Mode", StringArray{"Fixed", "Loudness"}, 1));
    NormalisableRange<float> curveRange(0.25f, 4.0f, 0.01f);
    curveRange.setSkewForCentre(1.0f);
    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{ids::velocityCurve, kVersion}, "Velocity Curve", curveRange, 1.0f,
        AudioParameterFloatAttributes().withStringFromValueFunction(
            [](float v, int) { return String(v, 2); })));
    layout.add(std::make_unique<AudioParameterInt>(ParameterID{ids::fixedVelocity, kVersion}, "Fixed Velocity",
                                                   1, 127, 100));

    layout.add(std::make_unique<AudioParameterInt>(ParameterID{ids::midiChannel, kVersion}, "MIDI Channel", 1,
                                                   16, 1));
    auto noteAttr = AudioParameterIntAttributes()
                        .withStringFromValueFunction([](int v, int) { return noteName(v); })
                        .withValueFromStringFunction([](const String& s) { return noteFromText(s); });
    layout.add(std::make_unique<AudioParameterInt>(ParameterID{ids::noteLow, kVersion}, "Lowest Note", 0, 127,
                                                   36, noteAttr));
    layout.add(std::make_unique<AudioParameterInt>(ParameterID{ids::noteHigh, kVersion}, "Highest Note", 0,
                                                   127, 96, noteAttr));

    StringArray models;
    for (auto k : kModelChoices)
        models.add(modelIdFor(k));
    // The default is our note model (vocalnote-s) in Instant mode: its note-ons leave ~40 ms
    // after the onset against ~145 ms for SwiftF0 in Fast, at a higher note F1
    // (models/manifest.json default_choice). Saved sessions keep the model they stored.
    layout.add(std::make_unique<AudioParameterChoice>(ParameterID{ids::model, kVersion}, "Model", models,
                                                      kDefaultModelChoice));
    // Instant: the note model's own ~8 ms; Fast / Accurate add its decision budget (15 / 40 ms,
    // MlPipeline::noteModelBudgetMs). With a pitch model Instant is Fast.
    layout.add(std::make_unique<AudioParameterChoice>(ParameterID{ids::latencyMode, kVersion}, "Latency Mode",
                                                      StringArray{"Fast", "Accurate", "Instant"}, 2));
    // When a note's pitch settles on another note in its first ms (a scoop): start the right
    // note, or bend the started one to it (note model only).
    layout.add(std::make_unique<AudioParameterChoice>(ParameterID{ids::earlyCorrection, kVersion},
                                                      "Early Correction", StringArray{"Retrigger", "Bend"}, 0));
    // Immediate: a note leaves in the first block after it is decided (live playing).
    // Aligned: every note is held one block + 5 ms and the reported latency says so, so a
    // recording lands sample-exact at any buffer size (Params::alignedTiming).
    layout.add(std::make_unique<AudioParameterChoice>(ParameterID{ids::midiTiming, kVersion}, "MIDI Timing",
                                                      StringArray{"Immediate", "Aligned"}, 0));

    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{ids::monitorMix, kVersion}, "Monitor Mix", NormalisableRange<float>(0.0f, 1.0f, 0.01f), 0.0f,
        // 0 % = dry input only, 100 % = guide tone only.
        pctAttr));

    // Where the model runs. Not automatable: a change reloads the model (on the loader
    // thread), which an automation lane must not trigger mid-song. CUDA where it cannot run
    // falls back to the CPU, and the status line says so.
    layout.add(std::make_unique<AudioParameterChoice>(
        ParameterID{ids::device, kVersion}, "Device", StringArray{"Auto", "CPU", "CUDA"}, 0,
        juce::AudioParameterChoiceAttributes().withAutomatable(false)));

    layout.add(std::make_unique<AudioParameterBool>(ParameterID{ids::bypass, kVersion}, "Bypass", false));
    return layout;
}

ParamReader::ParamReader(juce::AudioProcessorValueTreeState& s)
    : inputGain(get(s, ids::inputGain)), sensitivity(get(s, ids::sensitivity)),
      minNoteMs(get(s, ids::minNoteMs)), bendMode(get(s, ids::bendMode)),
      bendRange(get(s, ids::bendRange)), keyRoot(get(s, ids::keyRoot)), scale(get(s, ids::scale)),
      velocityMode(get(s, ids::velocityMode)), velocityCurve(get(s, ids::velocityCurve)),
      fixedVelocity(get(s, ids::fixedVelocity)), midiChannel(get(s, ids::midiChannel)),
      noteLow(get(s, ids::noteLow)), noteHigh(get(s, ids::noteHigh)), model(get(s, ids::model)),
      latencyMode(get(s, ids::latencyMode)), earlyCorrection(get(s, ids::earlyCorrection)),
      midiTiming(get(s, ids::midiTiming)), mix(get(s, ids::monitorMix)), deviceChoice(get(s, ids::device)) {}

std::atomic<float>* ParamReader::get(juce::AudioProcessorValueTreeState& s, const char* id) {
    auto* p = s.getRawParameterValue(id);
    jassert(p != nullptr);
    return p;
}

Params ParamReader::read() const {
    const auto ld = [](const std::atomic<float>* a) { return a->load(std::memory_order_relaxed); };
    const auto li = [&](const std::atomic<float>* a) { return int(std::lround(ld(a))); };
    Params p;
    p.inputGainDb = ld(inputGain);
    p.sensitivity = ld(sensitivity);
    p.minNoteMs = ld(minNoteMs);
    p.bendMode = BendMode(juce::jlimit(0, 2, li(bendMode)));
    p.bendRangeSemitones = float(li(bendRange));
    p.keyRoot = juce::jlimit(0, 11, li(keyRoot));
    p.scale = Scale(juce::jlimit(0, 11, li(scale)));
    p.velocityMode = VelocityMode(juce::jlimit(0, 1, li(velocityMode)));
    p.velocityCurve = ld(velocityCurve);
    p.fixedVelocity = juce::jlimit(1, 127, li(fixedVelocity));
    p.midiChannel = juce::jlimit(1, 16, li(midiChannel));
    // A low/high pair set the wrong way round still means the range between them.
    const int lo = juce::jlimit(0, 127, li(noteLow));
    const int hi = juce::jlimit(0, 127, li(noteHigh));
    p.noteMin = std::min(lo, hi);
    p.noteMax = std::max(lo, hi);
    p.latencyMode = LatencyMode(juce::jlimit(0, 2, li(latencyMode)));
    p.earlyCorrection = EarlyCorrection(juce::jlimit(0, 1, li(earlyCorrection)));
    p.alignedTiming = li(midiTiming) == 1;
    return p;
}

int ParamReader::modelIndex() const {
    return juce::jlimit(0, int(kModelChoices.size()) - 1,
                        int(std::lround(model->load(std::memory_order_relaxed))));
}

Device ParamReader::device() const {
    return kDeviceChoices[size_t(juce::jlimit(0, int(kDeviceChoices.size()) - 1,
                                              int(std::lround(deviceChoice->load(std::memory_order_relaxed)))))];
}

float ParamReader::monitorMix() const { return mix->load(std::memory_order_relaxed); }

bool operator==(const Params& a, const Params& b) {
    return a.inputGainDb == b.inputGainDb && a.sensitivity == b.sensitivity &&
           a.minNoteMs == b.minNoteMs && a.bendMode == b.bendMode &&
           a.bendRangeSemitones == b.bendRangeSemitones && a.keyRoot == b.keyRoot &&
           a.scale == b.scale && a.velocityMode == b.velocityMode &&
           a.velocityCurve == b.velocityCurve && a.fixedVelocity == b.fixedVelocity &&
           a.midiChannel == b.midiChannel && a.noteMin == b.noteMin && a.noteMax == b.noteMax &&
           a.latencyMode == b.latencyMode && a.earlyCorrection == b.earlyCorrection &&
           a.alignedTiming == b.alignedTiming;
}

}  // namespace vocalmidi::plugin
