// The note model's hold queue (Fast/Accurate): what the engine sends after it, against the
// Python twin (decode.py cancel_unsent_guesses, golden mode "retrigger-hold8").
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "NoteGolden.h"
#include "notes/NoteDecoder.h"
#include "notes/NoteHoldQueue.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {

struct Sent {
    NoteEvent event;
    int64_t frame;    // label frame it stands for
    int64_t emitted;  // the frame being decoded when the queue let it go
};

// Every golden frame through the decoder (MIDI) and a hold queue of `hold` frames.
std::vector<Sent> through(const GoldenClip& clip, const Params& p, int hold, int* cancelled = nullptr,
                          int64_t soon = std::numeric_limits<int64_t>::min()) {
    NoteDecoder dec;
    NoteHoldQueue q;
    std::vector<Sent> sent;
    int64_t now = 0;
    auto send = [&](const NoteHoldQueue::Held& h) { sent.push_back({h.event, h.frame, now}); };
    TrackedEvent ev[NoteDecoder::kMaxEventsPerFrame];
    NoteHoldQueue::Held held[NoteDecoder::kMaxEventsPerFrame];
    for (int i = 0; i < clip.numFrames; ++i) {
        now = i;
        const float* f = clip.frame(i);
        NoteFrame fr{f[0], f[1], f[2], f[3], f[4]};
        const int n = dec.processFrame(fr, f[5], p, clip.decoder, ev);
        for (int j = 0; j < n; ++j) held[j] = {ev[j].event, ev[j].at / NoteModel::kHop, 0};
        const int c = q.add(held, n, dec.lastOnStart(), dec.lastOnCorrects(), send);
        if (cancelled && c > 0) ++*cancelled;
        q.release(i, hold, soon, send);
    }
    q.releaseAll(send);
    const int n = dec.finishStream(ev);
    for (int j = 0; j < n; ++j) sent.push_back({ev[j].event, ev[j].at / NoteModel::kHop, now});
    return sent;
}

std::vector<Sent> notesOnly(const std::vector<Sent>& v) {
    std::vector<Sent> o;
    for (const auto& s : v)
        if (s.event.type != EventType::PitchBend) o.push_back(s);
    return o;
}

}  // namespace

TEST_CASE("hold queue: Accurate sends the Python twin's notes, a guess corrected in time never goes out",
          "[notemodel][decoder][golden]") {
    Params p;  // chromatic, full range, bend off
    p.earlyCorrection = EarlyCorrection::Retrigger;
    int withheld = 0;
    for (const char* name : {"oohs-fluidr3", "synth-timgm", "scripted", "scripted-gate"}) {
        GoldenClip clip;
        std::string error;
        INFO(name);
        REQUIRE(loadGolden(name, clip, error));
        const auto& expected = clip.events.at("retrigger-hold8");
        const auto got = notesOnly(through(clip, p, 8, &withheld));
        REQUIRE(got.size() == expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            INFO("event " << i << ": expected " << describeEvent(expected[i]));
            CHECK((got[i].event.type == EventType::NoteOn) == (expected[i].kind == DecodedEvent::Kind::On));
            CHECK(got[i].event.note == expected[i].note);
            CHECK(got[i].frame == expected[i].frame);
            // Let go no later than one hop before it is due, unless decided later than that.
            CHECK(got[i].emitted <= std::max<int64_t>(expected[i].decided, expected[i].frame + 8 - 1));
        }
        // Instant: a pass-through, every decision as the decoder made it; so is a hold whose
        // events are all due by the time the audio thread could get there (realtime, big blocks).
        CHECK(notesOnly(through(clip, p, 0)).size() == clip.events.at("retrigger").size());
        CHECK(notesOnly(through(clip, p, 8, nullptr, std::numeric_limits<int64_t>::max())).size() ==
              clip.events.at("retrigger").size());
    }
    CHECK(withheld == 3);  // scripted: one scoop; scripted-gate: two
}

TEST_CASE("hold queue: a held guess with its bends is dropped whole, and the notes stay balanced",
          "[notemodel][decoder]") {
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden("scripted", clip, error));
    Params p;
    p.earlyCorrection = EarlyCorrection::Retrigger;
    p.bendMode = BendMode::Continuous;  // a bend before each note-on and while it sounds
    for (int hold : {0, 3, 8}) {
        INFO("hold " << hold);
        const auto sent = through(clip, p, hold);
        int balance = 0, ons = 0;
        for (const auto& s : sent) {
            if (s.event.type == EventType::NoteOn) {
                CHECK(balance == 0);  // monophonic: never two notes at once
                ++balance;
                ++ons;
            } else if (s.event.type == EventType::NoteOff) {
                --balance;
            }
        }
        CHECK(balance == 0);
        // The scoop's guess (57, retriggered to 59 at frame 9) goes out only in Instant and Fast.
        int guesses = 0;
        for (const auto& s : sent) guesses += s.event.type == EventType::NoteOn && s.event.note == 57;
        CHECK(guesses == (hold == 8 ? 0 : 1));
        CHECK(ons == (hold == 8 ? 5 : 6));
    }
}
