// basic-pitch in the engine: polyphonic offline transcription with the real nmp.onnx, and
// the ways it must refuse cleanly (real-time use, broken files). Parity with the Python
// package itself is checked in tests/python/test_basic_pitch_engine.py.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "TestSignals.h"
#include "notes/ScaleSnapper.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {
// A sung-like signal where the two voices of a chord start together and one melody note
// follows, with pauses between (so the decoder's cuts are exact).
std::vector<float> chordClip(double rate) {
    return sungSignal(rate, {{60, 0.3, 1.3, 0.25}, {67, 0.3, 1.3, 0.25}, {64, 1.8, 2.6, 0.3}}, 3.2, 20.0);
}

void loadBasicPitch(Engine& engine) {
    const bool ok = engine.loadModel(ModelKind::BasicPitch, VOCALMIDI_BASIC_PITCH_ONNX);
    INFO(engine.modelStatus().message);
    REQUIRE(ok);
}

// A note of this pitch starting within 80 ms of `start` (the tones swell in over 40 ms;
// basic-pitch marks the onset 50-60 ms in) and, unless end < 0, ending within 100 ms of `end`.
bool found(const std::vector<Note>& notes, int midi, double start, double end, double rate, int latency) {
    for (const auto& n : notes)
        if (n.midi == midi && std::abs((n.on - latency) / rate - start) < 0.08 &&
            (end < 0 || std::abs((n.off - latency) / rate - end) < 0.1) && n.velocity >= 1)
            return true;
    return false;
}

std::vector<Note> sortedNotes(std::vector<Note> notes) {
    std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
        return a.on != b.on ? a.on < b.on : a.midi < b.midi;
    });
    return notes;
}
}  // namespace

TEST_CASE("basic-pitch offline: a two-voice chord gives both notes, on time, for any block size",
          "[basic-pitch]") {
    const double rate = 44100;
    const auto sig = chordClip(rate);
    std::vector<std::vector<AbsEvent>> runs;
    int latency = 0;
    for (int block : {256, 4096}) {
        Engine engine;
        loadBasicPitch(engine);
        engine.prepare(rate, block, false);
        latency = engine.latencySamples();
        runs.push_back(runEngine(engine, sig, block));
        // Latency is honest: every event went out exactly where it was scheduled.
        const auto stats = nlohmann::json::parse(engine.statsJson());
        CHECK(stats["latency"]["deadline_misses"].get<int>() == 0);
        CHECK(stats["ml"]["model_errors"].get<int>() == 0);
    }
    CHECK(runs[0] == runs[1]);
    // About 3.9 s: a 2 s window plus the decoder's 2 s horizon.
    CHECK(latency > 3.5 * rate);
    CHECK(latency < 4.0 * rate);

    // Both voices and the melody note, on time (the model also reports some upper
    // partials of these synthetic tones as notes, as the Python package does).
    const auto notes = notesOf(runs[0]);
    INFO(describe(sortedNotes(notes), rate, latency));
    CHECK(found(notes, 60, 0.3, 1.3, rate, latency));
    CHECK(found(notes, 67, 0.3, 1.3, rate, latency));
    CHECK(found(notes, 64, 1.8, 2.6, rate, latency));
}

TEST_CASE("basic-pitch respects note range, scale, channel and fixed velocity", "[basic-pitch]") {
    Params p;
    p.noteMin = 62;  // the chord's C4 is outside
    p.scale = Scale::Major;
    p.keyRoot = 1;   // C# major
    p.midiChannel = 5;
    p.velocityMode = VelocityMode::Fixed;
    p.fixedVelocity = 77;
    Engine engine;
    loadBasicPitch(engine);
    engine.setParams(p);
    engine.prepare(48000, 512, false);
    const auto evs = runEngine(engine, chordClip(48000), 512);
    for (const auto& e : evs) CHECK(e.event.channel == 5);
    const auto notes = notesOf(evs);
    INFO(describe(sortedNotes(notes), 48000, engine.latencySamples()));
    for (const auto& n : notes) {
        CHECK(n.midi >= 62);
        CHECK(ScaleSnapper::inScale(n.midi, Scale::Major, 1));
        CHECK(n.velocity == 77);
        CHECK(n.midi != 60);
    }
    // G4 and E4 are not in C# major: they snap down to F#4 and D#4 (ties go lower).
    CHECK(found(notes, 66, 0.3, -1, 48000, engine.latencySamples()));
    CHECK(found(notes, 63, 1.8, 2.6, 48000, engine.latencySamples()));
}

