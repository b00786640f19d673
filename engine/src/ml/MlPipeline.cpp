#include "ml/MlPipeline.h"

#include <algorithm>
#include <cmath>

#include "profile/ScopedTimer.h"

namespace vocalmidi {

MlPipeline::MlPipeline(SharedState& s, SpscRing<float>& in, SpscRing<TimedEvent>& out)
    : shared(s), audioToMl(in), mlToAudio(out) {}

MlPipeline::~MlPipeline() = default;

void MlPipeline::prepare(double rate, bool rt) {
    hostRate = rate;
    realtime = rt;
    readBuf.assign(4096, 0.0f);
    ringConsumed = 0;
    seenGen = shared.resetGen.load(std::memory_order_acquire);
    // The host rate may have changed since the model was adopted.
    if (model) resampler.configure(static_cast<int>(std::lround(hostRate)), model->sampleRate());
    adoptPendingModel();
    restartSegment(0);
}

void MlPipeline::restartSegment(int64_t hostStart) {
    segmentHostStart = hostStart;
    segmentConsumed = 0;
    stream.clear();
    streamStart = 0;
    nextFrame = 0;
    tracker.reset();
    shared.currentPitchHz.store(0.0f, std::memory_order_relaxed);
    if (model) {
        resampler.reset();
        stream.reserve(static_cast<size_t>(model->sampleRate()) * 2);
    }
}

void MlPipeline::adoptPendingModel() {
    PitchModel* incoming = shared.pendingModel.exchange(nullptr, std::memory_order_acq_rel);
    if (!incoming) return;
    // The old model is freed here, on the ML side, never on the audio thread.
    model.reset(incoming);
    resampler.configure(static_cast<int>(std::lround(hostRate)), model->sampleRate());
    tracker.configure(static_cast<double>(model->sampleRate()) / model->hop());
    results.assign(static_cast<size_t>(model->maxBatchFrames()), FrameResult{});
    // A new model starts a new stream where the old one stopped.
    const int64_t pos = segmentHostStart + segmentConsumed;
    NoteEvent ev[NoteTracker::kMaxEventsPerFrame];
    const int n = tracker.forceOff(ev);
    emitEvents(ev, n, pos);
    restartSegment(pos);
}

void MlPipeline::checkReset() {
    const uint32_t g = shared.resetGen.load(std::memory_order_acquire);
    if (g == seenGen) return;
    int64_t markRing, markHost;
    uint32_t g2 = g;
    do {
        g2 = shared.resetGen.load(std::memory_order_acquire);
        markRing = shared.resetMarkRing.load(std::memory_order_relaxed);
        markHost = shared.resetMarkHost.load(std::memory_order_relaxed);
    } while (shared.resetGen.load(std::memory_order_acquire) != g2);
    seenGen = g2;
    // Discard what was queued before the reset; held notes are ended by the audio thread.
    while (ringConsumed < markRing) {
        const size_t want = static_cast<size_t>(std::min<int64_t>(markRing - ringConsumed,
                                                                   static_cast<int64_t>(readBuf.size())));
        const size_t got = audioToMl.read(readBuf.data(), want);
        if (got == 0) break;
        ringConsumed += static_cast<int64_t>(got);
    }
    tracker.reset();
    restartSegment(markHost + (ringConsumed - markRing));
}

void MlPipeline::emitEvents(const NoteEvent* ev, int n, int64_t pos) {
    for (int i = 0; i < n; ++i) {
        TimedEvent t;
        t.pos = pos;
        t.gen = seenGen;
        t.event = ev[i];
        mlToAudio.push(t);  // capacity is thousands of events; a full queue drops the event
    }
}

int64_t MlPipeline::decisionPos(int64_t frame, LatencyMode mode) const {
    const int64_t needModel = frame * model->hop() + model->lookaheadSamples(mode);
    return segmentHostStart + resampler.inputNeededFor(needModel) - 1;
}

void MlPipeline::feed(const float* host, int n) {
    ScopedTimer t(shared.resampleTime);
    resampler.process(host, n, stream);
    segmentConsumed += n;
}

int MlPipeline::pump() {
    adoptPendingModel();
    checkReset();
    shared.params.load(params);
    if (realtime && model) {
        // Falling behind: skip ahead rather than let latency grow; the skipped audio is
        // counted as dropped frames and the held note ends.
        const int64_t backlog = static_cast<int64_t>(audioToMl.readAvailable());
        const int64_t limit = static_cast<int64_t>(hostRate * 0.5);
        if (backlog > limit) {
            const int64_t skip = backlog - static_cast<int64_t>(hostRate * 0.05);
            int64_t done = 0;
            while (done < skip) {
                const size_t got = audioToMl.read(readBuf.data(), static_cast<size_t>(
                    std::min<int64_t>(skip - done, static_cast<int64_t>(readBuf.size()))));
                if (got == 0) break;
                done += static_cast<int64_t>(got);
            }
            ringConsumed += done;
            const double frames = static_cast<double>(done) * model->sampleRate() / hostRate / model->hop();
            shared.framesDropped.fetch_add(static_cast<uint64_t>(std::ceil(frames)), std::memory_order_relaxed);
            const int64_t pos = segmentHostStart + segmentConsumed + done;
            NoteEvent ev[NoteTracker::kMaxEventsPerFrame];
            emitEvents(ev, tracker.forceOff(ev), pos);
            restartSegment(pos);
        }
    }
    int frames = 0;
    for (;;) {
        const size_t got = audioToMl.read(readBuf.data(), readBuf.size());
        if (got == 0) break;
        ringConsumed += static_cast<int64_t>(got);
        if (!model) {
            // No model: the engine passes no notes; the stream position still advances.
            segmentConsumed += static_cast<int64_t>(got);
            continue;
        }
        feed(readBuf.data(), static_cast<int>(got));
        frames += runReadyFrames();
    }
    return frames;
}

int MlPipeline::runReadyFrames() {
    if (!model) return 0;
    const LatencyMode mode = params.latencyMode;
    const int hop = model->hop();
    const int64_t look = model->lookaheadSamples(mode);
    const int64_t modelCount = streamStart + static_cast<int64_t>(stream.size());
    int total = 0;
    while (modelCount - look >= nextFrame * hop) {
        const int64_t lastReady = (modelCount - look) / hop;
        const int64_t nReady = lastReady - nextFrame + 1;
        const int count = model->batchInvariant(mode)
                              ? static_cast<int>(std::min<int64_t>(nReady, model->maxBatchFrames()))
                              : 1;
        if (results.size() < static_cast<size_t>(count)) results.resize(static_cast<size_t>(count));
        bool ok;
        {
            ScopedTimer t(shared.inferenceTime);
            ok = model->analyse(stream.data(), streamStart, modelCount, nextFrame, count, mode,
                                results.data(), error);
        }
        if (!ok) {
            shared.modelErrors.fetch_add(1, std::memory_order_relaxed);
            for (int i = 0; i < count; ++i) results[static_cast<size_t>(i)] = FrameResult{};
        }
        ScopedTimer t(shared.trackingTime);
        for (int i = 0; i < count; ++i) {
            const int64_t f = nextFrame + i;
            // Loudness of the two hops around the frame centre (as SwiftF0's reference does).
            double power = 0.0;
            const int64_t a = std::max<int64_t>(streamStart, f * hop - hop);
            const int64_t b = std::min<int64_t>(modelCount, f * hop + hop);
            for (int64_t s = a; s < b; ++s) {
                const double x = stream[static_cast<size_t>(s - streamStart)];
                power += x * x;
            }
            TrackerFrame tf;
            tf.f0Hz = results[static_cast<size_t>(i)].f0Hz;
            tf.confidence = results[static_cast<size_t>(i)].confidence;
            tf.loudnessDb = static_cast<float>(20.0 * std::log10(std::max(std::sqrt(power / (2.0 * hop)), 1e-7)));
            NoteEvent ev[NoteTracker::kMaxEventsPerFrame];
            const int n = tracker.processFrame(tf, params, ev);
            emitEvents(ev, n, decisionPos(f, mode));
            const float sm = tracker.noteActive() ? tracker.smoothedMidi() : 0.0f;
            shared.currentPitchHz.store(sm > 0 ? 440.0f * std::exp2((sm - 69.0f) / 12.0f) : 0.0f,
                                        std::memory_order_relaxed);
        }
        shared.framesAnalysed.fetch_add(static_cast<uint64_t>(count), std::memory_order_relaxed);
        nextFrame += count;
        total += count;
    }
    compact();
    return total;
}

void MlPipeline::compact() {
    const int64_t keepFrom = std::max<int64_t>(
        0, nextFrame * model->hop() - std::max(model->leftContextSamples(), model->hop()) - model->hop());
    const int64_t drop = keepFrom - streamStart;
    if (drop > 32768 && drop <= static_cast<int64_t>(stream.size())) {
        stream.erase(stream.begin(), stream.begin() + drop);
        streamStart += drop;
    }
}

void MlPipeline::finish(int64_t hostEnd) {
    pump();
    if (model) {
        const LatencyMode mode = params.latencyMode;
        const int hop = model->hop();
        // Model-rate length of the real stream, and the last frame centred inside it.
        const int64_t modelEnd = static_cast<int64_t>(std::ceil(
            static_cast<double>(segmentConsumed) * model->sampleRate() / hostRate));
        const int64_t lastFrame = std::max<int64_t>(0, (modelEnd + hop - 1) / hop - 1);
        const int64_t target = lastFrame * hop + model->lookaheadSamples(mode);
        std::fill(readBuf.begin(), readBuf.end(), 0.0f);
        while (streamStart + static_cast<int64_t>(stream.size()) < target && nextFrame <= lastFrame) {
            const int64_t need = resampler.inputNeededFor(target) - segmentConsumed;
            const int n = static_cast<int>(std::clamp<int64_t>(need, 1, static_cast<int64_t>(readBuf.size())));
            feed(readBuf.data(), n);
            runReadyFrames();
        }
        NoteEvent ev[NoteTracker::kMaxEventsPerFrame];
        emitEvents(ev, tracker.forceOff(ev), decisionPos(lastFrame, mode) + 1);
    }
    restartSegment(hostEnd);
}

}  // namespace vocalmidi
