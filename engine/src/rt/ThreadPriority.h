// Lowers the calling thread's scheduling priority below the audio thread's.
// Thread: the thread to lower (the engine's ML thread calls it on itself).
#pragma once

#include <string>

namespace vocalmidi {

// Returns a short description of what was applied (for the profiler), e.g. "SCHED_IDLE".
std::string lowerCurrentThreadPriority();

// CPU seconds consumed by the calling thread so far.
double currentThreadCpuSeconds();

}  // namespace vocalmidi
