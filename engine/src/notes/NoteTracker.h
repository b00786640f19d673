// Turns per-frame pitch/confidence/loudness into note-on/off and pitch-bend events.
//
// - onset: confidence and level above the "on" thresholds (set by sensitivity) on a
//   stable pitch for minNoteMs worth of frames (so notes shorter than that never start);
// - offset: below the lower "off" thresholds for offFrames frames (hysteresis: a one-frame
//   drop-out does not end a note);
// - a held note changes only when the median-smoothed pitch leaves the note by more than
//   0.75 semitone for the confirmation time, so vibrato (±50 cents) and scoops stay one note;
// - re-attack on the same pitch after a loudness dip and rise, or a bridged drop-out;
// - velocity from the onset loudness (curve) or fixed; bend relative to the emitted note.
// Thread: the ML thread only (or the offline caller). No allocation after configure().
#pragma once

#include <cstdint>

#include "vocalmidi/Types.h"

namespace vocalmidi {

struct TrackerFrame {
    float f0Hz = 0.0f;
    float confidence = 0.0f;
    float loudnessDb = -140.0f;
};

class NoteTracker {
public:
    static constexpr int kMaxEventsPerFrame = 8;
    static constexpr int kMaxConfirm = 64;

    void configure(double framesPerSecond);
    void reset();

    // Consumes one frame; writes up to kMaxEventsPerFrame events (sampleOffset unset).
    int processFrame(const TrackerFrame& frame, const Params& p, NoteEvent* out);
    // Ends a held note (end of stream, reset, dropped frames).
    int forceOff(NoteEvent* out);

    int confirmFrames(const Params& p) const;
    int offFrames() const { return offRun; }
    bool noteActive() const { return active; }
    int activeNote() const { return active ? note : -1; }
    float smoothedMidi() const { return lastSmoothed; }

private:
    struct Thresholds {
        float confOn, confOff, levelOn, levelOff, dipDb, riseDb;
    };
    static Thresholds thresholds(float sensitivity);
    static int velocityFor(float loudnessDb, const Params& p);
    float median(const float* v, int n) const;
    int emitOn(int n, float midi, int velocity, const Params& p, NoteEvent* out);
    int emitOff(NoteEvent* out);
    int16_t bendValue(float midi, const Params& p) const;

    double fps = 62.5;
    int offRun = 2;

    // Idle: sliding window of candidate onset frames.
    float candMidi[kMaxConfirm] = {};
    float candLoud[kMaxConfirm] = {};
    int candCount = 0;

    // Active note.
    bool active = false;
    int note = 0;
    float noteCenter = 0.0f;  // sung (unsnapped) pitch at the onset
    uint8_t noteChannel = 1;
    int framesHeld = 0;
    int unvoicedRun = 0;
    bool bridgedGap = false;
    float recent[5] = {};
    int recentCount = 0;
    int changeRun = 0;
    float changeMidi[kMaxConfirm] = {};
    float peakDb = -140.0f;
    bool dipping = false;
    float dipMin = 0.0f;
    int16_t lastBend = 0;
    BendMode noteBendMode = BendMode::Off;
    float lastSmoothed = 0.0f;
};

}  // namespace vocalmidi
