// Note tracking behaviour a singer notices: vibrato and scoops stay one note, a new
// syllable on the same pitch re-attacks, scale snapping, note range, bend, velocity.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "TestSignals.h"
#include "notes/ScaleSnapper.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {
std::vector<AbsEvent> offline(const std::vector<float>& sig, Params p = Params{}, double rate = 48000) {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    engine.setParams(p);
    engine.prepare(rate, 512, false);
    return runEngine(engine, sig, 512);
}
}  // namespace

TEST_CASE("scale snapping maps to the nearest scale note", "[tracker][scale]") {
    CHECK(ScaleSnapper::snap(61.0f, Scale::Chromatic, 0) == 61);
    CHECK(ScaleSnapper::snap(61.0f, Scale::Major, 0) == 60);   // C#: tie between C and D -> C
    CHECK(ScaleSnapper::snap(60.8f, Scale::Major, 0) == 60);
    CHECK(ScaleSnapper::snap(61.2f, Scale::Major, 0) == 62);   // closer to D
    CHECK(ScaleSnapper::snap(66.0f, Scale::Major, 7) == 66);   // F# is in G major
    CHECK(ScaleSnapper::snap(65.9f, Scale::Major, 0) == 65);   // F in C major
    CHECK(ScaleSnapper::snap(63.3f, Scale::MinorPentatonic, 9) == 64);  // A minor pent.: E
    for (int n = 0; n < 128; ++n) CHECK(ScaleSnapper::inScale(ScaleSnapper::snap(n + 0.3f, Scale::Blues, 4), Scale::Blues, 4));
}

TEST_CASE("engine snaps sung notes into the chosen key", "[tracker][scale]") {
    Params p;
    p.scale = Scale::Minor;
    p.keyRoot = 9;  // A minor: no C#, no F#
    const auto notes = notesOf(offline(sungSignal(48000, {{61, 0.3, 0.9}, {66, 1.1, 1.7}}, 2.0), p));
    INFO(describe(notes, 48000, 0));
    REQUIRE(notes.size() == 2);
    CHECK(ScaleSnapper::inScale(notes[0].midi, Scale::Minor, 9));
    CHECK(ScaleSnapper::inScale(notes[1].midi, Scale::Minor, 9));
    CHECK(std::abs(notes[0].midi - 61) == 1);
    CHECK(std::abs(notes[1].midi - 66) == 1);
}

TEST_CASE("wide vibrato stays one note", "[tracker]") {
    const auto notes = notesOf(offline(sungSignal(48000, {{65, 0.2, 2.4}}, 2.7, 50.0)));
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 65);
}

TEST_CASE("a scoop into the note gives one note at the target pitch", "[tracker]") {
    const double rate = 48000;
    // 90 ms glide from two semitones below into A3, then hold.
    std::vector<float> sig(static_cast<size_t>(rate * 1.4), 0.0f);
    double phase = 0;
    for (size_t i = static_cast<size_t>(0.3 * rate); i < static_cast<size_t>(1.2 * rate); ++i) {
        const double t = i / rate - 0.3;
        const double midi = 57.0 - 2.0 * std::max(0.0, 1.0 - t / 0.09);
        phase += 2 * M_PI * 440.0 * std::pow(2.0, (midi - 69) / 12) / rate;
        double s = 0;
        for (int k = 1; k <= 6; ++k) s += std::sin(k * phase) / k;
        sig[i] = static_cast<float>(0.2 * std::min(1.0, t / 0.03) * s);
    }
    const auto notes = notesOf(offline(sig));
    INFO(describe(notes, 48000, 0));
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 57);
}

