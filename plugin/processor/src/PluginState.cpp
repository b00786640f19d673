#include "PluginState.h"

#include <cmath>
#include <map>

namespace vocalmidi::plugin {

void PluginState::save(juce::AudioProcessorValueTreeState& state, juce::MemoryBlock& dest) {
    juce::XmlElement xml(kTag);
    xml.setAttribute("version", kVersion);
    for (auto* p : state.processor.getParameters()) {
        auto* rp = dynamic_cast<juce::RangedAudioParameter*>(p);
        if (rp == nullptr)
            continue;
        auto* child = xml.createNewChildElement("PARAM");
        child->setAttribute("id", rp->getParameterID());
        child->setAttribute("value", double(rp->convertFrom0to1(rp->getValue())));
    }
    juce::AudioProcessor::copyXmlToBinary(xml, dest);
}

bool PluginState::restore(juce::AudioProcessorValueTreeState& state, const void* data, int size) {
    if (data == nullptr || size <= 0)
        return false;
    const auto xml = juce::AudioProcessor::getXmlFromBinary(data, size);
    return xml != nullptr && restoreXml(state, *xml);
}

bool PluginState::plainValueOf(juce::RangedAudioParameter& p, const juce::String& text, float& out) {
    const auto t = text.trim();
    if (t.isEmpty())
        return false;
    if (auto* choice = dynamic_cast<juce::AudioParameterChoice*>(&p)) {
        const int byName = choice->choices.indexOf(t, true);
        if (byName >= 0) {
            out = float(byName);
            return true;
        }
    }
    if (!t.containsOnly("0123456789.-+eE"))
        return false;
    out = t.getFloatValue();
    return std::isfinite(out);
}

bool PluginState::restoreXml(juce::AudioProcessorValueTreeState& state, const juce::XmlElement& xml) {
    if (!xml.hasTagName(kTag) || !xml.hasAttribute("version"))
        return false;
    const int version = xml.getIntAttribute("version", 0);
    if (version < 1)
        return false;

    std::map<juce::String, juce::String> values;
    if (version == 1) {
        for (int i = 0; i < xml.getNumAttributes(); ++i)
            values[xml.getAttributeName(i)] = xml.getAttributeValue(i);
    } else {
        // Version 2, and later versions read as far as they share its layout.
        for (auto* child : xml.getChildWithTagNameIterator("PARAM"))
            values[child->getStringAttribute("id")] = child->getStringAttribute("value");
    }

    for (auto* p : state.processor.getParameters()) {
        auto* rp = dynamic_cast<juce::RangedAudioParameter*>(p);
        if (rp == nullptr)
            continue;
        float normalised = rp->getDefaultValue();
        const auto it = values.find(rp->getParameterID());
        float plain = 0.0f;
        if (it != values.end() && plainValueOf(*rp, it->second, plain))
            normalised = rp->convertTo0to1(plain);
        rp->setValueNotifyingHost(juce::jlimit(0.0f, 1.0f, normalised));
    }
    return true;
}

}  // namespace vocalmidi::plugin
