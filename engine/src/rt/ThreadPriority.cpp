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
    // SCHED_IDLE runs only when nothing else wants the CPU: it can never delay an audio
    // thread (SCHED_FIFO or normal). If refused (some containers), fall back to nice +10.
    sched_param sp{};
    sp.sched_priority = 0;
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0) return "SCHED_IDLE";
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 10) == 0) return "nice+10";
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