TEST_CASE("a new syllable on the same pitch re-attacks", "[tracker][reattack]") {
    const double rate = 48000;
    // Two syllables on C4 joined by a 70 ms loudness dip (-22 dB), never silent.
    auto sig = sungSignal(rate, {{60, 0.3, 1.6}}, 1.9, 20.0);
    for (size_t i = 0; i < sig.size(); ++i) {
        const double t = i / rate;
        if (t > 0.3) {
            const double d = std::abs(t - 0.95);
            const double g = d < 0.035 ? 0.08 : (d < 0.06 ? 0.08 + (d - 0.035) / 0.025 * 0.92 : 1.0);
            sig[i] *= static_cast<float>(g);
        }
    }
    int latency = 0;
    {
        Engine e;
        REQUIRE(e.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
        e.prepare(rate, 512, false);
        latency = e.latencySamples();
    }
    const auto notes = notesOf(offline(sig));
    INFO(describe(notes, rate, latency));
    REQUIRE(notes.size() == 2);
    CHECK(notes[0].midi == 60);
    CHECK(notes[1].midi == 60);
    CHECK(std::abs((notes[1].on - latency) / rate - 0.95) < 0.08);
}

namespace {
// One harmonic tone (6 partials, 1/k) whose pitch and level (dB) follow the given curves.
template <class Pitch, class Level>
void addTone(std::vector<float>& sig, double rate, double from, double to, Pitch midiAt, Level dbAt) {
    double phase = 0;
    for (size_t i = static_cast<size_t>(from * rate); i < std::min(sig.size(), static_cast<size_t>(to * rate)); ++i) {
        const double t = i / rate;
        phase += 2 * M_PI * 440.0 * std::pow(2.0, (midiAt(t) - 69) / 12) / rate;
        double s = 0;
        for (int k = 1; k <= 6; ++k) s += std::sin(k * phase) / k;
        sig[i] += static_cast<float>(0.2 * std::pow(10.0, dbAt(t) / 20.0) * s);
    }
}
}  // namespace

TEST_CASE("a new syllable scooping into the same pitch re-attacks in Accurate mode", "[tracker][reattack]") {
    // "la-la" on G4, as the rendered voices sing it: the first syllable's release (-9 dB by
    // 0.95 s, then fading out) bridges a short breath, so the level dips less than a
    // re-attack's dip needs; the
    // second syllable starts sharply at 0.95 s, 0.8 semitone low, and settles within 80 ms.
    const double rate = 48000;
    std::vector<float> sig(static_cast<size_t>(rate * 1.8), 0.0f);
    addTone(sig, rate, 0.3, 1.05, [](double) { return 67.0; }, [](double t) {
        const double in = std::min(0.0, (t - 0.33) / 0.03 * 30.0);            // 30 ms attack
        return in + (t < 0.85 ? 0.0 : (t < 0.95 ? -90.0 * (t - 0.85) : -9.0 - 240.0 * (t - 0.95)));
    });
    addTone(sig, rate, 0.95, 1.6, [](double t) {
        const double x = std::min(1.0, (t - 0.95) / 0.08);
        return 67.0 - 0.8 * (1 - x) * (1 - x);
    }, [](double t) { return std::min(3.0, -30.0 + (t - 0.95) / 0.025 * 33.0); });
    Params p;
    p.latencyMode = LatencyMode::Accurate;
    int latency = 0;
    {
        Engine e;
        REQUIRE(e.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
        e.setParams(p);
        e.prepare(rate, 512, false);
        latency = e.latencySamples();
    }
    const auto notes = notesOf(offline(sig, p));
    INFO(describe(notes, rate, latency));
    REQUIRE(notes.size() == 2);
    CHECK(notes[0].midi == 67);
    CHECK(notes[1].midi == 67);
    CHECK(std::abs((notes[1].on - latency) / rate - 0.95) < 0.05);
}

TEST_CASE("a legato step with a loudness dip changes the note instead of re-attacking", "[tracker][reattack]") {
    // Eb3 to E3 legato, as the rendered "oohs" voices sing it: the level dips (-12 dB) just
    // before the pitch moves and rises with the new note. The dip is the change: the output
    // must be Eb3 then E3, not Eb3 re-attacked (and held while E3 is sung).
    const double rate = 48000;
    std::vector<float> sig(static_cast<size_t>(rate * 1.8), 0.0f);
    double phase = 0;
    for (size_t i = static_cast<size_t>(0.3 * rate); i < static_cast<size_t>(1.5 * rate); ++i) {
        const double t = i / rate;
        const double midi = 51.0 + std::clamp((t - 0.92) / 0.03, 0.0, 1.0);
        phase += 2 * M_PI * 440.0 * std::pow(2.0, (midi - 69) / 12) / rate;
        double s = 0;
        for (int k = 1; k <= 6; ++k) s += std::sin(k * phase) / k;
        const double dip = std::max(0.0, 1.0 - std::abs(t - 0.9) / 0.05);  // 0..1, peak at 0.9 s
        const double gain = std::min(1.0, (t - 0.3) / 0.03) * std::pow(10.0, -12.0 * dip / 20.0);
        sig[i] = static_cast<float>(0.2 * gain * s);
    }
    for (const LatencyMode mode : {LatencyMode::Fast, LatencyMode::Accurate}) {
        Params p;
        p.latencyMode = mode;
        const auto notes = notesOf(offline(sig, p));
        INFO("mode " << static_cast<int>(mode) << ": " << describe(notes, rate, 0));
        REQUIRE(notes.size() == 2);
        CHECK(notes[0].midi == 51);
        CHECK(notes[1].midi == 52);
    }
}

TEST_CASE("note range, channel, fixed velocity and low notes", "[tracker]") {
    Params p;
    p.noteMin = 36;
    p.noteMax = 60;
    p.midiChannel = 3;
    p.velocityMode = VelocityMode::Fixed;
    p.fixedVelocity = 42;
    // E2 (40, a low male voice) is in range, A4 (69) is not.
    const auto evs = offline(sungSignal(48000, {{40, 0.3, 1.0}, {69, 1.2, 1.8}}, 2.0), p);
    const auto notes = notesOf(evs);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].midi == 40);
    CHECK(notes[0].velocity == 42);
    for (const auto& e : evs) CHECK(e.event.channel == 3);
}

