// The C++ note decoder against the Python reference decoder (vocalmidi.train.decode): the
// same model outputs must give the same decisions, on real rendered clips and on
// hand-made frames that take every rule. Golden data: tests/engine/golden/.
#include <catch2/catch.hpp>

#include <algorithm>

#include "NoteGolden.h"
#include "notes/NoteDecoder.h"
#include "notes/ScaleSnapper.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {

const char* kGoldenClips[] = {"oohs-fluidr3", "synth-timgm", "scripted", "scripted-gate"};

std::vector<DecodedEvent> runStep(const GoldenClip& clip, NoteDecoderConfig::Correction mode) {
    NoteDecoderConfig cfg = clip.decoder;
    cfg.correction = mode;
    NoteDecoder dec;
    std::vector<DecodedEvent> out;
    DecodedEvent ev[NoteDecoder::kMaxDecisions];
    for (int i = 0; i < clip.numFrames; ++i) {
        const float* f = clip.frame(i);
        const int n = dec.step(cfg, f[0], f[1], f[2], f[3], f[5], ev);
        out.insert(out.end(), ev, ev + n);
    }
    const int n = dec.finish(ev);
    out.insert(out.end(), ev, ev + n);
    return out;
}

bool sameEvent(const DecodedEvent& a, const DecodedEvent& b) {
    return a.kind == b.kind && a.frame == b.frame && a.decided == b.decided && a.note == b.note &&
           a.velocity == b.velocity && std::abs(a.bend - b.bend) < 1e-6f && a.corrects == b.corrects;
}

}  // namespace

TEST_CASE("note decoder: same decisions as the Python reference on real clips and scripted frames",
          "[notemodel][decoder][golden]") {
    for (const char* name : kGoldenClips) {
        GoldenClip clip;
        std::string error;
        INFO(name);
        REQUIRE(loadGolden(name, clip, error));
        REQUIRE(clip.events.count("retrigger") == 1);
        REQUIRE(clip.events.count("bend") == 1);
        for (const auto& [modeName, expected] : clip.events) {
            if (modeName == "retrigger-hold8") continue;  // after the hold queue: test_note_hold_queue.cpp
            const auto mode = modeName == "bend" ? NoteDecoderConfig::Correction::Bend
                                                 : NoteDecoderConfig::Correction::Retrigger;
            const auto got = runStep(clip, mode);
            std::string diff;
            for (size_t i = 0; i < std::max(got.size(), expected.size()); ++i)
                diff += (i < expected.size() ? describeEvent(expected[i]) : std::string("-")) + " | " +
                        (i < got.size() ? describeEvent(got[i]) : std::string("-")) + "\n";
            INFO("mode " << modeName << "\nexpected | got\n" << diff);
            REQUIRE(got.size() == expected.size());
            for (size_t i = 0; i < got.size(); ++i) CHECK(sameEvent(got[i], expected[i]));
        }
    }
}

TEST_CASE("note decoder: scripted frames take every rule", "[notemodel][decoder]") {
    // Guards the golden data itself: if make_note_golden.py stopped exercising a rule, the
    // comparison above would pass without testing it.
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden("scripted", clip, error));
    const auto& r = clip.events.at("retrigger");
    const auto& b = clip.events.at("bend");
    auto count = [](const std::vector<DecodedEvent>& v, auto pred) {
        return std::count_if(v.begin(), v.end(), pred);
    };
    using K = DecodedEvent::Kind;
    CHECK(count(r, [](const DecodedEvent& e) { return e.kind == K::On && e.corrects; }) == 1);
    CHECK(count(b, [](const DecodedEvent& e) { return e.kind == K::Bend; }) == 1);
    // Re-attack and legato change: note-ons that neither start from silence nor correct.
    CHECK(count(r, [](const DecodedEvent& e) { return e.kind == K::On && !e.corrects; }) >= 5);
    // A note-on stamped before its decision (onset wait / soft start).
    CHECK(count(r, [](const DecodedEvent& e) { return e.kind == K::On && e.decided > e.frame; }) >= 2);
    // With start_conf on, the unsure note-ons wait (decided after their onset frame) and
    // both go out: one once the note is sure, one when the wait is over.
    GoldenClip gate;
    REQUIRE(loadGolden("scripted-gate", gate, error));
    CHECK(gate.decoder.startConf == Approx(0.7));
    CHECK(gate.decoder.startWaitFrames == 3);
    const auto& g = gate.events.at("retrigger");
    CHECK(count(g, [](const DecodedEvent& e) { return e.kind == K::On && e.note == 67 && e.decided == e.frame + 2; }) == 1);
    CHECK(count(g, [](const DecodedEvent& e) { return e.kind == K::On && e.note == 69 && e.decided == e.frame + 3; }) == 1);
    // ...and the unsure legato change to 62 waits for the sure frames (change_conf).
    CHECK(gate.decoder.changeConf == Approx(0.6));
    CHECK(count(g, [](const DecodedEvent& e) { return e.kind == K::On && e.note == 62 && e.decided == e.frame + 6; }) == 1);
}

