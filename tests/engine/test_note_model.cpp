// Our note model in the engine (ml/NoteModel + notes/NoteDecoder through MlPipeline): the
// stateful ONNX session, the contract check at load, Instant latency, agreement with the
// Python reference on real clips, determinism, and catching up on a backlog without
// losing notes. Built when a note model file exists (tests/engine/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "NoteGolden.h"
#include "TestSignals.h"
#include "cache/Sha256.h"
#include "dsp/StreamingResampler.h"
#include "ml/MlPipeline.h"
#include "ml/ModelFactory.h"
#include "ml/NoteModel.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {

const char* kClips[] = {"oohs-fluidr3", "synth-timgm"};

// $VOCALMIDI_NOTE_ONNX overrides the file chosen at configure time (e.g. a model still in
// training), without reconfiguring.
const char* notePath() {
    const char* env = std::getenv("VOCALMIDI_NOTE_ONNX");
    return env && *env ? env : VOCALMIDI_NOTE_ONNX;
}

std::unique_ptr<NoteModel> openNoteModel(const char* path = notePath()) {
    std::string error;
    auto m = ModelFactory::load(ModelKind::VocalNote, path, error);
    INFO(error);
    REQUIRE(m);
    REQUIRE(m->decidesNotes());
    return std::unique_ptr<NoteModel>(static_cast<NoteModel*>(m.release()));
}

// Label-frame outputs of a clip, fed `hopsPerCall` hops at a time (the first output of
// the stream stands for frame -1 and is dropped, as the contract says).
std::vector<NoteFrame> runModel(NoteModel& model, const std::vector<float>& audio, int hopsPerCall) {
    const int hop = NoteModel::kHop;
    const int frames = static_cast<int>((audio.size() + hop - 1) / hop);
    std::vector<float> padded(static_cast<size_t>(frames + 1) * hop, 0.0f);
    std::copy(audio.begin(), audio.end(), padded.begin());
    model.resetState();
    std::vector<NoteFrame> out;
    std::vector<NoteFrame> buf(NoteModel::kMaxHops);
    std::string error;
    for (int start = 0; start < frames + 1; start += hopsPerCall) {
        const int n = std::min(hopsPerCall, frames + 1 - start);
        REQUIRE(model.step(padded.data() + static_cast<size_t>(start) * hop, n, buf.data(), error));
        out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    out.erase(out.begin());
    return out;
}

// True when the golden data was made with the model under test. With the shipped model
// (no $VOCALMIDI_NOTE_ONNX override) stale data fails the test: a re-shipped model must
// come with regenerated golden data, or these checks would silently stop running.
bool goldenFromThisModel(const GoldenClip& clip) {
    std::string sha, error;
    const bool same = Sha256::ofFile(notePath(), sha, error) && sha == clip.modelSha256;
    const char* env = std::getenv("VOCALMIDI_NOTE_ONNX");
    if (!same && !(env && *env))
        FAIL("golden data is from another model than the shipped one: run "
             "tests/engine/golden/make_note_golden.py");
    return same;
}

std::vector<AbsEvent> ons(const std::vector<AbsEvent>& ev) {
    std::vector<AbsEvent> o;
    for (const auto& e : ev)
        if (e.event.type == EventType::NoteOn) o.push_back(e);
    return o;
}

std::vector<float> resample(const std::vector<float>& in, int from, int to) {
    StreamingResampler r;
    r.configure(from, to);
    std::vector<float> out;
    std::vector<float> padded = in;
    padded.resize(in.size() + static_cast<size_t>(from / 10), 0.0f);  // flush the filter
    // Output j sits at input time j * from / to: no delay to undo.
    r.process(padded.data(), static_cast<int>(padded.size()), out);
    out.resize(static_cast<size_t>(std::llround(static_cast<double>(in.size()) * to / from)));
    return out;
}

std::vector<AbsEvent> transcribe(const std::vector<float>& audio, double rate, int block,
                                 EarlyCorrection corr = EarlyCorrection::Retrigger, int* latency = nullptr,
                                 LatencyMode mode = LatencyMode::Instant) {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
    Params p;
    p.earlyCorrection = corr;
    p.latencyMode = mode;
    engine.setParams(p);
    engine.prepare(rate, std::min(block, 1024), false);
    if (latency) *latency = engine.latencySamples();
    return runEngine(engine, audio, block);
}

// A golden clip's audio at `rate`.
std::vector<float> goldenClipAt(const char* name, double rate) {
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden(name, clip, error));
    return resample(clip.audio, 16000, static_cast<int>(rate));
}

