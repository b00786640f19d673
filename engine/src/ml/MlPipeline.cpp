#include "ml/MlPipeline.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsp/PitchRefiner.h"
#include "profile/ScopedTimer.h"

namespace vocalmidi {

MlPipeline::MlPipeline(SharedState& s, SpscRing<float>& in, SpscRing<TimedEvent>& out)
    : shared(s), audioToMl(in), mlToAudio(out) {}

MlPipeline::~MlPipeline() = default;

void MlPipeline::prepare(double rate, bool rt, int block) {
    hostRate = rate;
    realtime = rt;
    maxBlock = std::max(1, block);
    readBuf.assign(4096, 0.0f);
    ringConsumed = 0;
    lastEventPos = 0;
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
    noteDecoder.reset();
    held.clear();  // after a host reset its events are stale (the flushing callers released them)
    noteFed = 0;
    quietHops = 0;
    preStreamOnset = 0.0f;
    onsets.reset();
    poly.reset();
    if (model && model->decidesNotes()) static_cast<NoteModel*>(model.get())->resetState();
    shared.currentPitchHz.store(0.0f, std::memory_order_relaxed);
    if (model) {
        resampler.reset();
        stream.reserve(static_cast<size_t>(model->sampleRate()) * 2);
    }
}

int MlPipeline::forceOffHeld(NoteEvent* out) {
    releaseHeld();  // what was decided goes out before the forced note-off
    int n = tracker.forceOff(out);
    n += noteDecoder.forceOff(out + n);
    return n;
}

void MlPipeline::adoptPendingModel() {
    PitchModel* incoming = shared.pendingModel.exchange(nullptr, std::memory_order_acq_rel);
    if (!incoming) return;
    // The held note of the old model ends where the new one starts.
    const int64_t pos = segmentHostStart + segmentConsumed;
    NoteEvent ev[NoteTracker::kMaxEventsPerFrame + NoteDecoder::kMaxEventsPerFrame];
    const int n = forceOffHeld(ev);
    // The old model is freed here, on the ML side, never on the audio thread.
    model.reset(incoming);
    resampler.configure(static_cast<int>(std::lround(hostRate)), model->sampleRate());
    tracker.configure(static_cast<double>(model->sampleRate()) / model->hop(), model->hop());
    onsets.configure(model->sampleRate());
    results.assign(static_cast<size_t>(model->maxBatchFrames()), FrameResult{});
    noteFrames.assign(static_cast<size_t>(model->decidesNotes() ? NoteModel::kMaxHops : 0), NoteFrame{});
    // A new model starts a new stream where the old one stopped.
    emitEvents(ev, n, std::max(pos, lastEventPos));
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

int MlPipeline::latencySamples(double hostRate, int modelRate, int hop, int lookahead, int budgetFrames,
                               int resamplerHalfTaps) {
    // Every note event goes out this long after the moment it sounded (TrackedEvent::at),
    // which is never before it was decided when the tracker decides within its budget.
    const double model = static_cast<double>(lookahead) + static_cast<double>(budgetFrames) * hop;
    return static_cast<int>(std::ceil(model * hostRate / modelRate)) + resamplerHalfTaps + 1;
}

int64_t MlPipeline::dueAt(const TrackedEvent& ev, int64_t decided, int latency) const {
    // Aligned timing holds a decision as long as it adds to the latency (currentLatency()).
    if (params.alignedTiming) decided += alignSamples(hostRate, maxBlock);
    const int64_t sounded = segmentHostStart + static_cast<int64_t>(std::llround(
        static_cast<double>(ev.at) * hostRate / model->sampleRate()));
    // Never before the decision (a late decision goes out late).
    return std::max(decided, sounded + latency);
}

void MlPipeline::emitInOrder(const NoteEvent& ev, int64_t due) {
    lastEventPos = std::max(due, lastEventPos);  // never out of order
    emitEvents(&ev, 1, lastEventPos);
}

void MlPipeline::emitTracked(const TrackedEvent* ev, int n, int64_t decided, int latency) {
    for (int i = 0; i < n; ++i) emitInOrder(ev[i].event, dueAt(ev[i], decided, latency));
}

int MlPipeline::holdFrames() const {
    return static_cast<int>(std::lround(noteModelBudgetMs(params.latencyMode) * NoteModel::kRate / 1000.0 /
                                        NoteModel::kHop));
}

void MlPipeline::holdNoteEvents(const TrackedEvent* ev, int n, int64_t decided, int latency, int64_t frame) {
    auto emit = [this](const NoteHoldQueue::Held& h) { emitInOrder(h.event, h.pos); };
    NoteHoldQueue::Held h[NoteDecoder::kMaxEventsPerFrame];
    for (int i = 0; i < n; ++i) h[i] = {ev[i].event, ev[i].at / NoteModel::kHop, dueAt(ev[i], decided, latency)};
    if (held.add(h, n, noteDecoder.lastOnStart(), noteDecoder.lastOnCorrects(), emit) > 0)
        shared.guessesWithheld.fetch_add(1, std::memory_order_relaxed);
    // Realtime, when the next frame is decoded the audio thread may be a host block (plus
    // the wake-up) past its audio: what is due by then goes now, or it would leave a block
    // late (at 1024-sample blocks Accurate's note-ons left a median 63 ms after the onset
    // instead of ~52). Offline the frame rule alone: the output of any block size, and the
    // Python twin's (decode.py cancel_unsent_guesses).
    const int64_t soon = realtime ? decisionPos(frame + 1, LatencyMode::Instant) + alignSamples(hostRate, maxBlock)
                                  : std::numeric_limits<int64_t>::min();
    held.release(frame, holdFrames(), soon, emit);
}

void MlPipeline::releaseHeld() {
    held.releaseAll([this](const NoteHoldQueue::Held& h) { emitInOrder(h.event, h.pos); });
}

int MlPipeline::noteModelBudgetMs(LatencyMode mode) {
    return mode == LatencyMode::Fast ? 15 : mode == LatencyMode::Accurate ? 40 : 0;
}

int MlPipeline::noteModelLatencySamples(double rate, int halfTaps, LatencyMode mode) {
    return latencySamples(rate, NoteModel::kRate, NoteModel::kHop, NoteModel::kHop * (1 + NoteModel::kLookaheadHops) -
                          NoteModel::kHop / 2, 0, halfTaps) +
           static_cast<int>(std::ceil(noteModelBudgetMs(mode) * rate / 1000.0));
}

int MlPipeline::alignSamples(double rate, int maxBlock) {
    return maxBlock + static_cast<int>(std::ceil(0.005 * rate));
}

int64_t MlPipeline::skipLimit(double rate, bool decidesNotes) {
    // The ring holds 2 s. A pitch model skips after 0.5 s (its frames are expensive); the
    // note model analyses a 1.5 s backlog in a few calls and loses nothing.
    return static_cast<int64_t>(rate * (decidesNotes ? 1.5 : 0.5));
}

int MlPipeline::currentLatency() const {
    const int align = params.alignedTiming ? alignSamples(hostRate, maxBlock) : 0;
    if (model->decidesNotes())
        return noteModelLatencySamples(hostRate, resampler.halfTaps(), params.latencyMode) + align;
    const int hop = model->hop();
    return latencySamples(hostRate, model->sampleRate(), hop, model->lookaheadSamples(params.latencyMode),
                          NoteTracker::budgetFrames(params, static_cast<double>(model->sampleRate()) / hop),
                          resampler.halfTaps()) + align;
}

int64_t MlPipeline::decisionPos(int64_t frame, LatencyMode mode) const {
    if (model->decidesNotes()) {
        // The output for frame k needs the audio up to the end of frame k + lookahead.
        const int64_t need = (frame + 1 + NoteModel::kLookaheadHops) * NoteModel::kHop;
        return segmentHostStart + resampler.inputNeededFor(need) - 1;
    }
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
        const int64_t limit = skipLimit(hostRate, model->decidesNotes());
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
            NoteEvent ev[NoteTracker::kMaxEventsPerFrame + NoteDecoder::kMaxEventsPerFrame];
            emitEvents(ev, forceOffHeld(ev), std::max(pos, lastEventPos));
            restartSegment(pos);
        }
    }
    int frames = 0;
    for (;;) {
        const size_t got = audioToMl.read(readBuf.data(), readBuf.size());
        if (got == 0) break;
        ringConsumed += static_cast<int64_t>(got);
        if (!model || (realtime && model->polyphonic())) {
            // No model (or one that runs offline only): the engine passes no notes; the
            // stream position still advances.
            segmentConsumed += static_cast<int64_t>(got);
            continue;
        }
        feed(readBuf.data(), static_cast<int>(got));
        // The note model takes the whole backlog in one call (below), not one read at a time.
        if (!model->decidesNotes()) frames += runReadyFrames();
    }
    if (model && model->decidesNotes()) frames += runReadyFrames();
    return frames;
}

