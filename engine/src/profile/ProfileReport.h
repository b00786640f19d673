// The profiler as a report a user can read: each figure of the engine's stats (per-stage
// timings, thread shares, queues, dropped/late frames, deadline misses, emission latency)
// beside its target, flagged where it misses. One definition for `vocalmidi profile` (via
// the C API) and the plugin editor's "Save report".
// Thread: any non-audio thread (allocates).
#pragma once

#include <string>

namespace vocalmidi {

class ProfileReport {
public:
    // Builds the report (JSON, schema "vocalmidi-profile/1") from Engine::statsJson().
    static std::string fromStats(const std::string& statsJson);
};

}  // namespace vocalmidi