// Both golden clips at `rate`, each followed by 0.3 s of silence.
std::vector<float> goldenClipsAt(double rate) {
    std::vector<float> audio;
    for (const char* name : kClips) {
        const auto part = goldenClipAt(name, rate);
        audio.insert(audio.end(), part.begin(), part.end());
        audio.resize(audio.size() + static_cast<size_t>(rate * 0.3), 0.0f);
    }
    return audio;
}

}  // namespace

TEST_CASE("note model: Instant reports the lookahead plus the resampler; Fast and Accurate add a budget",
          "[notemodel]") {
    Engine engine;
    REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
    for (double rate : {44100.0, 48000.0, 96000.0}) {
        engine.prepare(rate, 128, false);
        for (LatencyMode mode : {LatencyMode::Instant, LatencyMode::Fast, LatencyMode::Accurate}) {
            Params p;
            p.latencyMode = mode;
            engine.setParams(p);
            const double ms = engine.latencySamples() * 1000.0 / rate;
            const int budget = MlPipeline::noteModelBudgetMs(mode);
            INFO("rate " << rate << " mode " << int(mode) << ": " << ms << " ms");
            // 7.5 ms of lookahead (onset stamped mid-frame) plus a few samples of filter.
            CHECK(ms >= 7.5 + budget);
            CHECK(ms < 9.0 + budget);
            const auto stats = nlohmann::json::parse(engine.statsJson());
            CHECK(stats["latency"]["mode"] == (mode == LatencyMode::Instant ? "instant"
                                               : mode == LatencyMode::Fast  ? "fast"
                                                                            : "accurate"));
            CHECK(stats["model"]["kind"] == "vocalnote");
        }
    }
    CHECK(MlPipeline::noteModelBudgetMs(LatencyMode::Instant) == 0);
    CHECK(MlPipeline::noteModelBudgetMs(LatencyMode::Fast) > 0);
    CHECK(MlPipeline::noteModelBudgetMs(LatencyMode::Accurate) > MlPipeline::noteModelBudgetMs(LatencyMode::Fast));
    // The pitch models keep their modes.
    Engine pitch;
    REQUIRE(pitch.loadModel(ModelKind::SwiftF0, VOCALMIDI_SWIFTF0_ONNX));
    pitch.prepare(48000, 128, false);
    Params p;
    p.latencyMode = LatencyMode::Accurate;
    pitch.setParams(p);
    const int accurate = pitch.latencySamples();
    p.latencyMode = LatencyMode::Fast;
    pitch.setParams(p);
    CHECK(accurate > pitch.latencySamples());
}

TEST_CASE("note model: in Fast a note decided within the budget is sent exactly that long after its onset",
          "[notemodel]") {
    // The same decisions in both modes; in Fast each note-on goes out at
    // max(decided, onset + reported latency), so compensated by the reported latency it
    // lands on the model's onset stamp unless it was decided later than the budget.
    const double rate = 48000;
    const std::vector<float> audio = goldenClipsAt(rate);
    auto run = [&](LatencyMode mode, int& latency) {
        Engine engine;
        REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
        Params p;
        p.latencyMode = mode;
        engine.setParams(p);
        engine.prepare(rate, 256, false);
        latency = engine.latencySamples();
        return ons(runEngine(engine, audio, 256));
    };
    int li = 0, lf = 0;
    const auto instant = run(LatencyMode::Instant, li);
    const auto fast = run(LatencyMode::Fast, lf);
    REQUIRE(instant.size() >= 4);
    REQUIRE(fast.size() == instant.size());
    const int64_t budget = lf - li;
    CHECK(budget == static_cast<int64_t>(std::ceil(MlPipeline::noteModelBudgetMs(LatencyMode::Fast) * rate / 1000.0)));
    int held = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
        INFO("note-on " << i << ": instant at " << instant[i].pos << ", fast at " << fast[i].pos);
        CHECK(fast[i].event.note == instant[i].event.note);
        // Never sooner than Instant sends it, never later than the budget past that.
        CHECK(fast[i].pos >= instant[i].pos);
        CHECK(fast[i].pos <= instant[i].pos + budget);
        held += fast[i].pos > instant[i].pos;
    }
    // ...and the recording (each moved back by the reported latency) is earlier: closer
    // to the onsets, which come before every decision.
    int64_t sumInstant = 0, sumFast = 0;
    for (size_t i = 0; i < fast.size(); ++i) {
        sumInstant += instant[i].pos - li;
        sumFast += fast[i].pos - lf;
    }
    CHECK(sumFast < sumInstant);
    INFO("held " << held);
}

