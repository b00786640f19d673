#include "rt/HopWakeup.h"

#include <chrono>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace vocalmidi {

// The futex calls take the counter's address as a plain 32-bit word.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
              std::atomic<uint32_t>::is_always_lock_free);

void HopWakeup::wait(uint32_t seen, int timeoutUs) {
#if defined(__linux__)
    // seq_cst on both sides: either wakeNow() sees `sleeping`, or the futex sees the new word.
    sleeping.store(1, std::memory_order_seq_cst);
    if (word.load(std::memory_order_seq_cst) == seen) {
        timespec ts{timeoutUs / 1000000, static_cast<long>(timeoutUs % 1000000) * 1000};
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, &ts,
                nullptr, 0);
    }
    sleeping.store(0, std::memory_order_relaxed);
#else
    // Elsewhere: poll as before (2 ms), never longer than asked.
    (void)seen;
    std::this_thread::sleep_for(std::chrono::microseconds(timeoutUs < 2000 ? timeoutUs : 2000));
#endif
}

void HopWakeup::wakeNow() {
    word.fetch_add(1, std::memory_order_seq_cst);
#if defined(__linux__)
    if (sleeping.load(std::memory_order_seq_cst)) {
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
                nullptr, 0);
    }
#endif
}

}  // namespace vocalmidi
