// The note model's events on their way out in Fast and Accurate (a decision budget of
// `hold` frames): each is kept back until the ML thread decodes the frame one hop before it
// is due (realtime: sooner, by as much as the audio thread can be ahead, a host block plus
// the polling), so a retrigger that corrects a guess still held replaces it. The recording
// then holds one right note at the onset instead of a short wrong note and a late right one.
// Python twin: decode.py cancel_unsent_guesses (the bench's vocalnote-live budget rows).
// In Instant (hold 0) every event passes straight through.
// Thread: the ML thread only. Fixed capacity, no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "vocalmidi/Types.h"

namespace vocalmidi {

class NoteHoldQueue {
public:
    struct Held {
        NoteEvent event;
        int64_t frame = 0;  // label frame the event stands for
        int64_t pos = 0;    // host position it is due at (before the never-backwards clamp)
    };
    // A budget of 8 frames at up to 9 events per frame fits with room to spare; a full
    // queue releases its oldest event early (it still goes out at its own time).
    static constexpr int kCapacity = 128;

    void clear() { head = tail = 0; guess = -1; }
    bool empty() const { return head == tail; }

    // One frame's events in order. `onStart`: index of the first event of a note-on group
    // (its bend, then the note-on) or -1; `corrects`: that group retriggers the held note's
    // guessed pitch. When the guess's own group is still held it is dropped with all after
    // it (its bends), and so are the events before `onStart` here (the guess's note-off).
    // Returns how many events were cancelled; `overflow` receives what a full queue pushes out.
    template <typename Release>
    int add(const Held* ev, int n, int onStart, bool corrects, Release&& overflow) {
        int cancelled = 0;
        int from = 0;
        if (corrects && onStart >= 0 && guess >= head) {
            cancelled = static_cast<int>(tail - guess) + onStart;
            tail = guess;
            from = onStart;
        }
        for (int i = from; i < n; ++i) {
            if (tail - head >= kCapacity) overflow(slots[static_cast<size_t>(head++ % kCapacity)]);
            if (i == onStart) guess = tail;
            else if (ev[i].event.type == EventType::NoteOff) guess = -1;
            slots[static_cast<size_t>(tail++ % kCapacity)] = ev[i];
        }
        return cancelled;
    }

    // Hands out, in order, every event due by frame `frame`: those standing for a frame no
    // later than `frame - hold + 1`, and those due (pos) by `soon`, the last position the
    // caller can still reach in time (realtime; INT64_MIN: none). An event waits behind an
    // earlier one (never out of order).
    template <typename Release>
    void release(int64_t frame, int hold, int64_t soon, Release&& out) {
        while (head < tail) {
            const Held& h = slots[static_cast<size_t>(head % kCapacity)];
            if (h.frame + hold - 1 > frame && h.pos > soon) break;
            out(slots[static_cast<size_t>(head++ % kCapacity)]);
        }
    }

    template <typename Release>
    void releaseAll(Release&& out) {
        while (head < tail) out(slots[static_cast<size_t>(head++ % kCapacity)]);
    }

private:
    std::array<Held, kCapacity> slots{};
    int64_t head = 0;   // absolute index of the oldest held event
    int64_t tail = 0;   // one past the newest
    int64_t guess = -1; // absolute index of the held note's note-on group, while it may be cancelled
};

}  // namespace vocalmidi
