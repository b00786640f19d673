#include "vocalmidi/Engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ml/MlPipeline.h"
#include "ml/ModelFactory.h"
#include "ml/OrtRuntime.h"
#include "notes/NoteTracker.h"
#include "profile/ProfileReport.h"
#include "profile/ScopedTimer.h"
#include "rt/HopWakeup.h"
#include "rt/ThreadPriority.h"

namespace vocalmidi {

namespace {
constexpr int kMaxChannels = 16;
constexpr int kNotes = 128;
constexpr size_t kEventQueue = 8192;

// Model properties for latencySamples(), published by loadModel() for any thread to read.
struct ModelInfo {
    std::atomic<int> rate{0};
    std::atomic<int> hop{0};
    std::atomic<int> lookFast{0};
    std::atomic<int> lookAccurate{0};
    std::atomic<bool> polyphonic{false};  // decides notes itself, offline only
    std::atomic<bool> decidesNotes{false};  // our note model: its lookahead (+ a budget in Fast/Accurate)
};

const char* kPolyRealtime =
    "basic-pitch needs 2 s of lookahead and runs only offline (bounce/export, batch "
    "transcription); prepare the engine with realtime=false, or choose swiftf0 for live use";
}  // namespace

struct Engine::Impl {
    SharedState shared;
    SpscRing<float> audioToMl;
    SpscRing<TimedEvent> mlToAudio;
    MlPipeline ml{shared, audioToMl, mlToAudio};
    ModelInfo info;

    mutable std::mutex statusMutex;  // message/loader threads only
    ModelStatus status;

    // Prepared configuration (message thread writes while nothing runs).
    bool prepared = false;
    bool realtime = true;
    std::atomic<bool> preparedRealtime{false};  // for loadModel() on a loader thread
    double hostRate = 48000.0;
    int maxBlock = 512;
    std::vector<float> scratch;

    // Audio-thread state.
    int64_t audioPos = 0;     // absolute host samples received
    int64_t ringWritten = 0;  // host samples accepted by audioToMl
    uint32_t gen = 0;
    bool pendingAllOff = false;
    uint8_t held[kMaxChannels][kNotes] = {};
    int heldCount = 0;
    uint32_t cachedParamVersion = ~0u;
    float gain = 1.0f;

    // ML thread.
    std::thread mlThread;
    HopWakeup wakeup;
    // Longest sleep without a wake: a reset, a new model or new parameters while no audio
    // comes are picked up within this.
    static constexpr int kMlIdleWaitUs = 10000;
    std::atomic<bool> stopMl{false};
    char mlPriority[48] = "none";
    std::atomic<bool> mlPriorityKnown{false};

    // Profiler counters (audio thread writes with relaxed stores).
    TimingStats audioBlockTime;
    TimingStats eventDelay;  // emission minus decision position, in microseconds
    std::atomic<uint64_t> blocks{0};
    std::atomic<uint64_t> overflowSamples{0};
    std::atomic<uint64_t> deadlineMisses{0};
    std::atomic<uint64_t> eventsOut{0};
    std::atomic<uint64_t> audioParamRetries{0};
    std::atomic<uint64_t> offlineWaits{0};
    std::atomic<float> inputLevel{-140.0f};

