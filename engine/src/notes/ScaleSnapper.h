// Key/scale snapping: maps a (fractional) MIDI pitch to the nearest note of a scale.
// Thread: any (pure functions).
#pragma once

#include "vocalmidi/Types.h"

namespace vocalmidi {

class ScaleSnapper {
public:
    // Bit i set = pitch class (root + i) belongs to the scale.
    static unsigned mask(Scale scale);
    static bool inScale(int note, Scale scale, int root);
    // Nearest scale note to `midi`; ties go to the lower note.
    static int snap(float midi, Scale scale, int root);
};

}  // namespace vocalmidi