TEST_CASE("note model: Accurate decodes with its own thresholds, the other modes with the shipped ones",
          "[notemodel]") {
    auto m = openNoteModel();
    CHECK(&m->decoderConfig(LatencyMode::Instant) == &m->decoderConfig());
    CHECK(&m->decoderConfig(LatencyMode::Fast) == &m->decoderConfig());
    const char* env = std::getenv("VOCALMIDI_NOTE_ONNX");
    if (env && *env) return;  // another model may not carry them
    // vocalnote-s (train/mode_decoder.py): a guess goes sooner, it can be corrected unsent.
    const auto& accurate = m->decoderConfig(LatencyMode::Accurate);
    CHECK(&accurate != &m->decoderConfig());
    CHECK(accurate.startConf < m->decoderConfig().startConf);
    CHECK(accurate.correctionFrames > m->decoderConfig().correctionFrames);
}

TEST_CASE("note model: a graph of another contract is refused with a clear error", "[notemodel]") {
    Engine engine;
    CHECK_FALSE(engine.loadModel(ModelKind::VocalNote, VOCALMIDI_SWIFTF0_ONNX));
    const std::string msg = engine.modelStatus().message;
    INFO(msg);
    // It names both contracts the adapter takes and what this graph says it is.
    CHECK(msg.find("note-model/1 or note-features/1") != std::string::npos);
    CHECK(msg.find("vocalmidi.contract") != std::string::npos);
    // And the note model is not a pitch model.
    CHECK_FALSE(engine.loadModel(ModelKind::SwiftF0, notePath()));
}

TEST_CASE("note model: one hop per call and a backlog in one call give the same outputs", "[notemodel]") {
    // The shipped one-frame graph runs a backlog hop by hop (NoteModel::stepHopByHop); the
    // float graph it is made from, in one call.
    std::vector<const char*> paths = {notePath()};
#ifdef VOCALMIDI_NOTE_FLOAT_ONNX
    paths.push_back(VOCALMIDI_NOTE_FLOAT_ONNX);
#endif
    const char* path = GENERATE_COPY(from_range(paths));
    INFO(path);
    auto model = openNoteModel(path);
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden(kClips[0], clip, error));
    const auto one = runModel(*model, clip.audio, 1);
    for (int per : {7, 64, NoteModel::kMaxHops}) {
        const auto batch = runModel(*model, clip.audio, per);
        REQUIRE(batch.size() == one.size());
        float worst = 0.0f;
        int noteDiff = 0;
        for (size_t i = 0; i < one.size(); ++i) {
            worst = std::max({worst, std::abs(one[i].onset - batch[i].onset),
                              std::abs(one[i].sounding - batch[i].sounding),
                              std::abs(one[i].pitch - batch[i].pitch)});
            noteDiff += one[i].note != batch[i].note;
        }
        INFO(per << " hops per call: worst difference " << worst);
        CHECK(worst < 1e-4f);
        CHECK(noteDiff <= 1);
    }
}

