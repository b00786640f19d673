#include "rt/ThreadPriority.h"

#include <ctime>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <mach/mach.h>
#include <pthread.h>
#include <pthread/qos.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace vocalmidi {

std::string lowerCurrentThreadPriority() {
#if defined(__linux__)
    // Audio threads run SCHED_FIFO (or at least nice 0); nice +5 keeps this thread below them
    // while still getting a fair share on a busy machine. SCHED_IDLE (the fallback) would
    // starve it whenever anything else runs, e.g. a DAW's other tracks.
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 5) == 0) return "nice+5";
    sched_param sp{};
    sp.sched_priority = 0;
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0) return "SCHED_IDLE";
    return "unchanged";
#elif defined(__APPLE__)
    if (pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0) == 0) return "QOS_CLASS_UTILITY";
    return "unchanged";
#elif defined(_WIN32)
    if (SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL))
        return "THREAD_PRIORITY_BELOW_NORMAL";
    return "unchanged";
#else
    return "unchanged";
#endif
}

double currentThreadCpuSeconds() {
#if defined(__linux__) || defined(__APPLE__)
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
#elif defined(_WIN32)
    FILETIME c, e, k, u;
    GetThreadTimes(GetCurrentThread(), &c, &e, &k, &u);
    auto toS = [](FILETIME f) {
        return (static_cast<double>(f.dwHighDateTime) * 4294967296.0 + f.dwLowDateTime) * 1e-7;
    };
    return toS(k) + toS(u);
#else
    return 0.0;
#endif
}

}  // namespace vocalmidi
