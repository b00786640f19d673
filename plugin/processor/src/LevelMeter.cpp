#include "LevelMeter.h"

#include <cmath>

namespace vocalmidi::plugin {

namespace {
constexpr float kFloorDb = -60.0f;
}

float LevelMeter::toProportion(float db) {
    if (!std::isfinite(db))
        return 0.0f;
    return juce::jlimit(0.0f, 1.0f, (db - kFloorDb) / -kFloorDb);
}

void LevelMeter::setLevelDb(float db) {
    if (!std::isfinite(db))
        db = -100.0f;
    // Fast attack, ~20 dB/s release, so that speech reads as a steady bar.
    level = db > level ? db : std::max(db, level - 0.7f);
    peak = db > peak ? db : peak - 0.3f;
    repaint();
}

void LevelMeter::paint(juce::Graphics& g) {
    const auto r = getLocalBounds().toFloat().reduced(1.0f);
    g.setColour(juce::Colour(0xff15181d));
    g.fillRoundedRectangle(r, 3.0f);
    const float h = r.getHeight() * toProportion(level);
    juce::ColourGradient grad(juce::Colour(0xff3ddc97), r.getX(), r.getBottom(), juce::Colour(0xffff5c5c), r.getX(),
                              r.getY(), false);
    grad.addColour(0.75, juce::Colour(0xfff4d35e));
    g.setGradientFill(grad);
    g.fillRoundedRectangle(r.withTop(r.getBottom() - h), 3.0f);
    const float py = r.getBottom() - r.getHeight() * toProportion(peak);
    g.setColour(juce::Colours::white.withAlpha(0.8f));
    g.fillRect(r.getX(), py - 1.0f, r.getWidth(), 2.0f);
    g.setColour(juce::Colours::white.withAlpha(0.25f));
    for (float db : {-48.0f, -36.0f, -24.0f, -12.0f, -6.0f}) {
        const float y = r.getBottom() - r.getHeight() * toProportion(db);
        g.drawHorizontalLine(int(y), r.getX(), r.getRight());
    }
}

}  // namespace vocalmidi::plugin
