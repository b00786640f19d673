#include "notes/ScaleSnapper.h"

#include <cmath>
#include <initializer_list>

namespace vocalmidi {

unsigned ScaleSnapper::mask(Scale scale) {
    auto bits = [](std::initializer_list<int> steps) {
        unsigned m = 0;
        for (int s : steps) m |= 1u << s;
        return m;
    };
    switch (scale) {
        case Scale::Chromatic: return 0xFFFu;
        case Scale::Major: return bits({0, 2, 4, 5, 7, 9, 11});
        case Scale::Minor: return bits({0, 2, 3, 5, 7, 8, 10});
        case Scale::Dorian: return bits({0, 2, 3, 5, 7, 9, 10});
        case Scale::Phrygian: return bits({0, 1, 3, 5, 7, 8, 10});
        case Scale::Lydian: return bits({0, 2, 4, 6, 7, 9, 11});
        case Scale::Mixolydian: return bits({0, 2, 4, 5, 7, 9, 10});
        case Scale::Locrian: return bits({0, 1, 3, 5, 6, 8, 10});
        case Scale::HarmonicMinor: return bits({0, 2, 3, 5, 7, 8, 11});
        case Scale::MajorPentatonic: return bits({0, 2, 4, 7, 9});
        case Scale::MinorPentatonic: return bits({0, 3, 5, 7, 10});
        case Scale::Blues: return bits({0, 3, 5, 6, 7, 10});
    }
    return 0xFFFu;
}

bool ScaleSnapper::inScale(int note, Scale scale, int root) {
    const int pc = (((note - root) % 12) + 12) % 12;
    return (mask(scale) >> pc) & 1u;
}

int ScaleSnapper::snap(float midi, Scale scale, int root) {
    const int base = static_cast<int>(std::floor(midi));
    int best = static_cast<int>(std::lround(midi));
    float bestDist = 1e9f;
    for (int c = base - 3; c <= base + 4; ++c) {
        if (!inScale(c, scale, root)) continue;
        const float d = std::abs(midi - static_cast<float>(c));
        if (d < bestDist - 1e-6f) {
            bestDist = d;
            best = c;
        }
    }
    return best;
}

}  // namespace vocalmidi