#ifdef VOCALMIDI_NOTE_FLOAT_ONNX
TEST_CASE("note model: the one-frame int8 graph hears what the float graph it was made from hears",
          "[notemodel][int8]") {
    // vocalmidi.train.one_frame: the GRU's products int8. Through the engine on the
    // evaluation set it gave the float graph's F1@50 (docs/measurements.md, session 34);
    // here, frame by frame on the golden clips: the same note nearly everywhere a note
    // sounds, the probabilities close.
    auto shipped = openNoteModel();
    auto floatModel = openNoteModel(VOCALMIDI_NOTE_FLOAT_ONNX);
    REQUIRE(shipped->featuresIn());
    for (const char* name : kClips) {
        GoldenClip clip;
        std::string error;
        REQUIRE(loadGolden(name, clip, error));
        const auto a = runModel(*floatModel, clip.audio, 1);
        const auto b = runModel(*shipped, clip.audio, 1);
        REQUIRE(a.size() == b.size());
        float worst = 0.0f;
        int sounding = 0, sameNote = 0;
        for (size_t i = 0; i < a.size(); ++i) {
            worst = std::max({worst, std::abs(a[i].onset - b[i].onset), std::abs(a[i].sounding - b[i].sounding)});
            if (a[i].sounding > 0.5f) {
                ++sounding;
                sameNote += a[i].note == b[i].note;
            }
        }
        INFO(name << ": worst probability difference " << worst << ", the same note on " << sameNote << " of "
                  << sounding << " sounding frames");
        CHECK(worst < 0.15f);
        CHECK(sounding > 100);
        CHECK(sameNote >= sounding * 97 / 100);
    }
}
#endif

TEST_CASE("note model: the C++ session gives the Python reference's outputs", "[notemodel][golden]") {
    auto model = openNoteModel();
    for (const char* name : kClips) {
        GoldenClip clip;
        std::string error;
        REQUIRE(loadGolden(name, clip, error));
        if (!goldenFromThisModel(clip)) {
            WARN(name << ": golden data is from another model (" << clip.modelPath
                      << "); run tests/engine/golden/make_note_golden.py");
            continue;
        }
        const auto frames = runModel(*model, clip.audio, 1);
        REQUIRE(static_cast<int>(frames.size()) == clip.numFrames);
        float worst = 0.0f;
        int noteDiff = 0;
        for (int i = 0; i < clip.numFrames; ++i) {
            const float* g = clip.frame(i);
            worst = std::max({worst, std::abs(frames[i].onset - g[0]), std::abs(frames[i].sounding - g[1]),
                              std::abs(frames[i].noteConf - g[3])});
            noteDiff += frames[i].note != g[2];
        }
        INFO(name << ": worst difference " << worst << ", " << noteDiff << " frames name another note");
        // A one-frame graph's products are int8 with the activations quantised per call: the
        // C++ and numpy features (1e-4 apart) can land a step apart (measured: 4.8e-3).
        CHECK(worst < (model->oneFrameGraph() ? 1e-2f : 1e-3f));
        CHECK(noteDiff <= clip.numFrames / 100);
    }
}

