// The real-time voice-to-MIDI engine: audio blocks in, MIDI note events out.
//
// Threads:
//   audio   - process(), reset() (both VM_REALTIME)
//   message - constructor/destructor, prepare(), release(), loadModel()
//             (loadModel may also run on any background thread; it swaps atomically)
//   any     - setParams(), params(), latencySamples(), modelStatus(), currentPitch(),
//             inputLevel(), statsJson(), profileReportJson() (they allocate: never from audio)
//   ml      - internal: the engine's own lower-priority worker thread
#pragma once

#include <memory>
#include <string>

#include "vocalmidi/Types.h"

namespace vocalmidi {

enum class ModelState : uint8_t { None = 0, Loading = 1, Ready = 2, Failed = 3 };

struct ModelStatus {
    ModelState state = ModelState::None;
    ModelKind kind = ModelKind::SwiftF0;
    std::string message;  // human-readable: what is wrong and how to fix it, when Failed
    Device device = Device::Cpu;  // where the running model's session runs (Cpu or Cuda)
    std::string deviceNote;       // why the CPU although CUDA was asked for; else empty
};

class Engine {
public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Loads and warms up an ONNX model off the audio thread, then swaps it in; its session
    // runs on `device` where it can (the status says where, and why not).
    // On failure the previous model (or none) stays and the status says why.
    bool loadModel(ModelKind kind, const std::string& onnxPath, Device device = Device::Auto);
    ModelStatus modelStatus() const;

    // realtime=false: offline (host bounce, batch): process() waits for the ML thread so
    // output is identical for any block size.
    void prepare(double sampleRate, int maxBlockSize, bool realtime);
    void release();

    VM_REALTIME void reset();
    // Mono input; fills up to maxEvents events for this block, returns how many.
    // Blocks larger than announced in prepare() are split internally.
    VM_REALTIME int process(const float* input, int numSamples, NoteEvent* events, int maxEvents);
    // Offline only: emit what is still held back by the model's lookahead at end of stream.
    int flush(NoteEvent* events, int maxEvents);

    void setParams(const Params& p);
    Params params() const;

    int latencySamples() const;   // algorithmic latency at the prepared rate, for the host
    float currentPitchHz() const; // 0 when unvoiced (for editors)
    float inputLevelDb() const;
    std::string statsJson() const;
    // statsJson() as a report: each figure beside its target (profile/ProfileReport).
    std::string profileReportJson() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl;
};

const char* modelKindId(ModelKind kind);               // "swiftf0", "crepe-tiny", ...
const char* deviceId(Device device);                   // "auto", "cpu", "cuda"
bool modelKindFromId(const std::string& id, ModelKind& out);

}  // namespace vocalmidi
