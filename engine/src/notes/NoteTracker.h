// Turns per-frame pitch/confidence/loudness into note-on/off and pitch-bend events.
//
// - onset: confidence and level above the "on" thresholds (set by sensitivity) on a
//   stable pitch for minNoteMs worth of frames (so notes shorter than that never start),
//   and not still gliding (a scoop starts the note on its target);
// - timing: every event says when it *sounded* (`at`, a model-rate sample), which is
//   earlier than the frame that decided it: a note's onset is the attack the
//   OnsetDetector found shortly before the pitch settled (else a fixed backtrack), an
//   offset the first unvoiced frame. The pipeline sends each event a constant latency
//   after `at` (see budgetFrames), so host-compensated MIDI lines up with the voice;
// - offset: below the lower "off" thresholds for offFrames frames (hysteresis: a one-frame
//   drop-out does not end a note);
// - a held note changes only when the (per mode, lightly median-smoothed) pitch leaves the
//   note's centre - its mean sung pitch, later a ~400 ms moving average - by more than 0.75
//   semitone for the confirmation time, so vibrato (±50 cents) and scoops stay one note;
// - re-attack on the same pitch after a loudness dip and rise, or a bridged drop-out;
// - velocity from the onset loudness (curve) or fixed; bend relative to the emitted note.
// Thread: the ML thread only (or the offline caller). No allocation after configure().
#pragma once

#include <cstdint>

#include "notes/OnsetDetector.h"
#include "vocalmidi/Types.h"

namespace vocalmidi {

struct TrackerFrame {
    int64_t centre = 0;  // model-rate sample of the frame centre, from the segment start
    float f0Hz = 0.0f;
    float confidence = 0.0f;
    float loudnessDb = -140.0f;
};

// A decided event and the model-rate sample at which it sounded.
struct TrackedEvent {
    NoteEvent event;
    int64_t at = 0;
};

class NoteTracker {
public:
    static constexpr int kMaxEventsPerFrame = 8;
    static constexpr int kMaxConfirm = 64;

    void configure(double framesPerSecond, int hopSamples);
    // Forgets everything (a new segment: frame centres count from 0 again).
    void reset();

    // Consumes one frame; writes up to kMaxEventsPerFrame events (sampleOffset unset).
    // `onsets` must have been advanced over the audio this frame was analysed from.
    int processFrame(const TrackerFrame& frame, const Params& p, const OnsetDetector& onsets,
                     TrackedEvent* out);
    // Ends a held note (end of stream, reset, dropped frames).
    int forceOff(NoteEvent* out);

    int confirmFrames(const Params& p) const { return confirmFramesFor(p, fps); }
    static int confirmFramesFor(const Params& p, double fps);
    // Frames between the sounding time of a note-on (`at`) and the frame that decides it,
    // which the reported latency covers: the confirmation plus the attack search.
    static int budgetFrames(const Params& p, double fps);
    int offFrames() const { return offRun; }
    bool noteActive() const { return active; }
    int activeNote() const { return active ? note : -1; }
    float smoothedMidi() const { return lastSmoothed; }

private:
    struct Thresholds {
        float confOn, confOff, levelOn, levelOff, dipDb, riseDb;
    };
    static Thresholds thresholds(float sensitivity);
    void clearNote();
    static int velocityFor(float loudnessDb, const Params& p);
    float median(const float* v, int n) const;
    int emitOn(int n, float midi, int velocity, const Params& p, int64_t at, TrackedEvent* out);
    int emitOff(int64_t at, TrackedEvent* out);
    // Where the note decided now began: the strongest attack in [from, to], else `fallback`.
    int64_t onsetAt(const OnsetDetector& onsets, int64_t from, int64_t to, int64_t fallback) const;
    int16_t bendValue(float midi, const Params& p) const;
    // Whether an event sounding at `at` still goes out on time if decided a frame after `centre`.
    bool canWait(int64_t at, int64_t centre, const Params& p) const;

    double fps = 62.5;
    int hop = 256;
    int offRun = 2;
    int64_t lastOnAt = -(1LL << 40);  // sounding time of the last note-on

    // Idle: sliding window of candidate onset frames.
    float candMidi[kMaxConfirm] = {};
    float candLoud[kMaxConfirm] = {};
    int candCount = 0;
    int64_t runStart = 0;  // centre of the first frame of the current voiced run

    // Active note.
    bool active = false;
    int note = 0;
    float noteCenter = 0.0f;  // sung (unsnapped) pitch at the onset
    uint8_t noteChannel = 1;
    int framesHeld = 0;
    int unvoicedRun = 0;
    int64_t unvoicedStart = 0;
    bool bridgedGap = false;
    static constexpr int kRecent = 5;
    float recent[kRecent] = {};
    int recentCount = 0;
    int changeRun = 0;
    int64_t changeStart = 0;
    float peakDb = -140.0f;  // decaying loudness peak (dip reference)
    static constexpr int kLoudWindow = 16;
    float loudHist[kLoudWindow] = {};  // the last ~120 ms of loudness (a rise's reference)
    int loudCount = 0;
    bool dipping = false;
    float dipMin = 0.0f;
    int64_t dipAt = 0;  // centre of the quietest frame of the dip
    bool reattackPending = false;  // a re-attack waiting (within its budget) for a pitch change
    int64_t reattackAt = 0;
    int64_t lastJudgedAttack = -(1LL << 40);  // attack of the last re-attack (not judged twice)
    bool reattackSharp = false;  // its attack was sharp: judged at its deadline, not dropped early

    int16_t lastBend = 0;
    BendMode noteBendMode = BendMode::Off;
    float lastSmoothed = 0.0f;
};

}  // namespace vocalmidi
