// Bad and unusual input: NaN/Inf/denormals, silence, clipping, sample rates, block sizes,
// prepare/release cycles, reset with held notes, broken model files, a device that is not there.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "TestSignals.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {
std::vector<Note> offlineNotes(const std::vector<float>& sig, double rate, int prepBlock, int feedBlock,
                               Params p = Params{}, int* latency = nullptr) {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    engine.setParams(p);
    engine.prepare(rate, prepBlock, false);
    if (latency) *latency = engine.latencySamples();
    return notesOf(runEngine(engine, sig, feedBlock));
}

bool eventsSane(const std::vector<AbsEvent>& evs) {
    for (const auto& e : evs) {
        if (e.event.note > 127 || e.event.channel < 1 || e.event.channel > 16) return false;
        if (e.event.type == EventType::NoteOn && (e.event.velocity < 1 || e.event.velocity > 127)) return false;
    }
    return true;
}
}  // namespace

TEST_CASE("NaN, Inf and denormal input: no crash, no garbage, the note survives", "[robustness]") {
    const double rate = 48000;
    auto sig = sungSignal(rate, {{60, 0.3, 1.2}}, 1.6);
    for (size_t i = 2000; i < 2400; ++i) sig[i] = std::numeric_limits<float>::quiet_NaN();
    for (size_t i = 30000; i < 30010; ++i) sig[i] = (i % 2) ? std::numeric_limits<float>::infinity()
                                                             : -std::numeric_limits<float>::infinity();
    for (size_t i = 70000; i < 71000; ++i) sig[i] = 1e-40f;  // denormal
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    engine.prepare(rate, 256, false);
    const auto evs = runEngine(engine, sig, 256);
    CHECK(eventsSane(evs));
    CHECK(std::isfinite(engine.currentPitchHz()));
    CHECK(std::isfinite(engine.inputLevelDb()));
    const auto notes = notesOf(evs);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 60);
}

TEST_CASE("silence and noise floor give no notes", "[robustness]") {
    std::vector<float> silence(48000 * 2, 0.0f);
    CHECK(offlineNotes(silence, 48000, 512, 512).empty());
    auto hiss = sungSignal(48000, {}, 2.0, 0.0, 3e-4);
    CHECK(offlineNotes(hiss, 48000, 512, 512).empty());
}

TEST_CASE("clipped input still gives the sung note", "[robustness]") {
    auto sig = sungSignal(48000, {{55, 0.3, 1.3, 1.5}}, 1.6);
    for (auto& x : sig) x = std::clamp(x * 4.0f, -1.0f, 1.0f);
    const auto notes = offlineNotes(sig, 48000, 512, 512);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 55);
}

TEST_CASE("sample rates 22050..192000 give the same note at the same time", "[robustness]") {
    for (double rate : {22050.0, 32000.0, 44100.0, 48000.0, 88200.0, 96000.0, 192000.0}) {
        INFO("rate " << rate);
        int latency = 0;
        const auto notes = offlineNotes(sungSignal(rate, {{64, 0.4, 1.0}}, 1.4), rate, 1024, 1024, Params{}, &latency);
        REQUIRE(notes.size() == 1);
        CHECK(notes[0].midi == 64);
        CHECK(std::abs((notes[0].on - latency) / rate - 0.4) < 0.035);
    }
}

TEST_CASE("blocks larger than prepared are split; tiny blocks work", "[robustness]") {
    const auto sig = sungSignal(48000, {{62, 0.3, 1.0}}, 1.3);
    const auto big = offlineNotes(sig, 48000, 64, 8192);
    const auto tiny = offlineNotes(sig, 48000, 64, 1);
    REQUIRE(big.size() == 1);
    CHECK(big[0].midi == 62);
    REQUIRE(tiny.size() == 1);
    CHECK(tiny[0].on == big[0].on);
    CHECK(tiny[0].off == big[0].off);
}

TEST_CASE("prepare/release cycles, realtime and offline", "[robustness]") {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    const auto sig = sungSignal(44100, {{60, 0.1, 0.4}}, 0.5);
    std::vector<NoteEvent> ev(256);
    for (int i = 0; i < 20; ++i) {
        engine.prepare(i % 2 ? 44100 : 96000, 32 << (i % 5), i % 3 != 0);
        for (size_t pos = 0; pos + 512 <= sig.size(); pos += 512) engine.process(sig.data() + pos, 512, ev.data(), 256);
        engine.release();
    }
    // Still gives the right answer afterwards.
    engine.prepare(44100, 512, false);
    const auto notes = notesOf(runEngine(engine, sungSignal(44100, {{67, 0.3, 0.9}}, 1.2), 512));
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 67);
}

