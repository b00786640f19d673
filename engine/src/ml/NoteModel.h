// Adapter for our streaming note model (docs/note-model.md, pycontrol/vocalmidi/train/
// contract.py): 16 kHz, hop 80 (5 ms), one hop of lookahead. Each call takes the next n
// hops of audio plus the state (ctx_in [1, 944] = the previous 944 samples, h_in [L, 1, H]
// = the recurrent state) and returns n frames (onset, sounding, note, note_conf, pitch)
// plus the next state. Output j of a call whose audio starts at absolute sample S is label
// frame S/80 + j - 1. The engine calls it with one hop, or with a whole backlog in one call
// (same results).
//
// Two graph contracts: note-model/1 takes the audio and the context (the front end is in
// the graph); note-features/1 takes the front end's features [1, n, F] and h_in only and
// returns the raw head [1, n, 54] and h_out: this adapter computes the features
// (dsp/NoteFrontEnd), keeps the context, and turns the head into the five outputs
// (contract.py, "The raw head"). Same outputs to float rounding, at about 60 % of the cost
// per hop (docs/note-model.md, "Cost").
//
// It is a PitchModel so that loading, hand-over and freeing follow the same path as the
// pitch models, but it decides notes itself: the pipeline runs it through step() and the
// NoteDecoder, never through analyse().
// Thread: construction/validation/warmUp on a loader thread; step()/resetState() on the ML
// thread only. All tensors' data buffers are allocated at construction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsp/NoteFrontEnd.h"
#include "ml/PitchModel.h"
#include "notes/NoteDecoderConfig.h"

namespace Ort {
struct Session;
struct MemoryInfo;
}  // namespace Ort

namespace vocalmidi {

// One 5 ms frame of the note model's outputs.
struct NoteFrame {
    float onset = 0.0f;     // P(a note starts in the frame)
    float sounding = 0.0f;  // P(a note sounds in the frame)
    float note = 0.0f;      // most likely written MIDI note (integer-valued)
    float noteConf = 0.0f;  // that note's probability
    float pitch = 0.0f;     // performed fine pitch, MIDI semitones
};

class NoteModel : public PitchModel {
public:
    static constexpr int kRate = 16000;
    static constexpr int kHop = 80;
    static constexpr int kLookaheadHops = 1;
    static constexpr int kContext = 944;  // WINDOW 1024 - HOP
    // Largest backlog analysed in one call (1.28 s): a pipeline that fell further behind
    // runs several such calls back to back.
    static constexpr int kMaxHops = 256;
    // A stream starts from the state after this many hops of silence from zero, computed
    // in warmUp (pycontrol/vocalmidi/train/export.py REST_HOPS says why).
    static constexpr int kRestHops = 40;
    // The raw head of a note-features/1 graph: onset and sounding logits, 51 note-class
    // logits (MIDI kNoteMin..86), the pitch offset in semitones.
    static constexpr int kHeadSize = 54;
    static constexpr int kNoteMin = 36;

    // The graph's shape, as validate() found it.
    struct Layout {
        int layers = 0;
        int hidden = 0;
        bool featuresIn = false;  // note-features/1: the adapter runs the front end
        // A note-features/1 graph whose frames axis is fixed at 1 (its GRU written out as
        // MatMuls, which int8 quantisation can reach): a backlog runs one call per hop.
        // Set by validate() for featuresIn graphs only.
        bool oneFrame = false;
        FrontEndConfig frontEnd;  // its blocks (featuresIn only)
    };

    NoteModel(std::unique_ptr<Ort::Session> session, const Layout& layout);
    ~NoteModel() override;

    // Checks the graph against its contract (tensor names, shapes, metadata); on success
    // fills `layout` and returns "", else says what does not fit.
    static std::string validate(Ort::Session& session, Layout& layout);

