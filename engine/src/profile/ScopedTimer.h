// Times a scope into a TimingStats (steady clock; no allocation, safe on the audio thread).
#pragma once

#include <chrono>

#include "profile/TimingStats.h"

namespace vocalmidi {

class ScopedTimer {
public:
    explicit ScopedTimer(TimingStats& s) : stats(s), start(std::chrono::steady_clock::now()) {}
    ~ScopedTimer() {
        const auto d = std::chrono::steady_clock::now() - start;
        stats.add(std::chrono::duration<double, std::micro>(d).count());
    }
    ScopedTimer(const ScopedTimer&) = delete;
    ScopedTimer& operator=(const ScopedTimer&) = delete;

private:
    TimingStats& stats;
    std::chrono::steady_clock::time_point start;
};

}  // namespace vocalmidi
