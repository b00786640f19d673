// A scrolling piano roll of the notes the plugin sent, with the live pitch as a line.
// Time runs right to left: "now" is the right edge.
// Thread: message.
#pragma once

#include <deque>

#include <juce_gui_basics/juce_gui_basics.h>

namespace vocalmidi::plugin {

class PianoRollView : public juce::Component {
public:
    void noteOn(double timeSec, int note, int velocity);
    void noteOff(double timeSec, int note);
    void pitch(double timeSec, float midiPitch);  // <= 0: unvoiced
    void setNow(double timeSec);
    // The notes that can occur; the view zooms to the part in use (at least two octaves).
    void setRange(int lowNote, int highNote);
    void clear();

    void paint(juce::Graphics& g) override;

private:
    struct Note {
        double start;
        double end;  // < 0 while held
        int note;
        int velocity;
    };
    struct PitchPoint {
        double time;
        float pitch;
    };

    float yOf(float midi, juce::Rectangle<float> area) const;
    void prune();
    void follow();

    std::deque<Note> notes;
    std::deque<PitchPoint> pitches;
    double now = 0.0;
    double windowSec = 8.0;
    int low = 36;    // shown rows, low..high
    int high = 84;
    int rangeLow = 36;  // what the parameters allow
    int rangeHigh = 96;
    float viewLow = 48.0f;  // smoothed zoom
    float viewHigh = 72.0f;
};

}  // namespace vocalmidi::plugin