    ModelKind kind() const override { return ModelKind::VocalNote; }
    bool decidesNotes() const override { return true; }
    int sampleRate() const override { return kRate; }
    int hop() const override { return kHop; }
    // From the middle of frame k (where its onset is stamped, 80k + 40) to the end of the
    // audio its output needs, 80(k + 2): 120 samples (7.5 ms), whatever the mode (the
    // decision budget of Fast/Accurate is added by MlPipeline::noteModelLatencySamples).
    int lookaheadSamples(LatencyMode) const override { return kHop * (1 + kLookaheadHops) - kHop / 2; }
    int leftContextSamples() const override { return 0; }  // the state carries it
    bool batchInvariant(LatencyMode) const override { return true; }
    int maxBatchFrames() const override { return kMaxHops; }
    // Not a pitch model: always fails (the pipeline uses step()).
    bool analyse(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t first,
                 int count, LatencyMode mode, FrameResult* out, std::string& error) override;
    bool warmUp(std::string& error) override;

    // Runs the next `hops` hops (1..kMaxHops) of `audio`; writes `hops` frames to `out` and
    // keeps the new state. On failure the state is left as it was and `error` says why.
    bool step(const float* audio, int hops, NoteFrame* out, std::string& error);
    // Back to the stream start: silence before it (the rest state of warmUp, zero before).
    void resetState();
    // The decoder thresholds tuned with this model (its `vocalmidi.decoder` metadata), else
    // decode.py's defaults.
    const NoteDecoderConfig& decoderConfig() const { return decoder; }
    // ...for a latency mode: Accurate's own set (`vocalmidi.decoder.accurate`, tuned for its
    // 40 ms budget, in which a corrected guess is never sent: NoteHoldQueue) when the model
    // has one, else decoderConfig().
    const NoteDecoderConfig& decoderConfig(LatencyMode mode) const {
        return mode == LatencyMode::Accurate && hasAccurate ? accurate : decoder;
    }
    int layers() const { return numLayers; }
    int hiddenSize() const { return hidden; }
    bool featuresIn() const { return frontEnd != nullptr; }
    bool oneFrameGraph() const { return oneFrame; }

private:
    // Copies the last call's `hops` frames from the output buffers (a non-finite frame
    // becomes silence).
    bool readFrames(int hops, NoteFrame* out) const;
    // note-features/1: the context then `hops` hops of audio into `work`, their features
    // into `feats`, and the new context into ctx[1 - cur].
    void computeFeatures(const float* audio, int hops);
    // A one-frame graph's backlog: one call per hop over `feats`; the new state ends on the
    // side computeFeatures wrote the context to, as after one call.
    bool stepHopByHop(int hops, NoteFrame* out, std::string& error);
    std::unique_ptr<Ort::Session> session;
    std::unique_ptr<Ort::MemoryInfo> mem;
    NoteDecoderConfig decoder;
    NoteDecoderConfig accurate;
    bool hasAccurate = false;
    int numLayers;
    int hidden;
    // State, double-buffered: the call reads [cur] and writes [1 - cur].
    std::vector<float> ctx[2];
    std::vector<float> h[2];
    std::vector<float> restH;  // the recurrent state a stream starts from (warmUp)
    int cur = 0;
    // Outputs: onset, sounding, note, note_conf, pitch, each [1, kMaxHops].
    std::vector<float> outs[5];
    // note-features/1: the raw head [1, kMaxHops, kHeadSize] readFrames() turns into outs.
    std::vector<float> head;
    // The one-hop call (the ML thread's usual one) with its tensors made once, for each
    // side of the state: after a 5 ms pause every per-call allocation and object runs on
    // cold caches (docs/note-model.md, "Cost").
    struct OneHop;
    std::unique_ptr<OneHop> oneHop;
    std::vector<float> hopAudio;
    // note-features/1 only (else empty): the front end, its input (context + a backlog)
    // and its output [kMaxHops, F]. A one-frame graph runs a backlog hop by hop
    // (Layout::oneFrame); hBefore keeps the state a failed backlog call restores.
    bool oneFrame = false;
    std::vector<float> hBefore;
    std::unique_ptr<NoteFrontEnd> frontEnd;
    std::vector<float> work;
    std::vector<float> feats;
};

}  // namespace vocalmidi
