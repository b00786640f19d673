// Which notes the plugin has switched on and not yet off, so that bypass, reset and
// teardown can end them instead of leaving a synth droning.
// Thread: audio.
#pragma once

#include <bitset>
#include <cstdint>

#include "vocalmidi/Types.h"

namespace vocalmidi::plugin {

class HeldNotes {
public:
    void note(const NoteEvent& e);
    bool any() const { return count > 0; }
    // Calls fn(channel 1..16, note) for every held note, then forgets them all.
    template <typename Fn>
    void releaseAll(Fn&& fn) {
        for (int ch = 0; ch < 16 && count > 0; ++ch)
            for (int n = 0; n < 128; ++n)
                if (held[size_t(ch)].test(size_t(n))) {
                    fn(ch + 1, n);
                    held[size_t(ch)].reset(size_t(n));
                    --count;
                }
        count = 0;
    }

private:
    std::bitset<128> held[16];
    int count = 0;
};

}  // namespace vocalmidi::plugin
