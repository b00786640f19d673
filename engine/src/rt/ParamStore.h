// Params shared between threads without locks: a seqlock whose payload lives in relaxed
// atomic words (so concurrent reads are not data races).
// Thread: store() from any thread (writers exclude each other by CAS, never by a mutex);
// load() from any thread including audio: it never blocks, it retries while a write is
// in flight and counts the retries (a retry on the audio thread is the audio thread
// waiting on a lower-priority writer: the profiler reports it as a priority inversion).
#pragma once

#include <atomic>
#include <cstdint>

#include "vocalmidi/Types.h"

namespace vocalmidi {

class ParamStore {
public:
    ParamStore();
    void store(const Params& p);
    // Returns the number of retries needed for a consistent snapshot.
    uint32_t load(Params& out) const;
    // Bumped on each store: readers cache a snapshot and reload only when it changed.
    uint32_t version() const { return seq.load(std::memory_order_acquire); }

private:
    static constexpr int kWords = (sizeof(Params) + 7) / 8;
    std::atomic<uint32_t> seq{0};
    std::atomic<uint64_t> words[kWords];
};

}  // namespace vocalmidi
