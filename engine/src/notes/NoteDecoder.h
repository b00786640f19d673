// The note model's decoder: per-frame model outputs (NoteFrame) -> note events, causally.
//
// step() is a line-by-line port of the Python reference decoder
// (pycontrol/vocalmidi/train/decode.py, NoteDecoder.step) with the same defaults
// (DecoderConfig), golden-tested against it (tests/engine/test_note_decoder.cpp). Every
// decision carries the frame it stands for (onset / first quiet frame) and the frame at
// which it was decided, which with the model's one-hop lookahead sets when it can leave.
//
// processFrame() adds what the user sets on top, without changing the decisions when the
// parameters are at their defaults (chromatic, full range, bend off, sensitivity 0.5):
// key/scale snapping of the model's note, the note range (a note outside it is decided but
// not sent), the MIDI channel, velocity mode/curve, pitch bend from the model's fine pitch,
// and the early-correction choice (retrigger or bend).
// Thread: the ML thread only (or the offline caller). No allocation.
#pragma once

#include <cstdint>

#include "ml/NoteModel.h"
#include "notes/NoteDecoderConfig.h"
#include "notes/NoteTracker.h"
#include "vocalmidi/Types.h"

namespace vocalmidi {

// One decision, as decode.py's NoteEvent.
struct DecodedEvent {
    enum class Kind : uint8_t { On, Off, Bend };
    Kind kind = Kind::On;
    int64_t frame = 0;    // label frame it stands for
    int64_t decided = 0;  // frame at which it was decided (>= frame)
    int note = 0;
    int velocity = 0;
    float bend = 0.0f;  // Bend: semitones relative to the held note
    bool corrects = false;
};

class NoteDecoder {
public:
    static constexpr int kMaxDecisions = 2;
    static constexpr int kMaxEventsPerFrame = 8;

    void reset();
    // decode.py NoteDecoder.step: the next frame's outputs (note already snapped to the
    // user's scale by processFrame; the reference is chromatic). Returns decisions written.
    int step(const NoteDecoderConfig& cfg, double onset, double sounding, double note, double noteConf,
             double levelDb, DecodedEvent* out);
    // decode.py NoteDecoder.finish: the held note ends after the last frame.
    int finish(DecodedEvent* out);

    // One frame through step() and the user's parameters: MIDI events with the model-rate
    // sample at which each sounded (the middle of the frame it stands for).
    int processFrame(const NoteFrame& frame, double levelDb, const Params& p, const NoteDecoderConfig& base,
                     TrackedEvent* out);
    // Of the last processFrame's events: the index of the first of a note-on's group (its
    // bend, then the note-on), or -1 when no note-on was sent; and whether that note-on
    // retriggers a guessed pitch (early correction "retrigger"). For NoteHoldQueue.
    int lastOnStart() const { return onStart; }
    bool lastOnCorrects() const { return onCorrects; }
    // Ends a held note now (reset, end of stream, dropped frames); returns MIDI events.
    int forceOff(NoteEvent* out);
    // End of stream: decode.py's finish() as MIDI events stamped after the last frame.
    int finishStream(TrackedEvent* out);

    int64_t framesSeen() const { return frame + 1; }
    bool noteActive() const { return held; }
    // Fine pitch of the held note (MIDI), 0 when none: for editors.
    float heldPitch() const { return held ? lastPitch : 0.0f; }

    // decode.py frame_levels_db for one hop: RMS in dB, floored at -100.
    static double levelDb(const float* hop, int n);
    static int velocityFor(double levelDb, double floorDb);

private:
    int render(const DecodedEvent* d, int n, const NoteFrame& fr, const Params& p, TrackedEvent* out);
    int sendOn(int n, int velocity, float pitch, const Params& p, int64_t at, TrackedEvent* out);
    int sendOff(int64_t at, TrackedEvent* out);
    int16_t bendValue(float semis, const Params& p) const;

    // decode.py state.
    bool armed = true;
    bool held = false;
    int heldNote = 0;
    int64_t heldOnset = 0;
    float heldBent = 0.0f;
    bool heldCorrected = false;
    int quiet = 0;
    int loud = 0;
    int candidate = -1;
    int candidateRun = 0;
    int64_t pending = -1;
    int64_t started = -1;  // frame the pending onset met soundingOn (waiting for the pitch)
    int64_t reattack = -1;  // a held note's onset edge whose re-attack waits for the pitch
    int64_t frame = -1;

    // What went out as MIDI.
    int sentNote = -1;  // -1: nothing sounding (or the note was outside the range)
    uint8_t sentChannel = 1;
    int sentVelocity = 100;
    BendMode sentBendMode = BendMode::Off;
    int16_t lastBend = 0;
    float lastPitch = 0.0f;
    int onStart = -1;
    bool onCorrects = false;
};

}  // namespace vocalmidi
