// The ML side of the engine: reads host-rate samples from the audioToMl ring, resamples
// them to the model rate, frames them, runs the model, tracks notes and pushes stamped
// events into the mlToAudio ring.
//
// Thread: pump() runs on the engine's ML thread (realtime) or on the caller's thread
// (offline, so output is deterministic); only one thread at a time. It may allocate and
// call ONNX Runtime; it never touches audio-thread state except through the rings and
// the atomics of SharedState.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsp/StreamingResampler.h"
#include "ml/NoteModel.h"
#include "ml/PitchModel.h"
#include "ml/PolyTranscriber.h"
#include "notes/NoteDecoder.h"
#include "notes/NoteHoldQueue.h"
#include "notes/NoteTracker.h"
#include "notes/OnsetDetector.h"
#include "rt/ParamStore.h"
#include "rt/SpscRing.h"
#include "rt/TimedEvent.h"
#include "profile/TimingStats.h"

namespace vocalmidi {

// State both sides read; written with the memory orders stated at each use.
struct SharedState {
    ParamStore params;
    std::atomic<PitchModel*> pendingModel{nullptr};  // handed from the loader to the ML side
    // Reset/overflow hand-shake: the audio thread writes the marks, then bumps resetGen.
    std::atomic<uint32_t> resetGen{0};
    std::atomic<int64_t> resetMarkRing{0};
    std::atomic<int64_t> resetMarkHost{0};

    std::atomic<float> currentPitchHz{0.0f};

    TimingStats resampleTime, inferenceTime, trackingTime, mlStepTime;
    std::atomic<uint64_t> framesAnalysed{0};
    std::atomic<uint64_t> framesDropped{0};
    // Frames analysed more than lateThreshold behind the audio (the ML thread fell behind
    // and caught up on the backlog): their notes went out late rather than being lost.
    std::atomic<uint64_t> framesLate{0};
    std::atomic<uint64_t> mlWakes{0};       // times the ML thread woke (rt/HopWakeup.h)
    std::atomic<uint64_t> catchUpCalls{0};  // model calls that analysed more than one hop
    std::atomic<uint64_t> maxCatchUpHops{0};
    std::atomic<uint64_t> modelErrors{0};
    // Note model, Fast/Accurate: wrong guesses a retrigger corrected before they were sent.
    std::atomic<uint64_t> guessesWithheld{0};
    std::atomic<double> mlCpuSeconds{0.0};
    std::atomic<double> mlWallSeconds{0.0};
};

class MlPipeline {
public:
    MlPipeline(SharedState& shared, SpscRing<float>& audioToMl, SpscRing<TimedEvent>& mlToAudio);
    ~MlPipeline();

    // maxBlock: the host's largest block, which sets how far behind a frame may be analysed
    // before it counts as late.
    void prepare(double hostRate, bool realtime, int maxBlock = 512);
    // Processes everything the ring holds; returns the number of frames analysed.
    int pump();
    // Ring count (host samples ever read from audioToMl, as pump() counts them) from which
    // the next frame can run: the ML thread sleeps until the audio thread has written that
    // much (rt/HopWakeup.h). A little early rather than late: an early wake costs a wake, a
    // late one a host block.
    int64_t ringMarkForNextFrame() const;
    // Offline end of stream: analyse the lookahead tail (zero padded), end a held note, and
    // start a new segment at `hostEnd`.
    void finish(int64_t hostEnd);
    // Drops the analysis state (not the model), as after reset().
    void restartSegment(int64_t hostStart);

