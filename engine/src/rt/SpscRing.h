// Lock-free single-producer/single-consumer ring buffer.
// Thread: one producer thread and one consumer thread; allocate() from a control thread
// while neither is running. No locks, no allocation after allocate().
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

namespace vocalmidi {

template <typename T>
class SpscRing {
public:
    // Capacity is rounded up to a power of two so indices wrap with a mask.
    void allocate(size_t minCapacity) {
        size_t cap = 1;
        while (cap < minCapacity) cap <<= 1;
        buffer.assign(cap, T{});
        mask = cap - 1;
        writePos.store(0, std::memory_order_relaxed);
        readPos.store(0, std::memory_order_relaxed);
    }

    size_t capacity() const { return buffer.size(); }

    // Producer: returns how many items fit (the rest is the caller's to count as dropped).
    size_t write(const T* src, size_t n) {
        const size_t w = writePos.load(std::memory_order_relaxed);
        const size_t r = readPos.load(std::memory_order_acquire);
        const size_t space = buffer.size() - (w - r);
        n = std::min(n, space);
        for (size_t i = 0; i < n; ++i) buffer[(w + i) & mask] = src[i];
        writePos.store(w + n, std::memory_order_release);
        return n;
    }

    bool push(const T& item) { return write(&item, 1) == 1; }

    // Consumer.
    size_t readAvailable() const {
        return writePos.load(std::memory_order_acquire) - readPos.load(std::memory_order_relaxed);
    }

    size_t read(T* dst, size_t n) {
        const size_t r = readPos.load(std::memory_order_relaxed);
        const size_t w = writePos.load(std::memory_order_acquire);
        n = std::min(n, w - r);
        for (size_t i = 0; i < n; ++i) dst[i] = buffer[(r + i) & mask];
        readPos.store(r + n, std::memory_order_release);
        return n;
    }

    // Consumer: look at the oldest item without removing it.
    bool peek(T& out) const {
        const size_t r = readPos.load(std::memory_order_relaxed);
        if (writePos.load(std::memory_order_acquire) == r) return false;
        out = buffer[r & mask];
        return true;
    }

    void skip(size_t n) {
        const size_t r = readPos.load(std::memory_order_relaxed);
        const size_t w = writePos.load(std::memory_order_acquire);
        readPos.store(r + std::min(n, w - r), std::memory_order_release);
    }

    // Either side may ask; the answer is approximate while the other side runs.
    size_t fillLevel() const {
        return writePos.load(std::memory_order_acquire) - readPos.load(std::memory_order_acquire);
    }

private:
    std::vector<T> buffer;
    size_t mask = 0;
    alignas(64) std::atomic<size_t> writePos{0};
    alignas(64) std::atomic<size_t> readPos{0};
};

}  // namespace vocalmidi
