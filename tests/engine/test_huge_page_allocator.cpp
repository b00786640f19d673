// ml/HugePageAllocator: ONNX Runtime's CPU memory on transparent huge pages. It must hand
// out aligned, distinct blocks, reuse what is freed (a session's per-call tensors land on
// the same pages every hop), fall back to the heap when a block is too big or the region
// is full, survive the plugin's instances allocating at once, and put a real session's
// weights on huge pages where the kernel offers them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ml/HugePageAllocator.h"
#include "ml/OrtRuntime.h"
#include "vocalmidi/Types.h"

using namespace vocalmidi;

namespace {

bool aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % HugePageAllocator::kAlign == 0; }

// kB of huge pages backing the mapping that holds `p` (/proc/self/smaps).
long hugePagesKbAt(const void* p) {
    std::ifstream f("/proc/self/smaps");
    const auto at = reinterpret_cast<uintptr_t>(p);
    std::string line;
    bool inside = false;
    while (std::getline(f, line)) {
        uintptr_t lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
            inside = lo <= at && at < hi;
            continue;
        }
        long kb = 0;
        if (inside && std::sscanf(line.c_str(), "AnonHugePages: %ld kB", &kb) == 1)
            return kb;
    }
    return -1;
}

}  // namespace

TEST_CASE("huge-page allocator: aligned, distinct blocks; a freed block is handed out again",
          "[allocator]") {
    HugePageAllocator a(8u << 20);
    std::vector<void*> blocks;
    for (size_t size : {1u, 63u, 64u, 65u, 1000u, 4096u, 100000u, 470000u}) {
        void* p = a.allocate(size);
        REQUIRE(p != nullptr);
        CHECK(aligned(p));
        CHECK(a.inRegion(p));
        std::memset(p, 0xab, size);  // the whole block is usable
        blocks.push_back(p);
    }
    CHECK(std::set<void*>(blocks.begin(), blocks.end()).size() == blocks.size());
    const size_t used = a.regionBytesUsed();
    void* again = blocks[4];
    a.release(again);
    CHECK(a.allocate(900) == again);  // the same class, the same block
    CHECK(a.regionBytesUsed() == used);
    for (void* p : blocks)
        a.release(p);
    a.release(nullptr);
}

TEST_CASE("huge-page allocator: too big, or the region full, comes from the heap", "[allocator]") {
    HugePageAllocator a(2u << 20);
    void* big = a.allocate(HugePageAllocator::kLargest + 1);
    REQUIRE(big != nullptr);
    CHECK(aligned(big));
    CHECK_FALSE(a.inRegion(big));
    std::memset(big, 1, HugePageAllocator::kLargest + 1);
    std::vector<void*> filled;
    for (int i = 0; i < 8; ++i)  // 8 x 512 KB: the 2 MB region holds three
        filled.push_back(a.allocate(512u << 10));
    int inRegion = 0;
    for (void* p : filled) {
        REQUIRE(p != nullptr);
        CHECK(aligned(p));
        inRegion += a.inRegion(p);
    }
    CHECK(inRegion == 3);
    for (void* p : filled)
        a.release(p);
    a.release(big);
}

TEST_CASE("huge-page allocator: the plugin's instances allocate from their ML threads at once",
          "[allocator]") {
    HugePageAllocator a(16u << 20);
    auto work = [&a](int seed, bool& ok) {
        ok = true;
        std::vector<std::pair<unsigned char*, size_t>> held;
        for (int i = 0; i < 4000; ++i) {
            const size_t size = 64 + size_t((seed * 7919 + i * 104729) % 20000);
            auto* p = static_cast<unsigned char*>(a.allocate(size));
            std::memset(p, seed, size);
            held.emplace_back(p, size);
            if (held.size() > 16) {  // free the oldest, checking nobody wrote over it
                auto [q, n] = held.front();
                for (size_t k = 0; k < n; ++k)
                    ok = ok && q[k] == static_cast<unsigned char>(seed);
                a.release(q);
                held.erase(held.begin());
            }
        }
        for (auto [q, n] : held)
            a.release(q);
    };
    bool ok[4] = {};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back(work, t + 1, std::ref(ok[t]));
    for (auto& t : threads)
        t.join();
    for (bool b : ok)
        CHECK(b);
}

TEST_CASE("huge-page allocator: a graph of variable shapes keeps ONNX Runtime's own memory",
          "[allocator]") {
    // SwiftF0 takes any number of samples: its tensors' sizes follow the input, and blocks of
    // every size would stay in the pool, which never gives memory back.
    HugePageAllocator* a = OrtRuntime::cpuAllocator();
    REQUIRE(a != nullptr);
    const size_t before = a->regionBytesUsed();
    DeviceUse used;
    auto session = OrtRuntime::openSession(VOCALMIDI_SWIFTF0_ONNX, Device::Cpu, used);
    REQUIRE(session);
    CHECK(a->regionBytesUsed() == before);
}

#ifdef VOCALMIDI_NOTE_ONNX
TEST_CASE("huge-page allocator: a note model session's weights lie on huge pages", "[allocator][notemodel]") {
    HugePageAllocator* a = OrtRuntime::cpuAllocator();
    REQUIRE(a != nullptr);  // ONNX Runtime took it
    const size_t before = a->regionBytesUsed();
    DeviceUse used;
    auto session = OrtRuntime::openSession(VOCALMIDI_NOTE_ONNX, Device::Cpu, used);
    REQUIRE(session);
    // The prepacked weights (~1 MB for vocalnote-s) went through the allocator...
    INFO("carved " << (a->regionBytesUsed() - before) << " bytes");
    CHECK(a->regionBytesUsed() - before > 256u * 1024);
    // ... and, where the kernel gives huge pages on request, onto them.
    const std::string mode = HugePageAllocator::kernelMode();
    INFO("THP mode '" << mode << "'");
    if (mode == "madvise" || mode == "always") {
        void* probe = a->allocate(64);
        CHECK(a->hugePagesAsked());
        CHECK(hugePagesKbAt(probe) >= 2048);
        a->release(probe);
        CHECK(OrtRuntime::hugePagesState() == "on");
    } else {
        CHECK(OrtRuntime::hugePagesState().rfind("off", 0) == 0);
    }
}
#endif
