// The VocalMIDI AudioProcessor: audio in -> the engine -> MIDI notes out. The audio passes
// through (delayed by the reported latency so hosts line it up), optionally mixed with a
// guide tone at the detected pitch.
//
// Thread: JUCE's usual split - processBlock()/reset() on the audio thread, the rest on the
// message thread; the model loads on ModelLoader's thread.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_audio_basics/juce_audio_basics.h>

#include "DryDelay.h"
#include "GuideTone.h"
#include "HeldNotes.h"
#include "ModelLoader.h"
#include "ParameterLayout.h"
#include "SentNoteRing.h"
#include "TestFault.h"
#include "VirtualMidiOut.h"
#include "vocalmidi/Engine.h"

namespace vocalmidi::plugin {

class VocalMidiProcessor : public juce::AudioProcessor, private juce::AsyncUpdater, private juce::Timer {
public:
    VocalMidiProcessor();
    ~VocalMidiProcessor() override;

    // How the audio leaves: an effect passes its input on (delayed by the latency); an
    // instrument (VocalMidiInstrument) listens on a side-chain and outputs the guide tone only.
    enum class AudioOut { PassInput, GuideOnly };

    void prepareToPlay(double sampleRate, int maximumExpectedSamplesPerBlock) override;
    void releaseResources() override;
    void reset() override;
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    void processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    using AudioProcessor::processBlock;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }

    const juce::String getName() const override { return JucePlugin_Name; }
    bool acceptsMidi() const override { return JucePlugin_WantsMidiInput != 0; }
    bool producesMidi() const override { return true; }
    bool isMidiEffect() const override { return false; }
    double getTailLengthSeconds() const override { return 0.0; }

    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return "Default"; }
    void changeProgramName(int, const juce::String&) override {}

    void getStateInformation(juce::MemoryBlock& destData) override;
    void setStateInformation(const void* data, int sizeInBytes) override;

    juce::AudioProcessorParameter* getBypassParameter() const override { return bypassParam; }

    // For the editor (message thread).
    juce::AudioProcessorValueTreeState& getState() { return state; }
    Engine& getEngine() { return engine; }
    ModelLoader::Status getModelStatus() const { return loader.status(); }
    SentNoteRing& getSentNotes() { return sentNotes; }
    int64_t getSamplePosition() const { return samplePos.load(std::memory_order_relaxed); }
    double getPreparedSampleRate() const { return preparedRate.load(std::memory_order_relaxed); }
    double getCpuLoadPercent() const { return loadMeasurer.getLoadAsPercentage(); }
    bool isOfflinePrepared() const { return preparedOffline.load(std::memory_order_relaxed); }

protected:
    VocalMidiProcessor(const BusesProperties& buses, AudioOut audioOut);

private:
    void handleAsyncUpdate() override;
    // Picks up updateWanted: the audio thread may not call triggerAsyncUpdate (on Linux it
    // locks and allocates: JUCE's message queue), so it sets a flag this timer polls.
    void timerCallback() override;
    void prepareEngine(double sampleRate, int maxBlock, bool offline);
    void updateVirtualMidiOut();
    void updateLatency();
    void emitEvents(const NoteEvent* events, int count, int blockStart, int chunkLen, juce::MidiBuffer& midi);
    void releaseHeld(juce::MidiBuffer& midi);

    static constexpr int kMaxEvents = 512;
    static constexpr int kMaxChannels = 8;
    static constexpr int kPitchGrid = 64;  // samples between guide-tone pitch updates

    const AudioOut audioOut;
    Engine engine;
    juce::AudioProcessorValueTreeState state;
    ParamReader reader;
    juce::AudioParameterBool* bypassParam = nullptr;
    ModelLoader loader;

    // Held while the message thread re-prepares the engine; the audio thread only tries it
    // and passes audio through when it is taken.
    juce::SpinLock engineLock;
    // The message side's lock (never the audio thread's): prepareToPlay/releaseResources,
    // the timer's updates and destruction. In an LV2 host the first and last run on the
    // host's thread, the timer on JUCE's own message thread inside the plugin.
    juce::CriticalSection callbackLock;
    std::atomic<bool> prepared{false};
    std::atomic<bool> preparedOffline{false};
    std::atomic<bool> reprepareWanted{false};
    std::atomic<bool> updateWanted{false};  // audio -> message: run handleAsyncUpdate
    std::atomic<double> preparedRate{0.0};
    int preparedBlock = 0;

    std::vector<float> mono;
    std::vector<float> guide;
    std::vector<NoteEvent> events;
    DryDelay dryDelay;
    GuideTone guideTone;
    HeldNotes held;
    Params lastParams;
    bool paramsSent = false;
    bool wasBypassed = false;
    float guidePitch = 0.0f;
    std::atomic<bool> releasePending{false};
    std::atomic<int64_t> samplePos{0};
    SentNoteRing sentNotes;
    juce::AudioProcessLoadMeasurer loadMeasurer;
    VirtualMidiOut virtualOut;
    std::atomic<float>* virtualOutOn = nullptr;
    const TestFault testFault = testFaultFromEnvironment();  // test hook: None for users

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(VocalMidiProcessor)
};

}  // namespace vocalmidi::plugin
