// The audio thread must never allocate or lock: operator new/malloc and pthread_mutex_lock
// are interposed in this test binary and counted while a thread-local "audio thread" flag
// is set, across thousands of realtime blocks with the real model running.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>

#include "TestSignals.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
}

namespace {
thread_local bool tlsAudioThread = false;
std::atomic<long> audioAllocs{0};
std::atomic<long> audioLocks{0};
std::atomic<long> audioFrees{0};

inline void countAlloc() {
    if (tlsAudioThread) audioAllocs.fetch_add(1, std::memory_order_relaxed);
}

struct AudioScope {
    AudioScope() { tlsAudioThread = true; }
    ~AudioScope() { tlsAudioThread = false; }
};
}  // namespace

extern "C" {
void* malloc(size_t n) {
    countAlloc();
    return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
    countAlloc();
    return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
    countAlloc();
    return __libc_realloc(p, n);
}
void free(void* p) {
    if (tlsAudioThread && p) audioFrees.fetch_add(1, std::memory_order_relaxed);
    __libc_free(p);
}
int pthread_mutex_lock(pthread_mutex_t* m) {
    using Fn = int (*)(pthread_mutex_t*);
    static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
    if (tlsAudioThread) audioLocks.fetch_add(1, std::memory_order_relaxed);
    return real(m);
}
}

void* operator new(size_t n) {
    countAlloc();
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](size_t n) {
    countAlloc();
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }

using namespace vocalmidi;
using namespace vmtest;

TEST_CASE("interposers see allocations and locks on a flagged thread", "[realtime]") {
    // Proves the counters can fail: the same flag around a real allocation and lock.
    const long a0 = audioAllocs.load(), l0 = audioLocks.load();
    {
        AudioScope scope;
        auto* v = new std::vector<int>(100);
        delete v;
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    CHECK(audioAllocs.load() - a0 >= 2);
    CHECK(audioLocks.load() - l0 == 1);
}

namespace {
// Runs `kind` live for three passes (paced, a burst far faster than real time, resets)
// with the audio thread flagged, a parameter writer racing it; checks nothing allocated,
// freed or locked on the audio thread and that notes came out.
void checkAudioThreadClean(ModelKind kind, const char* path, int block) {
    Engine engine;
    REQUIRE(engine.loadModel(kind, path));
    const double rate = 48000;
    engine.prepare(rate, block, true);
    const auto signal = sungSignal(rate, {{57, 0.2, 0.9}, {62, 1.1, 1.8}, {60, 2.0, 2.6}}, 3.0);

    // Another thread changes parameters while audio runs (the lock-free path under contention).
    std::atomic<bool> done{false};
    std::thread paramWriter([&] {
        Params p;
        int i = 0;
        while (!done.load()) {
            p.sensitivity = 0.4f + 0.01f * static_cast<float>(i++ % 20);
            p.bendMode = (i % 2) ? BendMode::Continuous : BendMode::Off;
            p.earlyCorrection = (i % 3) ? EarlyCorrection::Retrigger : EarlyCorrection::Bend;
            p.alignedTiming = (i % 5) == 0;
            engine.setParams(p);
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
    });

    std::vector<NoteEvent> events(256);
    long noteOns = 0, blocks = 0;
    const long a0 = audioAllocs.load(), l0 = audioLocks.load(), f0 = audioFrees.load();
    auto next = std::chrono::steady_clock::now();
    // Paced like a sound card for the first pass (so notes come out), then a burst far
    // faster than real time (queue overflow and dropped frames), then resets.
    for (int pass = 0; pass < 3; ++pass) {
        for (size_t pos = 0; pos + block <= signal.size(); pos += block) {
            int k;
            {
                AudioScope scope;
                k = engine.process(signal.data() + pos, block, events.data(), static_cast<int>(events.size()));
                if (pass == 2 && (pos / block) % 500 == 0) engine.reset();
            }
            for (int i = 0; i < k; ++i) noteOns += events[static_cast<size_t>(i)].type == EventType::NoteOn;
            ++blocks;
            if (pass == 0) {
                next += std::chrono::microseconds(static_cast<int64_t>(block * 1e6 / rate));
                std::this_thread::sleep_until(next);
            }
        }
    }
    done.store(true);
    paramWriter.join();
    const std::string stats = engine.statsJson();
    engine.release();
    INFO(stats);
    CHECK(blocks >= 3 * static_cast<long>(signal.size() / static_cast<size_t>(block)));
    CHECK(noteOns >= 3);
    CHECK(audioAllocs.load() - a0 == 0);
    CHECK(audioFrees.load() - f0 == 0);
    CHECK(audioLocks.load() - l0 == 0);
}
}  // namespace

TEST_CASE("audio thread: no allocation, no lock across thousands of blocks", "[realtime]") {
    checkAudioThreadClean(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX, 64);
}

#ifdef VOCALMIDI_NOTE_ONNX
TEST_CASE("audio thread with the note model: no allocation, no lock (128-sample blocks)", "[realtime][notemodel]") {
    const char* env = std::getenv("VOCALMIDI_NOTE_ONNX");  // a model still in training, say
    checkAudioThreadClean(ModelKind::VocalNote, env && *env ? env : VOCALMIDI_NOTE_ONNX, 128);
}
#endif
