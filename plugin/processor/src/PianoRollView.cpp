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
    follow();
    repaint();
}

void PianoRollView::setRange(int lowNote, int highNote) {
    rangeLow = std::min(lowNote, highNote);
    rangeHigh = std::max(lowNote, highNote);
}

void PianoRollView::follow() {
    float lo = 1000.0f, hi = -1000.0f;
    for (const auto& n : notes) {
        lo = std::min(lo, float(n.note));
        hi = std::max(hi, float(n.note));
    }
    for (const auto& p : pitches)
        if (p.pitch > 0.0f) {
            lo = std::min(lo, p.pitch);
            hi = std::max(hi, p.pitch);
        }
    if (hi < lo) {  // nothing yet: the middle of the voice range
        lo = 55.0f;
        hi = 67.0f;
    }
    constexpr float kMinSpan = 24.0f;
    lo -= 4.0f;
    hi += 4.0f;
    if (hi - lo < kMinSpan) {
        const float mid = 0.5f * (lo + hi);
        lo = mid - kMinSpan / 2;
        hi = mid + kMinSpan / 2;
    }
    lo = std::max(lo, float(rangeLow) - 2.0f);
    hi = std::min(hi, float(rangeHigh) + 2.0f);
    // Glide so that the view does not jump with every note.
    viewLow += 0.08f * (lo - viewLow);
    viewHigh += 0.08f * (hi - viewHigh);
    low = juce::jlimit(0, 127, int(std::floor(viewLow)));
    high = juce::jlimit(low + 12, 127, int(std::ceil(viewHigh)));
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
            if (rowH >= 7.0f) {
                g.setColour(juce::Colour(0xff3a414d));
                g.setFont(std::min(10.0f, rowH));
                g.drawText("C" + juce::String(n / 12 - 1),
                           juce::Rectangle<float>(keys.getX() + 2.0f, y, kKeyboardWidth - 7.0f, rowH),
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
        // Velocity as colour: soft = blue, loud = orange.
        const float v = juce::jlimit(0.0f, 1.0f, float(nt.velocity) / 127.0f);
        const auto c = juce::Colour::fromHSV(0.58f - 0.52f * v, 0.70f, 0.95f, 1.0f);
        g.setColour(c);
        const juce::Rectangle<float> box(x0, y + 0.5f, std::max(2.0f, x1 - x0), std::max(2.0f, rowH - 1.0f));
        g.fillRoundedRectangle(box, 2.5f);
        g.setColour(c.brighter(0.4f));
        g.drawRoundedRectangle(box, 2.5f, 1.0f);
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
    g.setColour(juce::Colour(0xfff4f4f4).withAlpha(0.85f));
    g.strokePath(path, juce::PathStrokeType(1.8f, juce::PathStrokeType::curved, juce::PathStrokeType::rounded));
    g.restoreState();
}

}  // namespace vocalmidi::plugin