    bool hasModel() const { return model != nullptr; }
    // Host-rate latency of the polyphonic route: its events go out exactly this far after
    // the time of their frame.
    static int polyLatencySamples(double hostRate);
    // Host-rate latency of the monophonic route (what the host is told): note events go out
    // this long after they sounded; see NoteTracker::budgetFrames.
    static int latencySamples(double hostRate, int modelRate, int hop, int lookahead, int budgetFrames,
                              int resamplerHalfTaps);
    std::string lastError() const { return error; }
    // Host-rate latency of a note model: its lookahead from the stamped onset plus the
    // resampler's delay (Instant), plus noteModelBudgetMs(mode) in Fast and Accurate.
    static int noteModelLatencySamples(double hostRate, int resamplerHalfTaps,
                                       LatencyMode mode = LatencyMode::Instant);
    // The note model's decision budget beyond its lookahead: a note decided within it goes
    // out exactly that long after its stamped onset, so a host that compensates records it
    // there; one decided later goes out when decided, as in Instant. Why: the decoder
    // decides a median ~30 ms after the onset, so in Instant (budget 0) a recording holds
    // most notes ~30 ms late. On evaluation set v2 (validation voices; the engine, all
    // conditions) the recorded notes' F1@50 was 0.755 / 0.794 / 0.803 with budgets
    // 0 / 15 / 40 ms; in the plugin (128-sample blocks) the note-ons left a median 39.1 /
    // 39.1 / 51.4 ms after the onset (docs/measurements.md).
    static int noteModelBudgetMs(LatencyMode mode);
    // Host samples the ring may hold before the ML side skips audio (drops frames): a note
    // model catches up instead, up to most of the ring.
    static int64_t skipLimit(double hostRate, bool decidesNotes);
    // Host samples every event is held past its decision with Params::alignedTiming (and
    // added to the reported latency): the largest block, by which a decision can precede
    // the callback that sees its audio, plus 5 ms for the ML thread's wake-up and a
    // model call. Events still later than that go out late, as in Immediate timing.
    static int alignSamples(double hostRate, int maxBlock);

private:
    void adoptPendingModel();
    void checkReset();
    void feed(const float* host, int n);
    int runReadyFrames();
    int runPoly(int64_t streamEnd, bool endOfStream);
    int runNoteFrames();
    int forceOffHeld(NoteEvent* out);
    void emitEvents(const NoteEvent* ev, int n, int64_t pos);
    // One event at `due`, or after the last one sent if that was later.
    void emitInOrder(const NoteEvent& ev, int64_t due);
    void emitTracked(const TrackedEvent* ev, int n, int64_t decided, int latency);
    // emitTracked's due position of one event (never before `decided`, the aligned hold included).
    int64_t dueAt(const TrackedEvent& ev, int64_t decided, int latency) const;
    // The note model's events of `frame` through the hold queue (NoteHoldQueue).
    void holdNoteEvents(const TrackedEvent* ev, int n, int64_t decided, int latency, int64_t frame);
    void releaseHeld();
    // Frames the note model holds its events in the current latency mode (its budget).
    int holdFrames() const;
    int64_t decisionPos(int64_t frame, LatencyMode mode) const;
    int currentLatency() const;
    void compact();

    SharedState& shared;
    SpscRing<float>& audioToMl;
    SpscRing<TimedEvent>& mlToAudio;

    std::unique_ptr<PitchModel> model;
    StreamingResampler resampler;
    NoteTracker tracker;
    NoteDecoder noteDecoder;           // note models (NoteModel)
    NoteHoldQueue held;                // their events, while a correction may still replace a guess
    std::vector<NoteFrame> noteFrames;  // one call's outputs, sized at adoption
    int64_t noteFed = 0;               // model samples of this segment fed to the note model
    int quietHops = 0;                 // note model: hops fed in a row below kQuietDb
    float preStreamOnset = 0.0f;       // note model: the onset of frame -1, frame 0's (export.py stream_frames)
    int maxBlock = 512;
    OnsetDetector onsets;
    PolyTranscriber poly;              // polyphonic models (offline only)
    std::vector<PolyEvent> polyEvents;
    double hostRate = 48000.0;
    bool realtime = true;

    std::vector<float> readBuf;
    std::vector<float> stream;  // model-rate samples; stream[0] is absolute index streamStart
    int64_t streamStart = 0;
    int64_t nextFrame = 0;
    int64_t segmentHostStart = 0;  // absolute host position of this segment's first sample
    int64_t ringConsumed = 0;      // total samples read from audioToMl
    int64_t segmentConsumed = 0;   // host samples fed into this segment (incl. flush zeros)
    uint32_t seenGen = 0;
    int64_t lastEventPos = 0;  // emitted positions never go backwards
    std::vector<FrameResult> results;
    Params params;
    std::string error;
};

}  // namespace vocalmidi