TEST_CASE("note model through the engine: the reference's notes, each sent when it was decided",
          "[notemodel][golden][offline]") {
    // How far a resampled take's note-on may move: see the 48 kHz case below.
    const double slack = std::max(0.030, (openNoteModel()->decoderConfig().startWaitFrames + 1) * 0.005);
    for (const char* name : kClips) {
        GoldenClip clip;
        std::string error;
        REQUIRE(loadGolden(name, clip, error));
        if (!goldenFromThisModel(clip)) {
            WARN(name << ": golden data is from another model; run make_note_golden.py");
            continue;
        }
        std::vector<DecodedEvent> want;
        std::vector<bool> attack;  // not a legato change (a note-on at its note-off's frame)
        int64_t lastOff = -1;
        for (const auto& e : clip.events.at("retrigger")) {
            if (e.kind == DecodedEvent::Kind::Off) lastOff = e.frame;
            if (e.kind != DecodedEvent::Kind::On) continue;
            want.push_back(e);
            attack.push_back(e.frame != lastOff);
        }
        for (double rate : {16000.0, 48000.0}) {
            const auto audio = rate == 16000.0 ? clip.audio : resample(clip.audio, 16000, static_cast<int>(rate));
            int latency = 0;
            const auto got = ons(transcribe(audio, rate, 128, EarlyCorrection::Retrigger, &latency));
            // Filter delay of the resampler: what the latency adds beyond the 120-sample lookahead.
            const double filter = (latency - 120.0 * rate / 16000.0) / rate;
            std::string text;
            for (size_t i = 0; i < std::max(got.size(), want.size()); ++i)
                text += (i < want.size() ? std::to_string(want[i].note) + "@d" + std::to_string(want[i].decided) : "-") +
                        " | " + (i < got.size() ? std::to_string(got[i].event.note) + "@" + std::to_string(got[i].pos / rate) : "-") +
                        "\n";
            INFO(name << " at " << rate << " Hz (reference note@decided-frame | engine note@seconds)\n" << text);
            // Decided at frame d = sent when the audio up to the end of frame d + 1 arrived.
            auto due = [&](const DecodedEvent& e) { return (e.decided + 2) * 0.005 + filter; };
            if (rate == 16000.0) {
                // The very samples the reference heard: the very same notes, on time.
                REQUIRE(got.size() == want.size());
                for (size_t i = 0; i < got.size(); ++i) {
                    CHECK(got[i].event.note == want[i].note);
                    CHECK(std::abs(got[i].pos / rate - due(want[i])) <= 0.005 + 1.0 / rate);
                }
            } else {
                // Resampled twice (16 -> 48 -> 16 kHz) the model hears slightly other audio.
                // The first note (an attack from silence) is sent on time with its note, and
                // most note-ons match (same note, within 30 ms of the due time). Not all:
                // where the outputs sit at a threshold the decisions follow tiny
                // differences - legato flicker between neighbouring notes on a low voice
                // (change_frames 3), and re-starts in a decaying tail (sounding_start_frames
                // 4). Measured on synth-timgm with vocalnote-s stage 4: 11 of 13 matched;
                // the two misses are the tail's re-starts. A note waits up to
                // startWaitFrames for a sure pitch (stage 13: note_conf >= 0.95, 8 frames),
                // and the resampled audio may cross that threshold a few frames sooner or
                // later (stage 13, oohs-fluidr3: its first note 34 ms before the reference's).
                auto onTime = [&](const DecodedEvent& w) {
                    for (const auto& g : got)
                        if (g.event.note == w.note && std::abs(g.pos / rate - due(w)) <= slack + 1.0 / rate)
                            return true;
                    return false;
                };
                // A legato change held under 15 frames before the next note-on is a
                // flicker at a threshold (vocalnote-s session 23, synth-timgm: 47 -> 46 ->
                // 47 -> 49 in 38 frames, where the sung line goes 47 -> 49); the resampled
                // take may skip it, so it is not counted either way.
                size_t sameNote = 0, counted = 0;
                for (size_t i = 0; i < want.size(); ++i) {
                    const bool flicker = !attack[i] && i + 1 < want.size() && want[i + 1].frame - want[i].frame < 15;
                    if (flicker) continue;
                    ++counted;
                    sameNote += onTime(want[i]);
                }
                REQUIRE(!want.empty());
                CHECK(attack[0]);
                CHECK(onTime(want[0]));
                CHECK(sameNote * 3 >= counted * 2);
                CHECK(got.size() * 10 <= want.size() * 12 + 10);
            }
        }
    }
}

TEST_CASE("note model offline: identical output for any block size", "[notemodel][offline][determinism]") {
    GoldenClip clip;
    std::string error;
    REQUIRE(loadGolden(kClips[0], clip, error));
    const auto audio = resample(clip.audio, 16000, 44100);
    // Every mode: Fast and Accurate hold events (NoteHoldQueue) by frames, not by blocks.
    for (LatencyMode mode : {LatencyMode::Instant, LatencyMode::Fast, LatencyMode::Accurate}) {
        const auto reference = transcribe(audio, 44100, 64, EarlyCorrection::Retrigger, nullptr, mode);
        REQUIRE(!reference.empty());
        for (int block : {1, 500, 4096}) {
            INFO("mode " << static_cast<int>(mode) << ", block " << block);
            const auto other = transcribe(audio, 44100, block, EarlyCorrection::Retrigger, nullptr, mode);
            REQUIRE(other.size() == reference.size());
            CHECK(other == reference);
        }
    }
}

