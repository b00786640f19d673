// Notes the audio thread sent, handed to the editor without locks: a fixed single-producer
// single-consumer ring (audio thread pushes, the editor's timer pops; full = dropped).
// Thread: push() audio; pop() message.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace vocalmidi::plugin {

struct SentNote {
    int64_t samplePos = 0;  // absolute sample time since prepare
    uint8_t note = 0;
    uint8_t velocity = 0;   // 0 = note off
    uint8_t channel = 1;
};

class SentNoteRing {
public:
    static constexpr uint32_t kCapacity = 1024;  // power of two

    bool push(const SentNote& n) {
        const uint32_t w = writeIdx.load(std::memory_order_relaxed);
        if (w - readIdx.load(std::memory_order_acquire) >= kCapacity)
            return false;
        slots[w & (kCapacity - 1)] = n;
        writeIdx.store(w + 1, std::memory_order_release);
        return true;
    }

    bool pop(SentNote& out) {
        const uint32_t r = readIdx.load(std::memory_order_relaxed);
        if (r == writeIdx.load(std::memory_order_acquire))
            return false;
        out = slots[r & (kCapacity - 1)];
        readIdx.store(r + 1, std::memory_order_release);
        return true;
    }

private:
    std::array<SentNote, kCapacity> slots{};
    std::atomic<uint32_t> writeIdx{0};
    std::atomic<uint32_t> readIdx{0};
};

}  // namespace vocalmidi::plugin
