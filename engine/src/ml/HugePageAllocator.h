// ONNX Runtime's CPU memory on transparent huge pages: the prepacked weights and the
// tensors of the CPU sessions whose inputs have fixed shapes (the one-frame note model the
// ML thread calls once a hop; OrtRuntime::openSession).
//
// Why (docs/measurements.md, session 35): the ML thread calls the note model once a hop,
// 5 ms apart, and on this machine by then the caches and the TLB hold nothing of the
// last call: a call that takes ~80 us back to back takes ~450 us paced. ~1 MB of weights
// on 4 KB pages is ~250 page walks a call, each its own cache misses; on one 2 MB page it
// is one. Measured in one process, calls interleaved: -55 us a paced call (~1 % of a
// core). The kernel gives huge pages to a region marked MADV_HUGEPAGE when THP is
// "madvise" or "always" (Debian's default is "madvise"); with "never" this is a plain
// allocator and nothing is lost.
//
// Blocks are power-of-two classes carved from one 2 MB-aligned region (reserved, not
// committed: the kernel backs what is touched) and kept on a free list per class when
// freed, so a session's per-call tensors reuse the same pages. Larger blocks, or any once
// the region is full, come from the heap. Thread: any but the audio thread (a mutex: the
// plugin's instances share it from their ML threads; ONNX Runtime's own arena locks too).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

class HugePageAllocator : public OrtAllocator {
public:
    static constexpr size_t kAlign = 64;           // what MLAS asks of its buffers
    static constexpr size_t kHugePage = 2u << 20;  // x86-64's transparent huge page
    static constexpr size_t kLargest = 4u << 20;   // bigger blocks come from the heap

    explicit HugePageAllocator(size_t regionBytes = 64u << 20);
    ~HugePageAllocator();
    HugePageAllocator(const HugePageAllocator&) = delete;
    HugePageAllocator& operator=(const HugePageAllocator&) = delete;

    void* allocate(size_t bytes);  // nullptr only when the heap is out of memory too
    void release(void* p);         // nullptr is a no-op
    // Whether the region was marked for huge pages (the kernel decides at each fault).
    bool hugePagesAsked() const { return asked; }
    bool inRegion(const void* p) const;
    // The kernel's THP mode ("always", "madvise", "never"); empty where it cannot be read.
    static std::string kernelMode();
    size_t regionBytesUsed() const;  // carved so far, free lists included

private:
    static constexpr int kClasses = 17;  // 64 B << 0 .. 64 B << 16 = 4 MB
    static int classOf(size_t bytes);

    Ort::MemoryInfo info;
    char* region = nullptr;
    size_t regionSize = 0;
    size_t carved = 0;
    bool asked = false;
    void* freeLists[kClasses] = {};
    mutable std::mutex lock;
};

}  // namespace vocalmidi
