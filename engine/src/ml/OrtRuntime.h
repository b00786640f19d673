// The process-wide ONNX Runtime environment and the session settings every model uses.
// Thread: any non-audio thread (creates sessions, which allocates).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

class OrtRuntime {
public:
    // The shared environment; telemetry is switched off before it is first created.
    static Ort::Env& env();
    // Opens a session for one model: CPU, one intra-op thread, no spinning (a spinning pool
    // would burn a core between hops); CUDA only when ONNX Runtime offers it, a GPU exists
    // and VOCALMIDI_DEVICE is not "cpu".
    static std::unique_ptr<Ort::Session> openSession(const std::string& path);
    static std::vector<std::string> availableProviders();
    static std::string versionString();
    static bool gpuPresent();
    // False when the environment asks for the CPU (VOCALMIDI_DEVICE=cpu).
    static bool cudaAllowed();
};

}  // namespace vocalmidi
