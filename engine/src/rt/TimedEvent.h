// A note event on its way from the ML side to the audio thread, stamped with the absolute
// stream position (host samples) where it became decidable and the reset generation it
// belongs to (events of an older generation are dropped by the audio thread).
#pragma once

#include <cstdint>

#include "vocalmidi/Types.h"

namespace vocalmidi {

struct TimedEvent {
    int64_t pos = 0;
    uint32_t gen = 0;
    NoteEvent event;
};

}  // namespace vocalmidi
