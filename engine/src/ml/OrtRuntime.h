// The process-wide ONNX Runtime environment and the session settings every model uses.
// Thread: any non-audio thread (creates sessions, which allocates).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "vocalmidi/Types.h"

namespace vocalmidi {

// Where a session was opened, and why on the CPU when CUDA was asked for.
struct DeviceUse {
    Device device = Device::Cpu;  // Cpu or Cuda
    std::string note;             // set when Device::Cuda was asked for and the CPU is used
};

class OrtRuntime {
public:
    // The shared environment; telemetry is switched off before it is first created.
    static Ort::Env& env();
    // Opens a session for one model: one intra-op thread, no spinning (a spinning pool
    // would burn a core between hops); on ONNX Runtime's CUDA provider when `requested` is
    // not Cpu and cudaUnavailable() says nothing, else (or when that provider fails to
    // start) on the CPU. `used` says which. Throws Ort::Exception for a bad model file.
    static std::unique_ptr<Ort::Session> openSession(const std::string& path, Device requested,
                                                     DeviceUse& used);
    // Why a session cannot run on CUDA here, one line; empty when it can.
    static std::string cudaUnavailable();
    static std::vector<std::string> availableProviders();
    static std::string versionString();
    static bool gpuPresent();
    // False when the environment asks for the CPU (VOCALMIDI_DEVICE=cpu).
    static bool cudaAllowed();
};

}  // namespace vocalmidi
