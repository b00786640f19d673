#include "profile/TimingStats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vocalmidi {

void TimingStats::reset() {
    count.store(0, std::memory_order_relaxed);
    sum.store(0, std::memory_order_relaxed);
    sumSq.store(0, std::memory_order_relaxed);
    minV.store(0, std::memory_order_relaxed);
    maxV.store(0, std::memory_order_relaxed);
    for (auto& h : hist) h.store(0, std::memory_order_relaxed);
}

int TimingStats::bucketFor(double us) {
    // Four buckets per factor of two above 0.1 us.
    if (us <= 0.1) return 0;
    const int b = static_cast<int>(std::log2(us / 0.1) * 4.0) + 1;
    return std::clamp(b, 0, kBuckets - 1);
}

double TimingStats::bucketUpper(int b) { return b == 0 ? 0.1 : 0.1 * std::exp2(b / 4.0); }

void TimingStats::add(double us) {
    // Single writer: load + store is enough; readers may see a sample half-applied, which
    // only blurs one statistic by one sample.
    const uint64_t n = count.load(std::memory_order_relaxed);
    sum.store(sum.load(std::memory_order_relaxed) + us, std::memory_order_relaxed);
    sumSq.store(sumSq.load(std::memory_order_relaxed) + us * us, std::memory_order_relaxed);
    if (n == 0 || us < minV.load(std::memory_order_relaxed)) minV.store(us, std::memory_order_relaxed);
    if (n == 0 || us > maxV.load(std::memory_order_relaxed)) maxV.store(us, std::memory_order_relaxed);
    auto& h = hist[bucketFor(us)];
    h.store(h.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    count.store(n + 1, std::memory_order_release);
}

TimingStats::Snapshot TimingStats::snapshot() const {
    Snapshot s;
    s.count = count.load(std::memory_order_acquire);
    if (s.count == 0) return s;
    const double n = static_cast<double>(s.count);
    const double su = sum.load(std::memory_order_relaxed);
    const double sq = sumSq.load(std::memory_order_relaxed);
    s.meanUs = su / n;
    s.stddevUs = std::sqrt(std::max(0.0, sq / n - s.meanUs * s.meanUs));
    s.minUs = minV.load(std::memory_order_relaxed);
    s.maxUs = maxV.load(std::memory_order_relaxed);
    uint64_t total = 0;
    for (const auto& h : hist) total += h.load(std::memory_order_relaxed);
    const uint64_t target = static_cast<uint64_t>(std::ceil(0.99 * static_cast<double>(total)));
    uint64_t acc = 0;
    for (int b = 0; b < kBuckets; ++b) {
        acc += hist[b].load(std::memory_order_relaxed);
        if (acc >= target && total > 0) {
            s.p99Us = std::min(bucketUpper(b), s.maxUs);
            break;
        }
    }
    return s;
}

std::string TimingStats::json() const {
    const Snapshot s = snapshot();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "{\"count\": %llu, \"mean_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f, "
                  "\"stddev_us\": %.3f, \"p99_us\": %.3f}",
                  static_cast<unsigned long long>(s.count), s.meanUs, s.minUs, s.maxUs, s.stddevUs, s.p99Us);
    return buf;
}

}  // namespace vocalmidi
