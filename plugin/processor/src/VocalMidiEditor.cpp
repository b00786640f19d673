#include "VocalMidiEditor.h"

#include <cmath>

#include "ParameterLayout.h"
#include "VocalMidiProcessor.h"

namespace vocalmidi::plugin {
namespace {

const juce::Colour kBackground(0xff101317);
const juce::Colour kPanel(0xff181c22);
const juce::Colour kText(0xffe6e9ee);
const juce::Colour kDim(0xff8b94a3);
const juce::Colour kAccent(0xff4aa3ff);

constexpr int kTopBar = 40;
constexpr int kBottomBar = 64;
constexpr int kInfoBar = 22;

}  // namespace

VocalMidiEditor::VocalMidiEditor(VocalMidiProcessor& p) : AudioProcessorEditor(p), proc(p) {
    lookAndFeel.setColourScheme(juce::LookAndFeel_V4::getMidnightColourScheme());
    lookAndFeel.setColour(juce::ComboBox::backgroundColourId, kPanel);
    lookAndFeel.setColour(juce::ComboBox::outlineColourId, juce::Colour(0xff2c323c));
    lookAndFeel.setColour(juce::Slider::trackColourId, kAccent);
    lookAndFeel.setColour(juce::Slider::thumbColourId, kText);
    lookAndFeel.setColour(juce::Slider::backgroundColourId, juce::Colour(0xff2c323c));
    lookAndFeel.setColour(juce::PopupMenu::backgroundColourId, kPanel);
    setLookAndFeel(&lookAndFeel);

    title.setText("VocalMIDI", juce::dontSendNotification);
    title.setFont(juce::Font(20.0f, juce::Font::bold));
    title.setColour(juce::Label::textColourId, kText);
    addAndMakeVisible(title);

    status.setFont(juce::Font(13.0f));
    status.setColour(juce::Label::textColourId, kText);
    status.setJustificationType(juce::Justification::centredLeft);
    status.setMinimumHorizontalScale(0.7f);
    addAndMakeVisible(status);

    info.setFont(juce::Font(12.0f));
    info.setColour(juce::Label::textColourId, kDim);
    info.setJustificationType(juce::Justification::centredRight);
    addAndMakeVisible(info);

    addAndMakeVisible(roll);
    addAndMakeVisible(meter);

    saveReportButton.setTooltip("Save the engine's profile report (timings, threads, latency against targets) as JSON");
    saveReportButton.onClick = [this] { saveReport(); };
    // Drawn as a text link on the editor's background, not a panel of its own.
    saveReportButton.setColour(juce::TextButton::buttonColourId, juce::Colours::transparentBlack);
    saveReportButton.setColour(juce::ComboBox::outlineColourId, juce::Colours::transparentBlack);
    saveReportButton.setColour(juce::TextButton::textColourOffId, kDim);
    addAndMakeVisible(saveReportButton);

    addCombo(modelBox, modelLabel, ids::model, "Model", modelAtt);
    addCombo(latencyBox, latencyLabel, ids::latencyMode, "Latency", latencyAtt);
    addCombo(scaleBox, scaleLabel, ids::scale, "Scale", scaleAtt);
    addSlider(sensitivity, sensitivityLabel, ids::sensitivity, "Sensitivity", sensitivityAtt);
    addSlider(mix, mixLabel, ids::monitorMix, "Monitor (dry - guide)", mixAtt);

    setResizable(true, true);
    setResizeLimits(520, 320, 1800, 1200);
    setSize(760, 440);
    updateStatus();
    startTimerHz(30);
}

VocalMidiEditor::~VocalMidiEditor() {
    stopTimer();
    setLookAndFeel(nullptr);
}

void VocalMidiEditor::addCombo(juce::ComboBox& box, juce::Label& label, const char* paramId, const char* text,
                               std::unique_ptr<ComboAttachment>& attachment) {
    if (auto* choice = dynamic_cast<juce::AudioParameterChoice*>(proc.getState().getParameter(paramId)))
        box.addItemList(choice->choices, 1);
    attachment = std::make_unique<ComboAttachment>(proc.getState(), paramId, box);
    label.setText(text, juce::dontSendNotification);
    label.setFont(juce::Font(11.0f));
    label.setColour(juce::Label::textColourId, kDim);
    addAndMakeVisible(box);
    addAndMakeVisible(label);
}

void VocalMidiEditor::addSlider(juce::Slider& slider, juce::Label& label, const char* paramId, const char* text,
                                std::unique_ptr<SliderAttachment>& attachment) {
    slider.setSliderStyle(juce::Slider::LinearHorizontal);
    slider.setTextBoxStyle(juce::Slider::TextBoxRight, false, 78, 20);
    slider.setColour(juce::Slider::textBoxOutlineColourId, juce::Colours::transparentBlack);
    attachment = std::make_unique<SliderAttachment>(proc.getState(), paramId, slider);
    label.setText(text, juce::dontSendNotification);
    label.setFont(juce::Font(11.0f));
    label.setColour(juce::Label::textColourId, kDim);
    addAndMakeVisible(slider);
    addAndMakeVisible(label);
}

void VocalMidiEditor::paint(juce::Graphics& g) {
    g.fillAll(kBackground);
    auto top = getLocalBounds().removeFromTop(kTopBar).toFloat();
    g.setColour(kPanel);
    g.fillRect(top);
    // Status light.
    const auto s = status.getBounds().toFloat();
    g.setColour(statusColour);
    g.fillEllipse(s.getX() - 16.0f, s.getCentreY() - 5.0f, 10.0f, 10.0f);
    auto bottom = getLocalBounds().removeFromBottom(kBottomBar).toFloat();
    g.setColour(kPanel);
    g.fillRect(bottom);
}

void VocalMidiEditor::resized() {
    auto r = getLocalBounds();
    auto top = r.removeFromTop(kTopBar).reduced(10, 4);
    title.setBounds(top.removeFromLeft(110));
    top.removeFromLeft(22);
    saveReportButton.setBounds(top.removeFromRight(90).reduced(0, 4));
    status.setBounds(top);

    auto bottom = r.removeFromBottom(kBottomBar).reduced(10, 6);
    const int comboW = juce::jlimit(90, 150, bottom.getWidth() / 7);
    const auto place = [&](juce::Component& c, juce::Label& l, int w) {
        auto col = bottom.removeFromLeft(w);
        l.setBounds(col.removeFromTop(16));
        c.setBounds(col.removeFromTop(26));
        bottom.removeFromLeft(10);
    };
    place(modelBox, modelLabel, comboW);
    place(latencyBox, latencyLabel, comboW - 10);
    place(scaleBox, scaleLabel, comboW + 20);
    const int sliderW = std::max(120, (bottom.getWidth() - 10) / 2);
    place(sensitivity, sensitivityLabel, sliderW);
    place(mix, mixLabel, bottom.getWidth());

    auto infoRow = r.removeFromBottom(kInfoBar).reduced(10, 2);
    info.setBounds(infoRow);

    auto main = r.reduced(10, 8);
    meter.setBounds(main.removeFromRight(14));
    main.removeFromRight(8);
    roll.setBounds(main);
}

void VocalMidiEditor::updateStatus() {
    const auto st = proc.getModelStatus();
    juce::String text;
    switch (st.state) {
        case ModelState::Ready:
            text = juce::String(st.active) + " - ready";
            statusColour = juce::Colour(0xff3ddc97);
            if (!st.deviceNote.empty()) {
                // Runs, but not where the Device parameter asked: amber, and why.
                text << " - " << juce::String(st.deviceNote);
                statusColour = juce::Colour(0xffff9f43);
            } else if (st.device == Device::Cuda) {
                text << " on CUDA";
            }
            break;
        case ModelState::Loading:
            text = juce::String(st.requested) + " - " + juce::String(st.message);
            statusColour = juce::Colour(0xfff4d35e);
            break;
        case ModelState::Failed:
            text = juce::String(st.message);
            statusColour = juce::Colour(0xffff5c5c);
            break;
        case ModelState::None:
            text = "no model yet";
            statusColour = juce::Colours::grey;
            break;
    }
    // The engine's own measurements: notes' measured emission latency, the model's time
    // per step and the ML thread's CPU share, dropped frames.
    const auto stats = juce::JSON::parse(juce::String(proc.getEngine().statsJson()));
    if (st.state == ModelState::Ready) {
        // The mode the engine runs (the note model is always Instant) and what the notes
        // sent so far measured: reported latency plus any delay beyond their decision.
        text << "   |   " << stats["latency"]["mode"].toString() << " mode";
        if (stats["latency"]["timing"].toString() == "aligned") text << ", aligned";
        const double measured = stats["latency"]["measured_emission_latency_ms_mean"];
        if (measured > 0.0)
            text << ", emission " << juce::String(measured, 1) << " ms";
    }
    status.setText(text, juce::dontSendNotification);
    status.setTooltip(text);

    const double sr = proc.getPreparedSampleRate();
    juce::String line;
    if (sr > 0.0) {
        line << "latency " << juce::String(1000.0 * proc.getLatencySamples() / sr, 1) << " ms";
        line << "   |   audio CPU " << juce::String(proc.getCpuLoadPercent(), 1) << " %";
        line << "   |   " << juce::String(sr / 1000.0, 1) << " kHz" << (proc.isOfflinePrepared() ? " offline" : "");
    } else {
        line << "not playing";
    }
    const int late = stats["ml"]["frames_late"];
    if (late > 0)
        line << "   |   late frames " << late;
    const double inferenceUs = stats["timers"]["inference"]["mean_us"];
    if (inferenceUs > 0.0)
        line << "   |   model " << juce::String(inferenceUs / 1000.0, 2) << " ms/step";
    // Live only: offline the ML work runs as fast as the host renders, so a share of wall
    // time says nothing about the headroom a live set has.
    const bool live = stats["realtime"];
    const double mlShare = stats["ml"]["cpu_share"];
    if (live && mlShare > 0.0)
        line << "   |   ML thread " << juce::String(100.0 * mlShare, 1) << " %";
    const int dropped = stats["ml"]["frames_dropped"];
    if (dropped > 0)
        line << "   |   dropped " << dropped;
    info.setText(line, juce::dontSendNotification);
    repaint(0, 0, getWidth(), kTopBar);
}

void VocalMidiEditor::saveReport() {
    const auto stamp = juce::Time::getCurrentTime().formatted("%Y%m%d-%H%M%S");
    chooser = std::make_unique<juce::FileChooser>(
        "Save the VocalMIDI profile report",
        juce::File::getSpecialLocation(juce::File::userDocumentsDirectory).getChildFile("vocalmidi-profile-" + stamp + ".json"),
        "*.json");
    chooser->launchAsync(juce::FileBrowserComponent::saveMode | juce::FileBrowserComponent::canSelectFiles |
                             juce::FileBrowserComponent::warnAboutOverwriting,
                         [this](const juce::FileChooser& fc) {
                             const auto file = fc.getResult();
                             if (file == juce::File())
                                 return;  // cancelled
                             const juce::String report(proc.getEngine().profileReportJson());
                             if (!file.replaceWithText(report))
                                 status.setText("could not write " + file.getFullPathName(), juce::dontSendNotification);
                         });
}

void VocalMidiEditor::timerCallback() {
    const double sr = proc.getPreparedSampleRate();
    if (sr > 0.0) {
        SentNote n;
        while (proc.getSentNotes().pop(n)) {
            const double t = double(n.samplePos) / sr;
            if (n.velocity > 0)
                roll.noteOn(t, n.note, n.velocity);
            else
                roll.noteOff(t, n.note);
        }
        const double now = double(proc.getSamplePosition()) / sr;
        const float hz = proc.getEngine().currentPitchHz();
        roll.pitch(now, hz > 0.0f ? 69.0f + 12.0f * std::log2(hz / 440.0f) : 0.0f);
        roll.setNow(now);
    }
    const auto p = proc.getEngine().params();
    roll.setRange(p.noteMin, p.noteMax);
    meter.setLevelDb(proc.getEngine().inputLevelDb());
    if (++tick % 8 == 0)
        updateStatus();
}

}  // namespace vocalmidi::plugin