TEST_CASE("basic-pitch refuses real-time use; the previous model keeps running", "[basic-pitch][model]") {
    const double rate = 48000;
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    engine.prepare(rate, 256, true);
    const int swiftLatency = engine.latencySamples();
    CHECK_FALSE(engine.loadModel(ModelKind::BasicPitch, VOCALMIDI_BASIC_PITCH_ONNX));
    const auto st = engine.modelStatus();
    CHECK(st.state == ModelState::Failed);
    CHECK(st.message.find("offline") != std::string::npos);
    CHECK(st.message.find("previous model keeps running") != std::string::npos);
    CHECK(engine.latencySamples() == swiftLatency);

    // SwiftF0 still tracks a sung note live (blocks paced so the ML thread keeps up).
    const auto sig = sungSignal(rate, {{62, 0.2, 1.2}}, 1.6);
    std::vector<AbsEvent> evs;
    std::vector<NoteEvent> ev(256);
    for (size_t pos = 0; pos + 256 <= sig.size(); pos += 256) {
        const int k = engine.process(sig.data() + pos, 256, ev.data(), 256);
        for (int i = 0; i < k; ++i) evs.push_back({ev[size_t(i)], int64_t(pos) + ev[size_t(i)].sampleOffset});
        std::this_thread::sleep_for(std::chrono::microseconds(1500));
    }
    const auto notes = notesOf(evs);
    REQUIRE_FALSE(notes.empty());
    CHECK(notes[0].midi == 62);
}

TEST_CASE("basic-pitch loaded offline, then prepared live: no notes and the status says why",
          "[basic-pitch][model]") {
    Engine engine;
    loadBasicPitch(engine);
    engine.prepare(48000, 512, true);
    CHECK(engine.modelStatus().state == ModelState::Failed);
    CHECK(engine.modelStatus().message.find("offline") != std::string::npos);
    const auto sig = chordClip(48000);
    std::vector<NoteEvent> ev(256);
    int events = 0;
    for (size_t pos = 0; pos + 512 <= sig.size(); pos += 512) events += engine.process(sig.data() + pos, 512, ev.data(), 256);
    CHECK(events == 0);
    // Offline again: the same model works.
    engine.prepare(48000, 512, false);
    CHECK(engine.modelStatus().state == ModelState::Ready);
    CHECK(found(notesOf(runEngine(engine, sig, 512)), 64, 1.8, 2.6, 48000, engine.latencySamples()));
}

TEST_CASE("basic-pitch: corrupt or mismatched model files fail cleanly", "[basic-pitch][model]") {
    Engine engine;
    const std::string corrupt = "vm_corrupt_basic_pitch_test.onnx";
    {
        // A truncated copy of the real file, as an interrupted download leaves it.
        std::ifstream in(VOCALMIDI_BASIC_PITCH_ONNX, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream out(corrupt, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
    }
    CHECK_FALSE(engine.loadModel(ModelKind::BasicPitch, corrupt));
    CHECK(engine.modelStatus().message.find("not a loadable ONNX model") != std::string::npos);
    std::remove(corrupt.c_str());

    CHECK_FALSE(engine.loadModel(ModelKind::BasicPitch, VOCALMIDI_SWIFTF0_ONNX));
    CHECK(engine.modelStatus().message.find("does not fit the basic-pitch adapter") != std::string::npos);
    CHECK_FALSE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_BASIC_PITCH_ONNX));
    CHECK(engine.modelStatus().message.find("does not fit the swiftf0 adapter") != std::string::npos);

    engine.prepare(48000, 512, false);
    CHECK(runEngine(engine, chordClip(48000), 512).empty());
}