TEST_CASE("note model realtime: a backlog is analysed late, not dropped", "[notemodel][realtime][load]") {
    const double rate = 48000;
    const auto audio = goldenClipAt(kClips[0], rate);
    const auto offline = ons(transcribe(audio, rate, 128));
    REQUIRE(!offline.empty());

    auto live = [&](bool bursts, int hogs) {
        Engine engine;
        REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
        Params p;
        p.earlyCorrection = EarlyCorrection::Retrigger;  // as the offline run
        engine.setParams(p);
        engine.prepare(rate, 128, true);
        std::atomic<bool> stop{false};
        std::vector<std::thread> hogThreads;
        for (int i = 0; i < hogs; ++i)
            hogThreads.emplace_back([&] {
                volatile double x = 1.0;
                while (!stop.load(std::memory_order_relaxed)) x = x * 1.0000001 + 1e-9;
            });
        std::vector<NoteEvent> ev(1024);
        std::vector<AbsEvent> out;
        auto next = std::chrono::steady_clock::now();
        const std::vector<float> tail(static_cast<size_t>(rate * 0.5), 0.0f);
        std::vector<float> all = audio;
        all.insert(all.end(), tail.begin(), tail.end());
        for (size_t pos = 0; pos + 128 <= all.size(); pos += 128) {
            const int k = engine.process(all.data() + pos, 128, ev.data(), static_cast<int>(ev.size()));
            for (int i = 0; i < k; ++i) out.push_back({ev[static_cast<size_t>(i)], static_cast<int64_t>(pos) + ev[static_cast<size_t>(i)].sampleOffset});
            // Bursts: 300 ms of audio arrive at once every second (a stalled ML thread sees
            // a backlog); otherwise paced like a sound card.
            const bool burst = bursts && (pos / 128) % 375 < 112;
            if (!burst) {
                next += std::chrono::microseconds(2667);
                std::this_thread::sleep_until(next);
            } else {
                next = std::chrono::steady_clock::now();
            }
        }
        stop.store(true);
        for (auto& t : hogThreads) t.join();
        const auto stats = nlohmann::json::parse(engine.statsJson());
        engine.release();
        return std::make_pair(ons(out), stats);
    };

    for (int scenario = 0; scenario < 2; ++scenario) {
        const bool bursts = scenario == 0;
        const int hogs = bursts ? 0 : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
        const auto [got, stats] = live(bursts, hogs);
        INFO((bursts ? "bursts" : "CPU hog") << ": " << stats.dump());
        CHECK(stats["ml"]["frames_dropped"] == 0);
        CHECK(stats["audio"]["overflow_samples"] == 0);
        if (bursts) {
            CHECK(stats["ml"]["frames_late"].get<int>() > 0);
            CHECK(stats["ml"]["max_catch_up_hops"].get<int>() >= 20);
        }
        // Every note of the offline run is there, with its pitch (late is allowed).
        REQUIRE(got.size() >= offline.size() - offline.size() / 10);
        size_t matched = 0;
        for (const auto& o : offline)
            for (const auto& g : got)
                if (g.event.note == o.event.note && std::abs(g.pos - o.pos) < static_cast<int64_t>(rate * 0.4)) {
                    ++matched;
                    break;
                }
        CHECK(matched >= offline.size() - offline.size() / 10);
    }
}

TEST_CASE("note model realtime: the ML thread wakes about once a hop, not on a timer", "[notemodel][realtime]") {
    // rt/HopWakeup: the audio thread wakes the ML thread when the next frame's audio is in.
    // Polling every 2 ms it woke ~3.4 times a 5 ms hop at 128-sample blocks, each wake
    // ~20 us of CPU on this machine. Same notes as offline.
    const double rate = 48000;
    const auto audio = goldenClipAt(kClips[0], rate);
    const auto offline = ons(transcribe(audio, rate, 128, EarlyCorrection::Retrigger));
    for (const int block : {128, 1024}) {
        Engine engine;
        REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
        Params p;
        p.earlyCorrection = EarlyCorrection::Retrigger;
        engine.setParams(p);
        engine.prepare(rate, block, true);
        std::vector<NoteEvent> ev(1024);
        std::vector<AbsEvent> out;
        auto next = std::chrono::steady_clock::now();
        std::vector<float> all = audio;
        all.resize(all.size() + static_cast<size_t>(rate * 0.3), 0.0f);
        for (size_t pos = 0; pos + static_cast<size_t>(block) <= all.size(); pos += static_cast<size_t>(block)) {
            const int k = engine.process(all.data() + pos, block, ev.data(), static_cast<int>(ev.size()));
            for (int i = 0; i < k; ++i)
                out.push_back({ev[static_cast<size_t>(i)], static_cast<int64_t>(pos) + ev[static_cast<size_t>(i)].sampleOffset});
            next += std::chrono::microseconds(static_cast<int64_t>(block * 1e6 / rate));
            std::this_thread::sleep_until(next);
        }
        const auto stats = nlohmann::json::parse(engine.statsJson());
        engine.release();
        INFO("block " << block << ": " << stats["ml"].dump());
        const double hops = stats["ml"]["frames_analysed"].get<double>();
        const double wakes = stats["ml"]["wakes"].get<double>();
        CHECK(hops > 0.9 * static_cast<double>(all.size()) / (rate * 0.005));
        CHECK(wakes < 1.5 * hops);
        const auto got = ons(out);
        REQUIRE(got.size() == offline.size());
        for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].event.note == offline[i].event.note);
    }
}

