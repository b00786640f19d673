// The plugin window: a scrolling piano roll of the notes sent with the live pitch line, an
// input meter, the model and its status (with the fix when something is wrong), latency
// and CPU (with the latency mode and the measured emission latency), a button that saves
// the engine's profile report, and the few controls a singer reaches for.
// Thread: message.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

#include "LevelMeter.h"
#include "PianoRollView.h"

namespace vocalmidi::plugin {

class VocalMidiProcessor;

class VocalMidiEditor : public juce::AudioProcessorEditor, private juce::Timer {
public:
    explicit VocalMidiEditor(VocalMidiProcessor& processor);
    ~VocalMidiEditor() override;

    void paint(juce::Graphics& g) override;
    void resized() override;

private:
    using SliderAttachment = juce::AudioProcessorValueTreeState::SliderAttachment;
    using ComboAttachment = juce::AudioProcessorValueTreeState::ComboBoxAttachment;

    void timerCallback() override;
    void updateStatus();
    // Asks where to save the engine's profile report (the JSON `vocalmidi profile --json` prints).
    void saveReport();
    void addCombo(juce::ComboBox& box, juce::Label& label, const char* paramId, const char* text,
                  std::unique_ptr<ComboAttachment>& attachment);
    void addSlider(juce::Slider& slider, juce::Label& label, const char* paramId, const char* text,
                   std::unique_ptr<SliderAttachment>& attachment);

    VocalMidiProcessor& proc;
    juce::LookAndFeel_V4 lookAndFeel;
    PianoRollView roll;
    LevelMeter meter;
    juce::Label title, status, info;
    juce::TextButton saveReportButton{"Save report"};
    std::unique_ptr<juce::FileChooser> chooser;

    juce::ComboBox modelBox, latencyBox, scaleBox;
    juce::Slider sensitivity, mix;
    juce::Label modelLabel, latencyLabel, scaleLabel, sensitivityLabel, mixLabel;
    std::unique_ptr<ComboAttachment> modelAtt, latencyAtt, scaleAtt;
    std::unique_ptr<SliderAttachment> sensitivityAtt, mixAtt;

    juce::Colour statusColour = juce::Colours::grey;
    int tick = 0;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(VocalMidiEditor)
};

}  // namespace vocalmidi::plugin
