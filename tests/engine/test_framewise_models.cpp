// crepe-tiny and pesto through the framewise adapter (ONNX files from models/recipes/,
// built into build/models-convert/; CMake compiles these cases only when they exist).
#include <catch2/catch.hpp>

#include "TestSignals.h"

using namespace vocalmidi;
using namespace vmtest;

#if defined(VOCALMIDI_CREPE_ONNX) || defined(VOCALMIDI_PESTO_ONNX)
namespace {
void checkFramewise(ModelKind kind, const char* path) {
    const std::vector<SungNote> melody = {{57, 0.3, 0.8}, {62, 1.0, 1.5}, {55, 1.7, 2.3}};
    const double rate = 44100;
    const auto sig = sungSignal(rate, melody, 2.6);
    std::vector<AbsEvent> reference;
    for (int block : {512, 1, 4096}) {
        Engine engine;
        REQUIRE(engine.loadModel(kind, path));
        engine.prepare(rate, 512, false);
        const int latency = engine.latencySamples();
        const auto evs = runEngine(engine, sig, block);
        const auto notes = notesOf(evs);
        INFO(modelKindId(kind) << " block " << block << ": " << describe(notes, rate, latency));
        REQUIRE(notes.size() == melody.size());
        for (size_t i = 0; i < notes.size(); ++i) {
            CHECK(notes[i].midi == melody[i].midi);
            CHECK(std::abs((notes[i].on - latency) / rate - melody[i].start) < 0.04);
        }
        if (reference.empty()) reference = evs;
        else CHECK(evs == reference);
    }
}
}  // namespace
#endif

#ifdef VOCALMIDI_CREPE_ONNX
TEST_CASE("crepe-tiny: sung melody, identical for any block size", "[framewise][crepe]") {
    checkFramewise(ModelKind::CrepeTiny, VOCALMIDI_CREPE_ONNX);
}
#endif

#ifdef VOCALMIDI_PESTO_ONNX
TEST_CASE("pesto: sung melody, identical for any block size", "[framewise][pesto]") {
    checkFramewise(ModelKind::Pesto, VOCALMIDI_PESTO_ONNX);
}
#endif