TEST_CASE("louder singing gives higher velocity", "[tracker]") {
    const auto notes = notesOf(offline(sungSignal(48000, {{60, 0.3, 0.8, 0.03}, {62, 1.0, 1.5, 0.4}}, 1.8)));
    REQUIRE(notes.size() == 2);
    CHECK(notes[1].velocity > notes[0].velocity + 20);
}

TEST_CASE("pitch bend follows the sung pitch relative to the emitted note", "[tracker][bend]") {
    Params p;
    p.bendMode = BendMode::Continuous;
    p.bendRangeSemitones = 2.0f;
    const auto evs = offline(sungSignal(48000, {{60, 0.3, 1.5}}, 1.8, 50.0), p);
    int bends = 0, minB = 0, maxB = 0;
    for (const auto& e : evs)
        if (e.event.type == EventType::PitchBend) {
            ++bends;
            minB = std::min<int>(minB, e.event.bend);
            maxB = std::max<int>(maxB, e.event.bend);
        }
    CHECK(bends > 10);
    // ±50 cents of vibrato at a 2-semitone range is about ±2048; median smoothing trims it.
    CHECK(maxB > 600);
    CHECK(minB < -600);
    CHECK(maxB < 2600);
    CHECK(evs.back().event.type == EventType::PitchBend);  // bend recentred after the note
    CHECK(evs.back().event.bend == 0);
}

TEST_CASE("host-compensated notes start where the voice does", "[tracker][timing]") {
    // Detached notes from silence and a legato pair; each note's attack takes 40 ms. A host
    // that delays everything else by the reported latency sees each note-on at its onset.
    const double rate = 48000;
    const std::vector<SungNote> sung = {{57, 0.30, 0.75}, {64, 1.05, 1.45}, {60, 1.45, 1.95}, {67, 2.30, 2.80}};
    const auto sig = sungSignal(rate, sung, 3.2, 30.0);
    for (LatencyMode mode : {LatencyMode::Fast, LatencyMode::Accurate}) {
        Params p;
        p.latencyMode = mode;
        Engine e;
        REQUIRE(e.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
        e.setParams(p);
        e.prepare(rate, 512, false);
        const int latency = e.latencySamples();
        const auto notes = notesOf(runEngine(e, sig, 512));
        INFO((mode == LatencyMode::Fast ? "fast: " : "accurate: ") << describe(notes, rate, latency));
        REQUIRE(notes.size() == sung.size());
        for (size_t i = 0; i < sung.size(); ++i) {
            CHECK(notes[i].midi == sung[i].midi);
            CHECK(std::abs((notes[i].on - latency) / rate - sung[i].start) < 0.035);
        }
    }
}

TEST_CASE("the reported latency is the model lookahead plus the note decision budget", "[tracker][timing]") {
    Engine e;
    REQUIRE(e.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    e.prepare(48000, 64, true);
    Params p;
    e.setParams(p);
    const int fast = e.latencySamples();
    p.minNoteMs = 96.0f;  // the decision waits for the minimum note length
    e.setParams(p);
    const int longer = e.latencySamples();
    p.latencyMode = LatencyMode::Accurate;
    e.setParams(p);
    const int accurate = e.latencySamples();
    e.release();
    // Fast: 2 frames of SwiftF0 lookahead (32 ms), a 32 ms note plus 32 ms for the onset search.
    CHECK(fast * 1000.0 / 48000 < 90.0);
    CHECK(longer - fast == Approx(64 * 48).margin(48));  // 64 ms more
    CHECK(accurate > longer);
}