TEST_CASE("note model: Aligned MIDI timing records at 1024-sample blocks what offline renders",
          "[notemodel][realtime][timing]") {
    const double rate = 48000;
    const int block = 1024;
    const int align = MlPipeline::alignSamples(rate, block);
    const std::vector<float> audio = goldenClipsAt(rate);
    int immediateLatency = 0;
    const auto offline = transcribe(audio, rate, block, EarlyCorrection::Retrigger, &immediateLatency);
    const auto offlineOns = ons(offline);
    REQUIRE(offlineOns.size() >= 3);

    // Runs the clip (and 0.5 s of silence) through an engine; realtime runs are paced like a
    // sound card. Returns the note-ons at their absolute positions and the reported latency.
    auto run = [&](bool aligned, bool realtime) {
        Engine engine;
        REQUIRE(engine.loadModel(ModelKind::VocalNote, notePath()));
        Params p;
        p.alignedTiming = aligned;
        engine.setParams(p);
        engine.prepare(rate, block, realtime);
        std::vector<float> all = audio;
        all.resize(all.size() + static_cast<size_t>(rate * 0.5), 0.0f);
        std::vector<NoteEvent> ev(1024);
        std::vector<AbsEvent> out;
        auto next = std::chrono::steady_clock::now();
        for (size_t pos = 0; pos + block <= all.size(); pos += block) {
            const int k = engine.process(all.data() + pos, block, ev.data(), static_cast<int>(ev.size()));
            for (int i = 0; i < k; ++i)
                out.push_back({ev[size_t(i)], static_cast<int64_t>(pos) + ev[size_t(i)].sampleOffset});
            if (realtime) {
                next += std::chrono::microseconds(static_cast<int64_t>(1e6 * block / rate));
                std::this_thread::sleep_until(next);
            }
        }
        const int latency = engine.latencySamples();
        engine.release();
        return std::make_pair(ons(out), latency);
    };
    // Each note-on the run sent exactly `shift` samples after the offline render's (same note).
    auto exact = [&](const std::vector<AbsEvent>& got, int64_t shift) {
        size_t n = 0;
        for (const auto& o : offlineOns)
            for (const auto& g : got)
                if (g.event.note == o.event.note && std::abs(g.pos - shift - o.pos) <= 1) {
                    ++n;
                    break;
                }
        return n;
    };

    // Offline: the same notes, each held `align` samples, and that much more latency reported.
    const auto [offAligned, alignedLatency] = run(true, false);
    CHECK(alignedLatency == immediateLatency + align);
    CHECK(offAligned.size() == offlineOns.size());
    CHECK(exact(offAligned, align) == offlineOns.size());

    // Realtime, Immediate: a note-on leaves at the start of the block after the one that held
    // its decision, so after the host's latency compensation it lands up to a block late.
    const auto [immediate, il] = run(false, true);
    CHECK(il == immediateLatency);
    const size_t immediateExact = exact(immediate, 0);
    // Realtime, Aligned: sample-exact (a note the ML thread could not decide within 5 ms of
    // its block would go out late: allow one on a loaded machine).
    const auto [aligned, al] = run(true, true);
    INFO("note-ons offline " << offlineOns.size() << ", exact immediate " << immediateExact
                             << ", exact aligned " << exact(aligned, align));
    CHECK(exact(aligned, align) + 1 >= offlineOns.size());
    CHECK(immediateExact * 2 < offlineOns.size());
}
