// A vertical input level meter (dBFS) with a falling peak.
// Thread: message.
#pragma once

#include <juce_gui_basics/juce_gui_basics.h>

namespace vocalmidi::plugin {

class LevelMeter : public juce::Component {
public:
    void setLevelDb(float db);
    void paint(juce::Graphics& g) override;

private:
    static float toProportion(float db);
    float level = -100.0f;
    float peak = -100.0f;
};

}  // namespace vocalmidi::plugin
