// Fine pitch for pitch bend: the note model's pitch refined by a period search in the
// 16 kHz audio the model heard for that frame. A line-by-line port of
// pycontrol/vocalmidi/notemodel/fine_pitch.py (refine_pitch), golden-tested against it
// (tests/engine/test_pitch_refiner.cpp). Why: the model's fine-pitch head reads a held,
// in-tune note a median 7-9 cents off, which a pitch bend makes audible; the refined
// pitch is a median 2 cents off on clean takes (docs/measurements.md, session 28).
//
// Only pitch bends and the pitch an editor shows use it, never a note decision. The
// window ends where the model's own does (one hop after the frame), so it adds no latency.
// Thread: any. No allocation.
#pragma once

#include <cstdint>

namespace vocalmidi {

class PitchRefiner {
public:
    static constexpr double kSpan = 0.7;        // semitones searched either side of the model's pitch
    static constexpr double kMinClarity = 0.8;  // normalised correlation the best lag needs
    static constexpr int kWindowMin = 160;      // samples (10 ms); else one period
    static constexpr int kLagMin = 64;          // samples: a shorter period is read over several
    static constexpr double kPitchMin = 34.0, kPitchMax = 100.0;  // MIDI: others stay as they are
    // Samples before a frame's end that the search may read (the longest period's window
    // plus its lags), rounded up: the engine keeps at least this much history.
    static constexpr int kHistory = 640;

    // `end` points one past the frame's last sample (model rate); `available` samples
    // before it can be read. Returns the refined pitch (MIDI), or `pitch` where the audio
    // shows no clear period near it, or too little of it is available.
    static float refine(const float* end, int64_t available, float pitch);
};

}  // namespace vocalmidi