TEST_CASE("note decoder: MIDI follows the decisions with the range and channel and scale and fixed velocity",
          "[notemodel][decoder]") {
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden("scripted", clip, error));
    auto midi = [&](const Params& p) {
        NoteDecoder dec;
        std::vector<TrackedEvent> out;
        TrackedEvent ev[NoteDecoder::kMaxEventsPerFrame];
        for (int i = 0; i < clip.numFrames; ++i) {
            const float* f = clip.frame(i);
            NoteFrame fr{f[0], f[1], f[2], f[3], f[4]};
            const int n = dec.processFrame(fr, f[5], p, clip.decoder, ev);
            out.insert(out.end(), ev, ev + n);
        }
        const int n = dec.finishStream(ev);
        out.insert(out.end(), ev, ev + n);
        return out;
    };
    auto ons = [](const std::vector<TrackedEvent>& v) {
        std::vector<TrackedEvent> o;
        for (const auto& e : v)
            if (e.event.type == EventType::NoteOn) o.push_back(e);
        return o;
    };
    const auto& expected = clip.events.at("retrigger");
    std::vector<DecodedEvent> expectedOns;
    for (const auto& e : expected)
        if (e.kind == DecodedEvent::Kind::On) expectedOns.push_back(e);

    Params p;  // defaults: chromatic, full range, bend off
    p.earlyCorrection = EarlyCorrection::Retrigger;
    const auto plain = midi(p);
    const auto on = ons(plain);
    REQUIRE(on.size() == expectedOns.size());
    for (size_t i = 0; i < on.size(); ++i) {
        CHECK(on[i].event.note == expectedOns[i].note);
        CHECK(on[i].event.velocity == expectedOns[i].velocity);
        CHECK(on[i].event.channel == 1);
        CHECK(on[i].at == expectedOns[i].frame * NoteModel::kHop + NoteModel::kHop / 2);
    }
    int balance = 0;
    for (const auto& e : plain) balance += e.event.type == EventType::NoteOn ? 1 : e.event.type == EventType::NoteOff ? -1 : 0;
    CHECK(balance == 0);

    Params q = p;
    q.midiChannel = 5;
    q.noteMax = 60;  // the notes above 60 are decided but not sent
    q.velocityMode = VelocityMode::Fixed;
    q.fixedVelocity = 77;
    const auto limited = ons(midi(q));
    REQUIRE(!limited.empty());
    CHECK(limited.size() < on.size());
    for (const auto& e : limited) {
        CHECK(e.event.note <= 60);
        CHECK(e.event.channel == 5);
        CHECK(e.event.velocity == 77);
    }

    Params s = p;
    s.scale = Scale::Major;  // C major: 57 A, 59 B, 62 D, 64 E, 65 F stay; a 66 would go
    for (const auto& e : ons(midi(s))) CHECK(ScaleSnapper::inScale(e.event.note, Scale::Major, 0));

    Params bend = p;
    bend.earlyCorrection = EarlyCorrection::Bend;
    bend.bendMode = BendMode::Continuous;
    const auto bent = midi(bend);
    int bends = 0;
    for (const auto& e : bent) bends += e.event.type == EventType::PitchBend;
    CHECK(bends >= 2);
    CHECK(ons(bent).size() == on.size() - 1);  // the correction bends instead of a new note
}

TEST_CASE("note decoder settings: an unknown key is refused, known ones are read", "[notemodel][decoder]") {
    NoteDecoderConfig c;
    std::string error;
    REQUIRE(NoteDecoderConfig::fromJson(R"({"start_conf": 0.8, "change_conf": 0.6, "start_wait_frames": 5})", c, error));
    CHECK(c.startConf == Approx(0.8));
    CHECK(c.changeConf == Approx(0.6));
    CHECK(c.startWaitFrames == 5);
    CHECK_FALSE(NoteDecoderConfig::fromJson(R"({"onset_on": 0.5, "future_rule": 3})", c, error));
    CHECK(error.find("future_rule") != std::string::npos);
}