int64_t MlPipeline::ringMarkForNextFrame() const {
    // No model, or one that runs offline only: nothing to wait for but the next 10 ms.
    if (!model || model->polyphonic()) return ringConsumed + static_cast<int64_t>(hostRate * 0.01);
    const int64_t modelCount = streamStart + static_cast<int64_t>(stream.size());
    const int64_t need = model->decidesNotes()
        ? noteFed + NoteModel::kHop - modelCount
        : nextFrame * model->hop() + model->lookaheadSamples(params.latencyMode) - modelCount;
    // Model samples to host samples, two short for the resampler's rounding.
    const int64_t host = static_cast<int64_t>(std::floor(static_cast<double>(need) * hostRate /
                                                         model->sampleRate())) - 2;
    return ringConsumed + std::max<int64_t>(1, host);
}

int MlPipeline::runReadyFrames() {
    if (!model) return 0;
    if (model->polyphonic()) return runPoly(streamStart + static_cast<int64_t>(stream.size()), false);
    if (model->decidesNotes()) return runNoteFrames();
    const LatencyMode mode = params.latencyMode;
    const int hop = model->hop();
    const int64_t look = model->lookaheadSamples(mode);
    const int64_t modelCount = streamStart + static_cast<int64_t>(stream.size());
    const int latency = currentLatency();
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
            // The attack search sees exactly the audio this frame was final with (any block
            // size gives the same answer).
            onsets.advance(stream.data(), streamStart, f * hop + look);
            TrackerFrame tf;
            tf.centre = f * hop;
            tf.f0Hz = results[static_cast<size_t>(i)].f0Hz;
            tf.confidence = results[static_cast<size_t>(i)].confidence;
            tf.loudnessDb = static_cast<float>(20.0 * std::log10(std::max(std::sqrt(power / (2.0 * hop)), 1e-7)));
            TrackedEvent ev[NoteTracker::kMaxEventsPerFrame];
            const int n = tracker.processFrame(tf, params, onsets, ev);
            emitTracked(ev, n, decisionPos(f, mode), latency);
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

namespace {
int polyLatencyFor(double rate, int halfTaps) {
    return static_cast<int>(std::ceil(PolyTranscriber::latencyModelSamples() * rate / BasicPitchModel::kRate)) +
           halfTaps + 1;
}
}  // namespace

int MlPipeline::polyLatencySamples(double rate) {
    StreamingResampler r;  // configure() builds a table: not for every pump
    r.configure(static_cast<int>(std::lround(rate)), BasicPitchModel::kRate);
    return polyLatencyFor(rate, r.halfTaps());
}

int MlPipeline::runPoly(int64_t streamEnd, bool endOfStream) {
    auto* bp = dynamic_cast<BasicPitchModel*>(model.get());
    if (!bp) return 0;
    const int64_t before = poly.framesDecoded();
    polyEvents.clear();
    bool ok;
    {
        ScopedTimer t(shared.inferenceTime);
        ok = poly.run(*bp, stream.data(), streamStart, streamEnd, endOfStream, params, polyEvents, error);
    }
    if (!ok) shared.modelErrors.fetch_add(1, std::memory_order_relaxed);
    // Every event goes out a fixed latency after its frame's time, which is never before
    // the moment it was decided (see PolyTranscriber::latencyModelSamples).
    const int64_t latency = polyLatencyFor(hostRate, resampler.halfTaps());
    for (const PolyEvent& pe : polyEvents)
        emitEvents(&pe.event, 1, segmentHostStart + latency +
                                     std::llround(BasicPitchModel::frameSeconds(pe.frame) * hostRate));
    const int frames = static_cast<int>(poly.framesDecoded() - before);
    shared.framesAnalysed.fetch_add(static_cast<uint64_t>(std::max(0, frames)), std::memory_order_relaxed);
    compact();
    return frames;
}

// Our note model's recurrent state drifts in long silence, which its training clips (a few
// seconds each) never hold: after 10 s of digital silence dawtest's phrase came out
// [58, 57, 60, 64] instead of [57, 60, 64], and 18 clean validation takes lost 2 points of
// note F1@50 after 30 s of it. So the state restarts from zero after a second of input
// below -70 dBFS (export.py's OnnxNoteModel.run does the same, hop for hop).
constexpr int kQuietResetHops = 200;
constexpr double kQuietDb = -70.0;

int MlPipeline::runNoteFrames() {
    auto* nm = static_cast<NoteModel*>(model.get());
    constexpr int hop = NoteModel::kHop;
    const int64_t modelCount = streamStart + static_cast<int64_t>(stream.size());
    const int latency = currentLatency();
    // Frames analysed further than this behind the newest audio are late (model samples):
    // a host block, plus two hops for the ML thread's polling.
    const double lateModel = (maxBlock * static_cast<double>(NoteModel::kRate) / hostRate) + 2.0 * hop;
    int total = 0;
    // Realtime, behind by more than a host block and the polling: the whole backlog in one
    // call (the graph takes [1, 80n]). Otherwise one hop per call, as offline: a call over
    // n hops rounds differently, and borderline decisions moved (session 13, Aligned timing
    // at 1024-sample blocks: 12 of 68 recorded notes a hop off the offline render).
    const int64_t catchUp = static_cast<int64_t>(std::ceil(maxBlock * static_cast<double>(NoteModel::kRate) /
                                                           hostRate / hop)) + 2;
    while (modelCount - noteFed >= hop) {
        const int64_t ready = (modelCount - noteFed) / hop;
        int hops = realtime && ready > catchUp ? static_cast<int>(std::min<int64_t>(ready, NoteModel::kMaxHops)) : 1;
        // A call ends where a quiet second completes, so the reset falls on the same hop
        // however the hops are batched.
        int quiet = quietHops;
        bool restart = false;
        for (int j = 0; j < hops; ++j) {
            const float* in = stream.data() + (noteFed - streamStart) + static_cast<int64_t>(j) * hop;
            quiet = NoteDecoder::levelDb(in, hop) < kQuietDb ? quiet + 1 : 0;
            if (quiet >= kQuietResetHops) {
                hops = j + 1;
                restart = true;
                break;
            }
        }
        bool ok;
        {
            ScopedTimer t(shared.inferenceTime);
            ok = nm->step(stream.data() + (noteFed - streamStart), hops, noteFrames.data(), error);
        }
        if (!ok) {
            shared.modelErrors.fetch_add(1, std::memory_order_relaxed);
            for (int i = 0; i < hops; ++i) noteFrames[static_cast<size_t>(i)] = NoteFrame{};
        }
        if (hops > 1) {
            shared.catchUpCalls.fetch_add(1, std::memory_order_relaxed);
            uint64_t prev = shared.maxCatchUpHops.load(std::memory_order_relaxed);
            while (prev < static_cast<uint64_t>(hops) &&
                   !shared.maxCatchUpHops.compare_exchange_weak(prev, static_cast<uint64_t>(hops),
                                                               std::memory_order_relaxed)) {
            }
        }
        // Host samples still queued count as behind too.
        const double queued = static_cast<double>(audioToMl.readAvailable()) * NoteModel::kRate / hostRate;
        ScopedTimer t(shared.trackingTime);
        int late = 0;
        for (int j = 0; j < hops; ++j) {
            // Output j of a call starting at noteFed is label frame noteFed/80 + j - lookahead.
            const int64_t f = noteFed / hop + j - NoteModel::kLookaheadHops;
            // Frame -1 stands for the silence before the stream: discarded, but an onset there
            // is a sound starting at the stream's first sample, so frame 0's
            // (export.py stream_frames says why).
            if (f < 0) {
                preStreamOnset = noteFrames[static_cast<size_t>(j)].onset;
                continue;
            }
            if (f == 0) noteFrames[static_cast<size_t>(j)].onset =
                std::max(noteFrames[static_cast<size_t>(j)].onset, preStreamOnset);
            const int64_t frameEnd = noteFed + static_cast<int64_t>(j + 1) * hop;
            if (realtime && queued + static_cast<double>(modelCount - frameEnd) > lateModel) ++late;
            // The frame's own hop, as decode.py's frame_levels_db.
            const double level = NoteDecoder::levelDb(stream.data() + (f * hop - streamStart), hop);
            // Pitch bends and the editor read the period the audio shows near the model's
            // pitch (no note decision uses it); the window ends where the model's does.
            NoteFrame& fr = noteFrames[static_cast<size_t>(j)];
            fr.pitch = PitchRefiner::refine(stream.data() + (frameEnd - streamStart), frameEnd - streamStart, fr.pitch);
            TrackedEvent ev[NoteDecoder::kMaxEventsPerFrame];
            const int n = noteDecoder.processFrame(fr, level, params, nm->decoderConfig(params.latencyMode), ev);
            holdNoteEvents(ev, n, decisionPos(f, LatencyMode::Instant), latency, f);
            const float pm = noteDecoder.heldPitch();
            shared.currentPitchHz.store(pm > 0 ? 440.0f * std::exp2((pm - 69.0f) / 12.0f) : 0.0f,
                                        std::memory_order_relaxed);
        }
        if (late) shared.framesLate.fetch_add(static_cast<uint64_t>(late), std::memory_order_relaxed);
        shared.framesAnalysed.fetch_add(static_cast<uint64_t>(hops), std::memory_order_relaxed);
        noteFed += static_cast<int64_t>(hops) * hop;
        nextFrame = noteFed / hop;
        total += hops;
        quietHops = restart ? 0 : quiet;
        if (restart) nm->resetState();
    }
    compact();
    return total;
}

void MlPipeline::compact() {
    const int64_t keepFrom = model->decidesNotes()
                                 ? std::max<int64_t>(0, noteFed - std::max(2 * NoteModel::kHop, PitchRefiner::kHistory))
                           : model->polyphonic() ? std::max<int64_t>(0, poly.keepFrom()) : std::max<int64_t>(
        0, nextFrame * model->hop() - std::max({model->leftContextSamples(), model->hop(), onsets.window()}) - model->hop());
    const int64_t drop = keepFrom - streamStart;
    if (drop > 32768 && drop <= static_cast<int64_t>(stream.size())) {
        stream.erase(stream.begin(), stream.begin() + drop);
        streamStart += drop;
    }
}

void MlPipeline::finish(int64_t hostEnd) {
    pump();
    if (model && model->polyphonic()) {
        // The real stream's model-rate length; the resampler's tail needs zeros to get there.
        const int64_t modelEnd = static_cast<int64_t>(std::ceil(
            static_cast<double>(segmentConsumed) * model->sampleRate() / hostRate));
        std::fill(readBuf.begin(), readBuf.end(), 0.0f);
        while (streamStart + static_cast<int64_t>(stream.size()) < modelEnd) {
            const int64_t need = resampler.inputNeededFor(modelEnd) - segmentConsumed;
            feed(readBuf.data(), static_cast<int>(std::clamp<int64_t>(need, 1, static_cast<int64_t>(readBuf.size()))));
        }
        runPoly(modelEnd, true);
    } else if (model && model->decidesNotes()) {
        constexpr int hop = NoteModel::kHop;
        const int64_t modelEnd = static_cast<int64_t>(std::ceil(
            static_cast<double>(segmentConsumed) * model->sampleRate() / hostRate));
        // Every frame holding real audio, plus its lookahead (zeros after the end).
        const int64_t lastFrame = (modelEnd + hop - 1) / hop - 1;
        const int64_t target = (lastFrame + 1 + NoteModel::kLookaheadHops) * hop;
        std::fill(readBuf.begin(), readBuf.end(), 0.0f);
        while (lastFrame >= 0 && noteFed < target) {
            const int64_t have = streamStart + static_cast<int64_t>(stream.size());
            if (have < target) {
                const int64_t need = resampler.inputNeededFor(target) - segmentConsumed;
                feed(readBuf.data(), static_cast<int>(std::clamp<int64_t>(need, 1, static_cast<int64_t>(readBuf.size()))));
            }
            if (runNoteFrames() == 0 && streamStart + static_cast<int64_t>(stream.size()) >= target) break;
        }
        releaseHeld();
        TrackedEvent te[NoteDecoder::kMaxEventsPerFrame];
        const int n = noteDecoder.finishStream(te);
        emitTracked(te, n, decisionPos(std::max<int64_t>(0, lastFrame), LatencyMode::Instant) + 1, currentLatency());
    } else if (model) {
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
        // A note still held ends where the stream ends.
        NoteEvent ev[NoteTracker::kMaxEventsPerFrame];
        TrackedEvent te[NoteTracker::kMaxEventsPerFrame];
        const int n = tracker.forceOff(ev);
        for (int i = 0; i < n; ++i) te[i] = {ev[i], modelEnd};
        emitTracked(te, n, decisionPos(lastFrame, mode) + 1, currentLatency());
    }
    restartSegment(hostEnd);
}

}  // namespace vocalmidi
