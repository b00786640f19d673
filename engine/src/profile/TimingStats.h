// Fixed-size timing statistics (count, mean, min, max, stddev, p99) for one writer thread
// and any number of readers. Updates are relaxed atomic stores into preallocated fields:
// safe to call from the audio thread, readable from any thread without disturbing it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace vocalmidi {

class TimingStats {
public:
    static constexpr int kBuckets = 64;  // log-spaced, 0.1 us .. ~10 s

    void reset();
    // Writer thread only.
    void add(double micros);

    struct Snapshot {
        uint64_t count = 0;
        double meanUs = 0, minUs = 0, maxUs = 0, stddevUs = 0, p99Us = 0;
    };
    Snapshot snapshot() const;
    std::string json() const;

private:
    static int bucketFor(double micros);
    static double bucketUpper(int b);
    std::atomic<uint64_t> count{0};
    std::atomic<double> sum{0.0};
    std::atomic<double> sumSq{0.0};
    std::atomic<double> minV{0.0};
    std::atomic<double> maxV{0.0};
    std::atomic<uint32_t> hist[kBuckets] = {};
};

}  // namespace vocalmidi
