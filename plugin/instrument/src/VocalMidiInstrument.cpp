#include "VocalMidiInstrument.h"

namespace vocalmidi::plugin {

VocalMidiInstrument::VocalMidiInstrument()
    : VocalMidiProcessor(BusesProperties()
                             // Enabled by default: a host that never activates side-chains
                             // (or a user who never finds the switch) still feeds it.
                             .withInput("Sidechain", juce::AudioChannelSet::stereo(), true)
                             .withOutput("Output", juce::AudioChannelSet::stereo(), true),
                         AudioOut::GuideOnly) {}

bool VocalMidiInstrument::isBusesLayoutSupported(const BusesLayout& layouts) const {
    if (layouts.inputBuses.size() != 1 || layouts.outputBuses.size() != 1)
        return false;
    const auto side = layouts.getChannelSet(true, 0);
    const auto out = layouts.getChannelSet(false, 0);
    const auto monoOrStereo = [](const juce::AudioChannelSet& s) {
        return s == juce::AudioChannelSet::mono() || s == juce::AudioChannelSet::stereo();
    };
    return monoOrStereo(out) && (side.isDisabled() || monoOrStereo(side));
}

}  // namespace vocalmidi::plugin

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() {
    return new vocalmidi::plugin::VocalMidiInstrument();
}
