// Polyphonic note creation from Basic Pitch's note/onset posteriorgrams, as
// basic_pitch/note_creation.py output_to_notes_polyphonic() does with predict()'s
// defaults: onset threshold 0.5, frame threshold 0.3, minimum note 127.70 ms (11 frames),
// onsets inferred from frame jumps, energy tolerance 11 frames, melodia trick.
//
// basic-pitch decodes a whole file at once (later onsets first, then the melodia trick in
// order of global maxima). To stream it with bounded latency the frames are cut into
// segments, each decoded exactly as the package decodes a file:
// - at a quiet band (kQuietFrames frames where no allowed key reaches the frame threshold
//   and no onset the onset threshold) the cut changes nothing: every scan of the algorithm
//   stops inside such a band, so the notes on both sides are those of a whole-file decode;
// - with no such band within kMaxSegmentFrames, the cut goes where the fewest keys sound,
//   preferably just before an onset. The segment is decoded with every frame available
//   past the cut, the notes starting before the cut are kept whole (also where they run
//   past it), and the next segment starts at the cut with their energy already taken.
//   A note held past all available frames is split there.
// The inferred-onset scale (max onset / max frame jump) uses the maxima so far instead of
// the whole file's.
// Note range (Params noteMin..noteMax) zeroes the keys outside it before decoding, as
// basic-pitch's minimum/maximum frequency does; scale snapping, channel and velocity are
// applied to the decoded notes. Sensitivity and minNoteMs do not apply (basic-pitch's own
// defaults are used).
// Thread: the ML thread only (or the offline caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vocalmidi/Types.h"

namespace vocalmidi {

struct PolyNote {
    int64_t start = 0;  // frames, end exclusive (as basic-pitch's note events)
    int64_t end = 0;
    int pitch = 0;      // MIDI, before snapping
    double amplitude = 0.0;
};

struct PolyEvent {
    int64_t frame = 0;  // frame whose time the event belongs to
    NoteEvent event;
};

class PolyNoteDecoder {
public:
    static constexpr int kBins = 88;
    static constexpr int kMidiOffset = 21;
    static constexpr double kOnsetThreshold = 0.5;
    static constexpr double kFrameThreshold = 0.3;
    static constexpr int kMinNoteFrames = 11;  // round(127.70 ms * 22050 / 256 / 1000)
    static constexpr int kEnergyTol = 11;
    static constexpr int kQuietFrames = kEnergyTol + 2;
    static constexpr int kMaxSegmentFrames = 172;  // 2 s: the decision horizon

    void reset();
    // Appends the next frame's note and onset activations (kBins each).
    void push(const float* note, const float* onset);
    int64_t framesPushed() const { return base + static_cast<int64_t>(rows()); }
    // Decodes every segment the frames so far decide; with `endOfStream`, all the rest up
    // to `endFrame` (frames past it are dropped). Appends the events (sorted by frame) to
    // `out`; returns how many.
    int decide(const Params& p, bool endOfStream, std::vector<PolyEvent>& out, int64_t endFrame = INT64_MAX);

private:
    // basic-pitch's output_to_notes_polyphonic() on frames [a, c) of the buffer, the keys
    // outside `allowed` zeroed and the energy of `taken` notes removed first.
    std::vector<PolyNote> decodeSegment(int64_t a, int64_t c, const bool* allowed, double scale,
                                        const std::vector<PolyNote>& taken) const;
    std::size_t rows() const { return note.size() / kBins; }
    const float* noteRow(int64_t f) const { return note.data() + std::size_t(f - base) * kBins; }
    double jump(int64_t f, int k) const;  // inferred-onset frame jump, unscaled
    double onsetAt(int64_t f, int k, double scale) const;
    bool quiet(int64_t f, const bool* allowed, double scale) const;
    int64_t forcedCut(int64_t from, int64_t to, const bool* allowed, double scale) const;
    void queueNotes(const std::vector<PolyNote>& notes, const Params& p);
    void release(int64_t before, std::vector<PolyEvent>& out);
    void drop(int64_t before);

    std::vector<float> note, onset;  // rows of kBins from absolute frame `base`
    int64_t base = 0;
    int64_t segStart = 0;
    float maxOnset[kBins] = {};
    double maxJump[kBins] = {};
    std::vector<PolyNote> carried;  // kept notes that run past segStart
    struct Pending {
        int64_t frame;
        int on;  // note-offs sort first within a frame
        int key, velocity, channel;
        bool operator<(const Pending& o) const {
            return frame != o.frame ? frame < o.frame : on != o.on ? on < o.on : key < o.key;
        }
    };
    std::vector<Pending> pending;  // decided events not yet released (sorted)
    int held[16][128] = {};        // overlapping notes per channel/key
};

}  // namespace vocalmidi
