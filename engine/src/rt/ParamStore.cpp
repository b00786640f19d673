#include "rt/ParamStore.h"

#include <cstring>

namespace vocalmidi {

ParamStore::ParamStore() {
    for (auto& w : words) w.store(0, std::memory_order_relaxed);
    store(Params{});
}

void ParamStore::store(const Params& p) {
    uint64_t buf[kWords] = {};
    std::memcpy(buf, &p, sizeof(Params));
    uint32_t s = seq.load(std::memory_order_relaxed);
    // Take the odd "writing" state; another writer holding it makes us retry.
    for (;;) {
        if ((s & 1u) == 0 &&
            seq.compare_exchange_weak(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed))
            break;
        s = seq.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);
    for (int i = 0; i < kWords; ++i) words[i].store(buf[i], std::memory_order_relaxed);
    seq.store(s + 2, std::memory_order_release);
}

uint32_t ParamStore::load(Params& out) const {
    uint64_t buf[kWords];
    uint32_t retries = 0;
    for (;;) {
        const uint32_t s1 = seq.load(std::memory_order_acquire);
        if ((s1 & 1u) == 0) {
            for (int i = 0; i < kWords; ++i) buf[i] = words[i].load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (seq.load(std::memory_order_relaxed) == s1) break;
        }
        ++retries;
    }
    std::memcpy(&out, buf, sizeof(Params));
    return retries;
}

}  // namespace vocalmidi
