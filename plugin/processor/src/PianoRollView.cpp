#include "PianoRollView.h"

namespace vocalmidi::plugin {

namespace {
constexpr float kKeyboardWidth = 34.0f;
bool isBlack(int note) {
    const int pc = note % 12;
    return pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10;
}
}  // namespace

void PianoRollView::noteOn(double t, int note, int velocity) {
    notes.push_back({t, -1.0, note, velocity});
}

void PianoRollView::noteOff(double t, int note) {
    for (auto it = notes.rbegin(); it != notes.rend(); ++it)
        if (it->note == note && it->end < 0.0) {
            it->end = t;
            break;
        }
}

void PianoRollView::pitch(double t, float midiPitch) {
    pitches.push_back({t, midiPitch});
}

void PianoRollView::setNow(double t) {
    if (t < now - 1.0)
        clear();  // the host restarted: time went backwards
    now = t;
    prune();
    repaint();
}

void PianoRollView::setRange(int lowNote, int highNote) {
    low = std::min(lowNote, highNote);
    high = std::max(std::max(lowNote, highNote), low + 12);
}

void PianoRollView::clear() {
    notes.clear();
    pitches.clear();
}

void PianoRollView::prune() {
    const double oldest = now - windowSec;
    while (!notes.empty() && notes.front().end >= 0.0 && notes.front().end < oldest)
        notes.pop_front();
    while (notes.size() > 2000)
        notes.pop_front();
    while (!pitches.empty() && pitches.front().time < oldest)
        pitches.pop_front();
}

float PianoRollView::yOf(float midi, juce::Rectangle<float> a) const {
    const float rows = float(high - low + 1);
    return a.getBottom() - (midi - float(low) + 0.5f) / rows * a.getHeight();
}

void PianoRollView::paint(juce::Graphics& g) {
    const auto bounds = getLocalBounds().toFloat();
    g.setColour(juce::Colour(0xff1b1f26));
    g.fillRoundedRectangle(bounds, 4.0f);
    const auto keys = bounds.withWidth(kKeyboardWidth);
    const auto roll = bounds.withTrimmedLeft(kKeyboardWidth);
    const float rowH = roll.getHeight() / float(high - low + 1);

    // Lanes and keyboard.
    for (int n = low; n <= high; ++n) {
        const float y = yOf(float(n), roll) - rowH * 0.5f;
        g.setColour(isBlack(n) ? juce::Colour(0xff171a20) : juce::Colour(0xff20252d));
        g.fillRect(roll.getX(), y, roll.getWidth(), rowH);
        g.setColour(isBlack(n) ? juce::Colour(0xff2a2f38) : juce::Colour(0xffd9dde3));
        g.fillRect(keys.getX() + 2.0f, y + 0.5f, isBlack(n) ? kKeyboardWidth * 0.6f : kKeyboardWidth - 4.0f,
                   std::max(1.0f, rowH - 1.0f));
        if (n % 12 == 0) {
            g.setColour(juce::Colour(0xff3a414d));
            g.drawHorizontalLine(int(y + rowH), roll.getX(), roll.getRight());
            if (rowH * 12.0f > 40.0f) {
                g.setColour(juce::Colour(0xff5a6270));
                g.setFont(10.0f);
                g.drawText("C" + juce::String(n / 12 - 1), juce::Rectangle<float>(keys.getX() + 2.0f, y - 10.0f, 28.0f, 12.0f),
                           juce::Justification::centredRight);
            }
        }
    }
    // Second grid.
    const auto xOf = [&](double t) { return roll.getRight() - float((now - t) / windowSec) * roll.getWidth(); };
    g.setColour(juce::Colour(0xff2c323c));
    for (double s = std::floor(now); s > now - windowSec; s -= 1.0)
        g.drawVerticalLine(int(xOf(s)), roll.getY(), roll.getBottom());

    g.saveState();
    g.reduceClipRegion(roll.toNearestInt());
    // Notes: colour by velocity.
    for (const auto& nt : notes) {
        if (nt.note < low || nt.note > high)
            continue;
        const float x0 = xOf(nt.start);
        const float x1 = xOf(nt.end < 0.0 ? now : nt.end);
        const float y = yOf(float(nt.note), roll) - rowH * 0.5f;
        const auto c = juce::Colour(0xff4aa3ff).interpolatedWith(juce::Colour(0xffff8a3d), float(nt.velocity) / 127.0f);
        g.setColour(c);
        g.fillRoundedRectangle(x0, y + 0.5f, std::max(2.0f, x1 - x0), std::max(2.0f, rowH - 1.0f), 2.0f);
    }
    // Pitch line, broken where unvoiced.
    juce::Path path;
    bool drawing = false;
    for (const auto& p : pitches) {
        if (p.pitch <= 0.0f) {
            drawing = false;
            continue;
        }
        const juce::Point<float> pt(xOf(p.time), yOf(p.pitch, roll));
        if (!drawing)
            path.startNewSubPath(pt);
        else
            path.lineTo(pt);
        drawing = true;
    }
    g.setColour(juce::Colour(0xfff4f4f4).withAlpha(0.9f));
    g.strokePath(path, juce::PathStrokeType(1.6f, juce::PathStrokeType::curved, juce::PathStrokeType::rounded));
    g.restoreState();
}

}  // namespace vocalmidi::plugin