TEST_CASE("reset() ends held notes with note-offs and clears queued events", "[robustness]") {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    engine.prepare(48000, 480, false);
    const auto sig = sungSignal(48000, {{60, 0.1, 2.0}}, 2.0);
    std::vector<NoteEvent> ev(64);
    int held = 0;
    size_t pos = 0;
    for (; pos < 48000; pos += 480) {
        const int k = engine.process(sig.data() + pos, 480, ev.data(), 64);
        for (int i = 0; i < k; ++i) held += ev[i].type == EventType::NoteOn ? 1 : -(ev[i].type == EventType::NoteOff);
    }
    REQUIRE(held == 1);
    engine.reset();
    const int k = engine.process(sig.data() + pos, 480, ev.data(), 64);
    REQUIRE(k >= 1);
    CHECK(ev[0].type == EventType::NoteOff);
    CHECK(ev[0].note == 60);
    CHECK(ev[0].sampleOffset == 0);
}

TEST_CASE("missing, corrupt or mismatched model: clean failure, no notes, no crash", "[robustness][model]") {
    Engine engine;
    CHECK_FALSE(engine.loadModel(ModelKind::SwiftF0, "/nonexistent/dir/model.onnx"));
    auto st = engine.modelStatus();
    CHECK(st.state == ModelState::Failed);
    CHECK(st.message.find("not found") != std::string::npos);
    CHECK(st.message.find("vocalmidi models pull") != std::string::npos);

    const std::string corrupt = "vm_corrupt_model_test.onnx";
    {
        std::ofstream f(corrupt, std::ios::binary);
        f << "this is not an onnx file, just some bytes that went wrong in a download";
    }
    CHECK_FALSE(engine.loadModel(ModelKind::SwiftF0, corrupt));
    st = engine.modelStatus();
    CHECK(st.state == ModelState::Failed);
    CHECK(st.message.find("not a loadable ONNX model") != std::string::npos);
    CHECK(st.message.find("vocalmidi models pull") != std::string::npos);
    std::remove(corrupt.c_str());

    // The SwiftF0 graph is not a framewise crepe/pesto graph.
    CHECK_FALSE(engine.loadModel(ModelKind::CrepeTiny, VOCALMIDI_SWIFTF0_ONNX));
    CHECK(engine.modelStatus().message.find("does not fit the crepe-tiny adapter") != std::string::npos);

    for (bool rt : {false, true}) {
        engine.prepare(48000, 256, rt);
        const auto evs = runEngine(engine, sungSignal(48000, {{60, 0.1, 0.8}}, 1.0), 256);
        CHECK(evs.empty());
        engine.release();
    }
}

TEST_CASE("a device asked for: the CPU where CUDA cannot run, with the reason, and the same notes",
          "[robustness][device]") {
    const auto sig = sungSignal(48000, {{57, 0.2, 1.0}, {64, 1.3, 2.1}}, 2.6);
    const auto run = [&](Device device, ModelStatus& st) {
        Engine engine;
        REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX, device));
        st = engine.modelStatus();
        CHECK(engine.statsJson().find(std::string("\"device\":\"") + deviceId(st.device) + "\"") !=
              std::string::npos);
        engine.prepare(48000, 256, false);
        return notesOf(runEngine(engine, sig, 256));
    };
    ModelStatus cpu, cuda;
    const auto cpuNotes = run(Device::Cpu, cpu);
    CHECK(cpu.device == Device::Cpu);
    CHECK(cpu.deviceNote.empty());
    REQUIRE(cpuNotes.size() == 2);
    const auto cudaNotes = run(Device::Cuda, cuda);
    if (cuda.device == Device::Cpu) {  // every machine without a GPU and the CUDA build
        CHECK(cuda.deviceNote.rfind("CUDA unavailable (", 0) == 0);
        CHECK(cuda.deviceNote.find("), running on the CPU") != std::string::npos);
        REQUIRE(cudaNotes.size() == cpuNotes.size());
        for (size_t i = 0; i < cpuNotes.size(); ++i) {
            CHECK(cudaNotes[i].midi == cpuNotes[i].midi);
            CHECK(cudaNotes[i].on == cpuNotes[i].on);
            CHECK(cudaNotes[i].off == cpuNotes[i].off);
        }
    } else {
        CHECK(cuda.deviceNote.empty());
    }

    // The Python side's switch: VOCALMIDI_DEVICE=cpu keeps even a CUDA request on the CPU.
    setenv("VOCALMIDI_DEVICE", "cpu", 1);
    ModelStatus forced;
    run(Device::Cuda, forced);
    unsetenv("VOCALMIDI_DEVICE");
    CHECK(forced.device == Device::Cpu);
    CHECK(forced.deviceNote == "CUDA unavailable (VOCALMIDI_DEVICE=cpu asks for the CPU), running on the CPU");
}
