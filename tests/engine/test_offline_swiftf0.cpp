// Offline transcription with the real SwiftF0 model: right notes, right onset times, and
// output identical for every block size.
#include <catch2/catch.hpp>

#include <cmath>

#include "TestSignals.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {
const std::vector<SungNote> kMelody = {
    {57, 0.30, 0.80}, {60, 1.00, 1.50}, {64, 1.50, 2.10}, {55, 2.40, 2.90}, {67, 3.10, 3.60}};

std::vector<AbsEvent> transcribe(int block, double rate, LatencyMode mode, int* latency = nullptr,
                                 const std::vector<float>* sig = nullptr) {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    Params p;
    p.latencyMode = mode;
    engine.setParams(p);
    engine.prepare(rate, std::min(block, 1024), false);
    if (latency) *latency = engine.latencySamples();
    const auto signal = sig ? *sig : sungSignal(rate, kMelody, 4.0);
    return runEngine(engine, signal, block);
}
}  // namespace

TEST_CASE("SwiftF0 offline: sung melody gives the right notes at the right times", "[swiftf0][offline]") {
    for (LatencyMode mode : {LatencyMode::Fast, LatencyMode::Accurate}) {
        const double rate = 48000;
        int latency = 0;
        const auto notes = notesOf(transcribe(512, rate, mode, &latency));
        INFO("mode " << int(mode) << " latency " << latency << ": " << describe(notes, rate, latency));
        REQUIRE(notes.size() == kMelody.size());
        for (size_t i = 0; i < notes.size(); ++i) {
            CHECK(notes[i].midi == kMelody[i].midi);
            const double onset = (notes[i].on - latency) / rate;
            CHECK(std::abs(onset - kMelody[i].start) < 0.035);
            const double offset = (notes[i].off - latency) / rate;
            CHECK(std::abs(offset - kMelody[i].end) < 0.08);
        }
    }
}

TEST_CASE("SwiftF0 offline: identical output for any block size", "[swiftf0][offline][determinism]") {
    for (LatencyMode mode : {LatencyMode::Fast, LatencyMode::Accurate}) {
        const auto reference = transcribe(64, 44100, mode);
        REQUIRE(notesOf(reference).size() == kMelody.size());
        for (int block : {1, 7, 500, 4096}) {
            INFO("block " << block << " mode " << int(mode));
            const auto other = transcribe(block, 44100, mode);
            REQUIRE(other.size() == reference.size());
            CHECK(other == reference);
        }
    }
}
