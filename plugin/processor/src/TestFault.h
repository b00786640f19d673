// TEST HOOK ONLY - does nothing unless VOCALMIDI_TEST_FAULT is set.
//
// `vocalmidi dawtest` must catch real faults, and its own tests prove it by loading this very
// plugin with one deliberate fault switched on (tests/python/test_dawtest.py) and asserting
// that the harness fails it. That avoids building a second, broken plugin on 2 CI cores.
// The variable is read once, when a processor is constructed; unset or unknown = no fault,
// which is the only state a user ever sees.
//
// Thread: testFaultFromEnvironment() on the message thread (constructor).
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>

namespace vocalmidi::plugin {

enum class TestFault {
    None,
    LeakNotesOnReset,  // "leak-notes-on-reset": reset() keeps the engine and held notes
    WrongLatency,      // "wrong-latency": reports more latency than the dry path has
    IgnoreOffline,     // "ignore-offline": offline renders run the live (non-deterministic) engine
    AllocateInProcess, // "allocate-in-process": a heap allocation in every processBlock
};

// The latency error the WrongLatency fault adds, in samples.
inline constexpr int kTestFaultLatencyError = 256;

// The AllocateInProcess fault's allocation; volatile so the compiler cannot elide it.
inline void testFaultAllocate() {
    std::unique_ptr<volatile float[]> p(new volatile float[64]);
    p[0] = 1.0f;
}

inline TestFault testFaultFromEnvironment() {
    const char* v = std::getenv("VOCALMIDI_TEST_FAULT");
    if (v == nullptr) return TestFault::None;
    if (std::strcmp(v, "leak-notes-on-reset") == 0) return TestFault::LeakNotesOnReset;
    if (std::strcmp(v, "wrong-latency") == 0) return TestFault::WrongLatency;
    if (std::strcmp(v, "ignore-offline") == 0) return TestFault::IgnoreOffline;
    if (std::strcmp(v, "allocate-in-process") == 0) return TestFault::AllocateInProcess;
    return TestFault::None;
}

}  // namespace vocalmidi::plugin
