#include "ml/OrtRuntime.h"

#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace vocalmidi {

Ort::Env& OrtRuntime::env() {
    static Ort::Env* instance = [] {
        // The PyPI build of ONNX Runtime writes telemetry unless told not to; it must be set
        // before the first environment exists.
#if defined(_WIN32)
        _putenv_s("ORT_DISABLE_TELEMETRY", "1");
#else
        setenv("ORT_DISABLE_TELEMETRY", "1", 1);
#endif
        auto* e = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "vocalmidi");
        e->DisableTelemetryEvents();
        return e;
    }();
    return *instance;
}

std::vector<std::string> OrtRuntime::availableProviders() {
    try {
        return Ort::GetAvailableProviders();
    } catch (const Ort::Exception&) {
        return {};
    }
}

std::string OrtRuntime::versionString() { return Ort::GetVersionString(); }

bool OrtRuntime::cudaAllowed() {
    // VOCALMIDI_DEVICE is the user's --device switch, resolved by the Python side (which
    // knows why and says so); "cpu" keeps every session on the CPU even where CUDA exists.
    const char* device = std::getenv("VOCALMIDI_DEVICE");
    return device == nullptr || std::strcmp(device, "cpu") != 0;
}

bool OrtRuntime::gpuPresent() {
#if defined(__linux__)
    struct stat st{};
    return stat("/dev/nvidiactl", &st) == 0 || stat("/dev/nvidia0", &st) == 0;
#else
    return false;
#endif
}

std::string OrtRuntime::cudaUnavailable() {
    if (!cudaAllowed())
        return "VOCALMIDI_DEVICE=cpu asks for the CPU";
    if (!gpuPresent())
        return "no NVIDIA GPU found";
    for (const auto& p : availableProviders())
        if (p == "CUDAExecutionProvider")
            return {};
    return "this ONNX Runtime has no CUDA provider (that needs the onnxruntime-gpu build)";
}

namespace {

Ort::SessionOptions sessionOptions() {
    Ort::SessionOptions opts;
    opts.SetIntraOpNumThreads(1);
    opts.SetInterOpNumThreads(1);
    opts.SetExecutionMode(ORT_SEQUENTIAL);
    opts.AddConfigEntry("session.intra_op.allow_spinning", "0");
    opts.AddConfigEntry("session.inter_op.allow_spinning", "0");
    opts.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    return opts;
}

}  // namespace

std::unique_ptr<Ort::Session> OrtRuntime::openSession(const std::string& path, Device requested,
                                                      DeviceUse& used) {
    Ort::Env& e = env();
    used = DeviceUse{};
    std::string why = requested == Device::Cpu ? std::string() : cudaUnavailable();
    if (requested != Device::Cpu && why.empty()) {
        try {
            Ort::SessionOptions opts = sessionOptions();
            OrtCUDAProviderOptions cudaOpts{};
            opts.AppendExecutionProvider_CUDA(cudaOpts);
            auto session = std::make_unique<Ort::Session>(e, path.c_str(), opts);
            used.device = Device::Cuda;
            return session;
        } catch (const Ort::Exception& ex) {
            // CUDA is an optimisation, never a requirement: the CPU session below runs
            // (and reports a bad model file in its own words).
            why = std::string("ONNX Runtime's CUDA provider did not start: ") + ex.what();
        }
    }
    if (requested == Device::Cuda)
        used.note = "CUDA unavailable (" + why + "), running on the CPU";
    Ort::SessionOptions opts = sessionOptions();
    return std::make_unique<Ort::Session>(e, path.c_str(), opts);
}

}  // namespace vocalmidi
