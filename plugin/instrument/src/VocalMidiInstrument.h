// "VocalMIDI Instrument": the same processor as the effect, shaped as an instrument for hosts
// that route MIDI out of instruments only (Ableton Live: "MIDI From: <track>"). It listens on
// a mono or stereo side-chain input (the only audio input; VST3: an aux bus, as Live and
// Cubase expect of an instrument's side-chain), sends MIDI out, and outputs silence or the
// guide tone (Monitor Mix). Parameters and state are the effect's, so presets move across.
//
// Thread: as VocalMidiProcessor.
#pragma once

#include "VocalMidiProcessor.h"

namespace vocalmidi::plugin {

class VocalMidiInstrument : public VocalMidiProcessor, public juce::VST3ClientExtensions {
public:
    VocalMidiInstrument();

    // Side-chain disabled, mono or stereo; output mono or stereo; no other buses.
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;

    // VST3: input bus 0 is an aux (side-chain) bus, not a main input.
    bool getPluginHasMainInput() const override { return false; }
};

}  // namespace vocalmidi::plugin
