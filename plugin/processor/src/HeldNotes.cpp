#include "HeldNotes.h"

namespace vocalmidi::plugin {

void HeldNotes::note(const NoteEvent& e) {
    if (e.channel < 1 || e.channel > 16 || e.note > 127)
        return;
    auto& bits = held[e.channel - 1];
    if (e.type == EventType::NoteOn && !bits.test(e.note)) {
        bits.set(e.note);
        ++count;
    } else if (e.type == EventType::NoteOff && bits.test(e.note)) {
        bits.reset(e.note);
        --count;
    }
}

}  // namespace vocalmidi::plugin
