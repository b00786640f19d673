// Wakes the ML thread when the audio thread has written what its next frame needs.
//
// Why: the ML thread used to poll the ring every 2 ms. On this machine a sleep and wake
// costs ~20 us of the thread's CPU time, ~2.4 wakes a 5 ms hop: ~1 % of a core for
// nothing, and up to 2 ms between a hop's audio arriving and its analysis. Now the ML
// thread says at which ring count it wants to run again (`wantAt`) and sleeps; the audio
// thread, after each write, bumps a counter when the count reached that mark and, only
// when the ML thread sleeps, wakes it with one futex call. JACK wakes its clients from
// the real-time thread the same way: no lock, no allocation, a bounded system call.
//
// Threads: `written` on the audio thread; `epoch`, `wantAt`, `wait` on the ML thread;
// `wakeNow` on any (stop, tests).
#pragma once
#include <atomic>
#include <cstdint>
#include <limits>

namespace vocalmidi {

class HopWakeup {
public:
    // The counter to pass to wait(): read it before looking for work, so a write that
    // lands between the look and the wait makes the wait return at once.
    uint32_t epoch() const { return word.load(std::memory_order_acquire); }
    // Ring count (samples ever written) at which the ML thread has work again.
    void wantAt(int64_t ringCount) { want.store(ringCount, std::memory_order_relaxed); }
    // Sleeps until the counter moves past `seen`, or `timeoutUs` passes.
    void wait(uint32_t seen, int timeoutUs);
    // Audio thread: `ringCount` samples have been written in all.
    void written(int64_t ringCount) {
        if (ringCount >= want.load(std::memory_order_relaxed)) wakeNow();
    }
    void wakeNow();

private:
    std::atomic<uint32_t> word{0};
    std::atomic<int> sleeping{0};
    std::atomic<int64_t> want{std::numeric_limits<int64_t>::max()};
};

}  // namespace vocalmidi