    void startMl();
    void stopMlThread();
    VM_REALTIME void refreshGain();
    VM_REALTIME void pushInput(const float* in, int n);
    VM_REALTIME int popEvents(int64_t blockStart, int numSamples, NoteEvent* out, int maxOut);
    VM_REALTIME int allNotesOff(NoteEvent* out, int maxOut);
    void noteTrack(const NoteEvent& e);
};

void Engine::Impl::startMl() {
    stopMl.store(false, std::memory_order_relaxed);
    wakeup.wantAt(0);  // ring counts start again at prepare(): wake on the first block
    mlThread = std::thread([this] {
        const std::string pr = lowerCurrentThreadPriority();
        std::snprintf(mlPriority, sizeof mlPriority, "%s", pr.c_str());
        mlPriorityKnown.store(true, std::memory_order_release);
        const double cpu0 = currentThreadCpuSeconds();
        const auto wall0 = std::chrono::steady_clock::now();
        while (!stopMl.load(std::memory_order_acquire)) {
            const uint32_t seen = wakeup.epoch();
            {
                ScopedTimer t(shared.mlStepTime);
                ml.pump();
            }
            shared.mlCpuSeconds.store(currentThreadCpuSeconds() - cpu0, std::memory_order_relaxed);
            shared.mlWallSeconds.store(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(),
                std::memory_order_relaxed);
            // Sleep until the audio thread has written what the next frame needs (it wakes
            // this thread then, rt/HopWakeup.h); the timeout picks up a reset, a new model or
            // parameters while no audio comes. Audio that came during the pump moved the
            // counter past `seen`, so the wait then returns at once.
            wakeup.wantAt(ml.ringMarkForNextFrame());
            wakeup.wait(seen, kMlIdleWaitUs);
            shared.mlWakes.fetch_add(1, std::memory_order_relaxed);
        }
    });
}

void Engine::Impl::stopMlThread() {
    if (mlThread.joinable()) {
        stopMl.store(true, std::memory_order_release);
        wakeup.wakeNow();
        mlThread.join();
    }
}

void Engine::Impl::refreshGain() {
    const uint32_t v = shared.params.version();
    if (v == cachedParamVersion) return;
    Params p;
    const uint32_t retries = shared.params.load(p);
    if (retries) audioParamRetries.fetch_add(retries, std::memory_order_relaxed);
    cachedParamVersion = v;
    gain = std::pow(10.0f, std::clamp(p.inputGainDb, -24.0f, 24.0f) / 20.0f);
}

void Engine::Impl::pushInput(const float* in, int n) {
    float peak = 0.0f;
    for (int i = 0; i < n; ++i) {
        float x = in[i];
        // NaN/Inf become silence, denormals zero, wild values are clipped: a broken input
        // block must not poison the model or the resampler's history.
        if (!std::isfinite(x) || std::abs(x) < 1e-20f) x = 0.0f;
        x = std::clamp(x * gain, -4.0f, 4.0f);
        peak = std::max(peak, std::abs(x));
        scratch[static_cast<size_t>(i)] = x;
    }
    const size_t w = audioToMl.write(scratch.data(), static_cast<size_t>(n));
    ringWritten += static_cast<int64_t>(w);
    wakeup.written(ringWritten);
    audioPos += n;
    if (w < static_cast<size_t>(n)) {
        // The ML side stopped draining: restart its stream after this block (same hand-shake
        // as reset(), so positions stay consistent).
        overflowSamples.fetch_add(static_cast<uint64_t>(n) - w, std::memory_order_relaxed);
        shared.resetMarkRing.store(ringWritten, std::memory_order_relaxed);
        shared.resetMarkHost.store(audioPos, std::memory_order_relaxed);
        shared.resetGen.store(++gen, std::memory_order_release);
        pendingAllOff = true;
    }
    const float db = peak > 0 ? 20.0f * std::log10(peak) : -140.0f;
    inputLevel.store(db, std::memory_order_relaxed);
}

void Engine::Impl::noteTrack(const NoteEvent& e) {
    const int ch = std::clamp<int>(e.channel, 1, 16) - 1;
    if (e.type == EventType::NoteOn) {
        if (!held[ch][e.note]) ++heldCount;
        held[ch][e.note] = 1;
    } else if (e.type == EventType::NoteOff) {
        if (held[ch][e.note]) --heldCount;
        held[ch][e.note] = 0;
    }
}

int Engine::Impl::allNotesOff(NoteEvent* out, int maxOut) {
    int k = 0;
    for (int ch = 0; ch < kMaxChannels && heldCount > 0; ++ch)
        for (int n = 0; n < kNotes && heldCount > 0; ++n) {
            if (!held[ch][n]) continue;
            if (k >= maxOut) return k;  // the rest goes out with the next block
            NoteEvent e;
            e.type = EventType::NoteOff;
            e.channel = static_cast<uint8_t>(ch + 1);
            e.note = static_cast<uint8_t>(n);
            e.sampleOffset = 0;
            out[k++] = e;
            held[ch][n] = 0;
            --heldCount;
        }
    pendingAllOff = heldCount > 0;
    return k;
}

int Engine::Impl::popEvents(int64_t blockStart, int numSamples, NoteEvent* out, int maxOut) {
    int k = 0;
    const int64_t blockEnd = blockStart + numSamples;
    const double hopUs = 1e6 * info.hop.load(std::memory_order_relaxed) /
                         std::max(1, info.rate.load(std::memory_order_relaxed));
    TimedEvent t;
    while (k < maxOut && mlToAudio.peek(t)) {
        if (t.gen != gen) {
            mlToAudio.skip(1);
            continue;
        }
        if (t.pos >= blockEnd) break;
        mlToAudio.skip(1);
        NoteEvent e = t.event;
        e.sampleOffset = static_cast<int32_t>(std::clamp<int64_t>(t.pos - blockStart, 0, numSamples - 1));
        const double delayUs = 1e6 * static_cast<double>(blockStart + e.sampleOffset - t.pos) / hostRate;
        eventDelay.add(delayUs);
        if (delayUs > hopUs) deadlineMisses.fetch_add(1, std::memory_order_relaxed);
        noteTrack(e);
        out[k++] = e;
    }
    eventsOut.fetch_add(static_cast<uint64_t>(k), std::memory_order_relaxed);
    return k;
}

// ---------------------------------------------------------------------------------------

Engine::Engine() : impl(std::make_unique<Impl>()) {}

Engine::~Engine() {
    release();
    delete impl->shared.pendingModel.exchange(nullptr, std::memory_order_acq_rel);
}

bool Engine::loadModel(ModelKind kind, const std::string& onnxPath, Device device) {
    {
        std::lock_guard<std::mutex> lock(impl->statusMutex);
        impl->status.state = ModelState::Loading;
        impl->status.kind = kind;
        impl->status.message.clear();
    }
    std::string error;
    DeviceUse used;
    std::unique_ptr<PitchModel> model = ModelFactory::load(kind, onnxPath, device, used, error);
    if (model && model->polyphonic() && impl->preparedRealtime.load(std::memory_order_acquire)) {
        error = kPolyRealtime + std::string("; the previous model keeps running");
        model.reset();
    }
    std::lock_guard<std::mutex> lock(impl->statusMutex);
    if (!model) {
        impl->status.state = ModelState::Failed;
        impl->status.message = error;
        return false;
    }
    impl->info.rate.store(model->sampleRate(), std::memory_order_relaxed);
    impl->info.hop.store(model->hop(), std::memory_order_relaxed);
    impl->info.lookFast.store(model->lookaheadSamples(LatencyMode::Fast), std::memory_order_relaxed);
    impl->info.lookAccurate.store(model->lookaheadSamples(LatencyMode::Accurate), std::memory_order_relaxed);
    impl->info.polyphonic.store(model->polyphonic(), std::memory_order_relaxed);
    impl->info.decidesNotes.store(model->decidesNotes(), std::memory_order_relaxed);
    // Hand over; a previous model still pending (never adopted) is ours to free.
    delete impl->shared.pendingModel.exchange(model.release(), std::memory_order_acq_rel);
    impl->status.state = ModelState::Ready;
    impl->status.message.clear();
    impl->status.device = used.device;
    impl->status.deviceNote = used.note;
    return true;
}

ModelStatus Engine::modelStatus() const {
    std::lock_guard<std::mutex> lock(impl->statusMutex);
    return impl->status;
}

void Engine::prepare(double sampleRate, int maxBlockSize, bool realtime) {
    release();
    Impl& m = *impl;
    m.hostRate = std::clamp(sampleRate, 8000.0, 768000.0);
    m.maxBlock = std::clamp(maxBlockSize, 1, 1 << 16);
    m.realtime = realtime;
    m.preparedRealtime.store(realtime, std::memory_order_release);
    if (m.info.polyphonic.load(std::memory_order_relaxed)) {
        // The loaded model stays (an offline prepare uses it again) but gives no notes live.
        std::lock_guard<std::mutex> lock(m.statusMutex);
        if (realtime) {
            m.status.state = ModelState::Failed;
            m.status.message = kPolyRealtime;
        } else if (m.status.message == kPolyRealtime) {
            m.status.state = ModelState::Ready;
            m.status.message.clear();
        }
    }
    m.scratch.assign(static_cast<size_t>(m.maxBlock), 0.0f);
    // Two seconds of audio (at least 4 blocks): room for the ML thread to lag behind.
    m.audioToMl.allocate(std::max<size_t>(static_cast<size_t>(m.hostRate * 2.0),
                                          4 * static_cast<size_t>(m.maxBlock)));
    m.mlToAudio.allocate(kEventQueue);
    m.audioPos = 0;
    m.ringWritten = 0;
    m.gen = m.shared.resetGen.load(std::memory_order_relaxed);
    m.pendingAllOff = false;
    std::memset(m.held, 0, sizeof m.held);
    m.heldCount = 0;
    m.cachedParamVersion = ~0u;
    m.refreshGain();
    m.ml.prepare(m.hostRate, realtime, m.maxBlock);
    m.audioBlockTime.reset();
    m.eventDelay.reset();
    m.prepared = true;
    if (realtime) m.startMl();
}

void Engine::release() {
    impl->stopMlThread();
    impl->prepared = false;
    impl->preparedRealtime.store(false, std::memory_order_release);
}

void Engine::reset() {
    Impl& m = *impl;
    if (!m.prepared) return;
    m.shared.resetMarkRing.store(m.ringWritten, std::memory_order_relaxed);
    m.shared.resetMarkHost.store(m.audioPos, std::memory_order_relaxed);
    m.shared.resetGen.store(++m.gen, std::memory_order_release);
    m.mlToAudio.skip(m.mlToAudio.readAvailable());
    m.pendingAllOff = m.heldCount > 0;
}

int Engine::process(const float* input, int numSamples, NoteEvent* events, int maxEvents) {
    Impl& m = *impl;
    if (!m.prepared || numSamples <= 0 || input == nullptr) return 0;
    ScopedTimer timer(m.audioBlockTime);
    m.blocks.fetch_add(1, std::memory_order_relaxed);
    m.refreshGain();
    int k = 0;
    if (m.pendingAllOff && events) k += m.allNotesOff(events, maxEvents);
    const int64_t blockStart = m.audioPos;
    for (int done = 0; done < numSamples;) {
        const int n = std::min(m.maxBlock, numSamples - done);
        m.pushInput(input + done, n);
        done += n;
        if (!m.realtime) {
            // Offline: the ML work runs right here, so everything decidable from the audio
            // so far is decided before this block's events go out (identical output for any
            // block size; no thread hand-off per block).
            m.offlineWaits.fetch_add(1, std::memory_order_relaxed);
            m.ml.pump();
            if (events) k += m.popEvents(blockStart, done, events + k, maxEvents - k);
        }
    }
    if (m.realtime && events) k += m.popEvents(blockStart, numSamples, events + k, maxEvents - k);
    return k;
}

int Engine::flush(NoteEvent* events, int maxEvents) {
    Impl& m = *impl;
    if (!m.prepared) return 0;
    int k = 0;
    if (m.realtime) {
        // Live streams have no end: flush just ends held notes.
        reset();
        return events ? m.allNotesOff(events, maxEvents) : 0;
    }
    m.ml.finish(m.audioPos);
    TimedEvent t;
    while (k < maxEvents && m.mlToAudio.peek(t)) {
        m.mlToAudio.skip(1);
        if (t.gen != m.gen) continue;
        NoteEvent e = t.event;
        // Offsets count from the end of the stream, as if silence followed.
        e.sampleOffset = static_cast<int32_t>(std::max<int64_t>(0, t.pos - m.audioPos));
        m.noteTrack(e);
        events[k++] = e;
    }
    return k;
}

void Engine::setParams(const Params& p) { impl->shared.params.store(p); }

Params Engine::params() const {
    Params p;
    impl->shared.params.load(p);
    return p;
}

int Engine::latencySamples() const {
    const Impl& m = *impl;
    const int rate = m.info.rate.load(std::memory_order_relaxed);
    const int hop = m.info.hop.load(std::memory_order_relaxed);
    if (rate <= 0 || hop <= 0) return 0;
    if (m.info.polyphonic.load(std::memory_order_relaxed)) return MlPipeline::polyLatencySamples(m.hostRate);
    StreamingResampler r;
    r.configure(static_cast<int>(std::lround(m.hostRate)), rate);
    Params p;
    m.shared.params.load(p);
    const int align = p.alignedTiming ? MlPipeline::alignSamples(m.hostRate, m.maxBlock) : 0;
    // The note model decides at its own frame: its lookahead (Instant), plus its decision
    // budget in Fast and Accurate (MlPipeline::noteModelBudgetMs).
    if (m.info.decidesNotes.load(std::memory_order_relaxed))
        return MlPipeline::noteModelLatencySamples(m.hostRate, r.halfTaps(), p.latencyMode) + align;
    const int look = p.latencyMode == LatencyMode::Accurate ? m.info.lookAccurate.load(std::memory_order_relaxed)
                                                            : m.info.lookFast.load(std::memory_order_relaxed);
    // Note events go out exactly this long after the voice sounded them (MlPipeline).
    return MlPipeline::latencySamples(m.hostRate, rate, hop, look,
                                      NoteTracker::budgetFrames(p, static_cast<double>(rate) / hop), r.halfTaps()) +
           align;
}

float Engine::currentPitchHz() const { return impl->shared.currentPitchHz.load(std::memory_order_relaxed); }

float Engine::inputLevelDb() const { return impl->inputLevel.load(std::memory_order_relaxed); }

std::string Engine::statsJson() const {
    const Impl& m = *impl;
    using nlohmann::json;
    auto timing = [](const TimingStats& t) {
        const auto s = t.snapshot();
        return json{{"count", s.count}, {"mean_us", s.meanUs}, {"min_us", s.minUs},
                    {"max_us", s.maxUs}, {"stddev_us", s.stddevUs}, {"p99_us", s.p99Us}};
    };
    const ModelStatus st = modelStatus();
    const double cpu = m.shared.mlCpuSeconds.load(std::memory_order_relaxed);
    const double wall = m.shared.mlWallSeconds.load(std::memory_order_relaxed);
    const double blockBudgetUs = m.maxBlock * 1e6 / m.hostRate;
    const auto ab = m.audioBlockTime.snapshot();
    json j;
    j["prepared"] = m.prepared;
    j["realtime"] = m.realtime;
    j["sample_rate"] = m.hostRate;
    j["max_block"] = m.maxBlock;
    j["model"] = {{"kind", modelKindId(st.kind)},
                  {"state", st.state == ModelState::Ready    ? "ready"
                            : st.state == ModelState::Failed ? "failed"
                            : st.state == ModelState::Loading ? "loading"
                                                              : "none"},
                  {"message", st.message},
                  {"device", deviceId(st.device)},
                  {"device_note", st.deviceNote},
                  {"rate", m.info.rate.load(std::memory_order_relaxed)},
                  {"hop", m.info.hop.load(std::memory_order_relaxed)}};
    j["timers"] = {{"audio_block", timing(m.audioBlockTime)},
                   {"resample", timing(m.shared.resampleTime)},
                   {"inference", timing(m.shared.inferenceTime)},
                   {"tracking", timing(m.shared.trackingTime)},
                   {"ml_step", timing(m.shared.mlStepTime)}};
    j["audio"] = {{"blocks", m.blocks.load(std::memory_order_relaxed)},
                  {"block_budget_us", blockBudgetUs},
                  {"mean_block_load", blockBudgetUs > 0 ? ab.meanUs / blockBudgetUs : 0.0},
                  {"input_level_db", m.inputLevel.load(std::memory_order_relaxed)},
                  {"overflow_samples", m.overflowSamples.load(std::memory_order_relaxed)}};
    j["ml"] = {{"thread_priority", m.mlPriorityKnown.load(std::memory_order_acquire) ? m.mlPriority : "none"},
               {"cpu_seconds", cpu},
               {"wall_seconds", wall},
               {"cpu_share", wall > 0 ? cpu / wall : 0.0},
               {"frames_analysed", m.shared.framesAnalysed.load(std::memory_order_relaxed)},
               {"frames_dropped", m.shared.framesDropped.load(std::memory_order_relaxed)},
               {"frames_late", m.shared.framesLate.load(std::memory_order_relaxed)},
               {"wakes", m.shared.mlWakes.load(std::memory_order_relaxed)},
               {"catch_up_calls", m.shared.catchUpCalls.load(std::memory_order_relaxed)},
               {"max_catch_up_hops", m.shared.maxCatchUpHops.load(std::memory_order_relaxed)},
               {"model_errors", m.shared.modelErrors.load(std::memory_order_relaxed)},
               {"guesses_withheld", m.shared.guessesWithheld.load(std::memory_order_relaxed)}};
    j["queues"] = {{"audio_to_ml_fill", m.prepared ? m.audioToMl.fillLevel() : 0},
                   {"audio_to_ml_capacity", m.audioToMl.capacity()},
                   {"ml_to_audio_fill", m.prepared ? m.mlToAudio.fillLevel() : 0},
                   {"ml_to_audio_capacity", m.mlToAudio.capacity()}};
    const auto ed = m.eventDelay.snapshot();
    Params cur;
    m.shared.params.load(cur);
    // The note model runs every mode; Instant on a pitch model is Fast.
    const bool noteModel = m.info.decidesNotes.load(std::memory_order_relaxed);
    const char* mode = cur.latencyMode == LatencyMode::Accurate                  ? "accurate"
                       : noteModel && cur.latencyMode == LatencyMode::Instant ? "instant"
                                                                              : "fast";
    j["latency"] = {{"mode", mode},
                    {"timing", cur.alignedTiming ? "aligned" : "immediate"},
                    {"algorithmic_samples", latencySamples()},
                    {"algorithmic_ms", latencySamples() * 1000.0 / m.hostRate},
                    {"emission_delay_beyond_decision_ms_mean", ed.meanUs / 1000.0},
                    {"emission_delay_beyond_decision_ms_max", ed.maxUs / 1000.0},
                    {"measured_emission_latency_ms_mean",
                     ed.count ? latencySamples() * 1000.0 / m.hostRate + ed.meanUs / 1000.0 : 0.0},
                    {"measured_emission_latency_ms_p99",
                     ed.count ? latencySamples() * 1000.0 / m.hostRate + ed.p99Us / 1000.0 : 0.0},
                    {"events", m.eventsOut.load(std::memory_order_relaxed)},
                    {"deadline_misses", m.deadlineMisses.load(std::memory_order_relaxed)}};
    // The audio path holds no lock (tests/engine counts pthread_mutex_lock calls on it); the
    // one place it can wait is a parameter read racing a writer on another (lower-priority)
    // thread: each retry is counted as a priority inversion.
    j["threads"] = {{"audio_priority_inversions", m.audioParamRetries.load(std::memory_order_relaxed)},
                    {"offline_inline_ml_steps", m.offlineWaits.load(std::memory_order_relaxed)}};
    j["onnxruntime"] = {{"version", OrtRuntime::versionString()}};
    return j.dump();
}

std::string Engine::profileReportJson() const { return ProfileReport::fromStats(statsJson()); }

const char* modelKindId(ModelKind kind) {
    switch (kind) {
        case ModelKind::SwiftF0: return "swiftf0";
        case ModelKind::CrepeTiny: return "crepe-tiny";
        case ModelKind::Pesto: return "pesto";
        case ModelKind::BasicPitch: return "basic-pitch";
        case ModelKind::VocalNote: return "vocalnote";
    }
    return "unknown";
}

const char* deviceId(Device device) {
    switch (device) {
        case Device::Auto: return "auto";
        case Device::Cpu: return "cpu";
        case Device::Cuda: return "cuda";
    }
    return "unknown";
}

bool modelKindFromId(const std::string& id, ModelKind& out) {
    for (ModelKind k : {ModelKind::SwiftF0, ModelKind::CrepeTiny, ModelKind::Pesto, ModelKind::BasicPitch,
                        ModelKind::VocalNote})
        if (id == modelKindId(k)) {
            out = k;
            return true;
        }
    return false;
}

}  // namespace vocalmidi
