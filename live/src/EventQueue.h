// Lock-free single-producer/single-consumer queue of live events: the JACK process
// callback pushes, a control thread (Python) pops.
// Thread: push() from the audio thread only, pop() from one other thread only.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace vocalmidi::live {

template <typename T>
class EventQueue {
public:
    // Control thread, before the producer starts. Capacity is rounded up to a power of two.
    void allocate(size_t minCapacity) {
        size_t cap = 1;
        while (cap < minCapacity) cap <<= 1;
        items.assign(cap, T{});
        mask = cap - 1;
        head.store(0, std::memory_order_relaxed);
        tail.store(0, std::memory_order_relaxed);
    }

    // Audio thread: false when full (the caller counts the drop; it never waits).
    bool push(const T& item) {
        const size_t h = head.load(std::memory_order_relaxed);
        if (h - tail.load(std::memory_order_acquire) >= items.size()) return false;
        items[h & mask] = item;
        head.store(h + 1, std::memory_order_release);
        return true;
    }

    // Consumer thread: copies up to maxOut items, returns how many.
    size_t pop(T* out, size_t maxOut) {
        const size_t t = tail.load(std::memory_order_relaxed);
        const size_t h = head.load(std::memory_order_acquire);
        size_t n = h - t;
        if (n > maxOut) n = maxOut;
        for (size_t i = 0; i < n; ++i) out[i] = items[(t + i) & mask];
        tail.store(t + n, std::memory_order_release);
        return n;
    }

private:
    std::vector<T> items;
    size_t mask = 0;
    alignas(64) std::atomic<size_t> head{0};  // written by the producer
    alignas(64) std::atomic<size_t> tail{0};  // written by the consumer
};

}  // namespace vocalmidi::live
