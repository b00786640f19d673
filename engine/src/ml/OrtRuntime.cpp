#include "ml/OrtRuntime.h"

#include "ml/HugePageAllocator.h"

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

HugePageAllocator* OrtRuntime::cpuAllocator() {
    // Registered once with the environment and never freed: sessions hold its blocks until
    // they close, and the environment outlives them all.
    static HugePageAllocator* allocator = []() -> HugePageAllocator* {
        // VOCALMIDI_HUGE_PAGES=0 leaves every session on ONNX Runtime's own allocator.
        const char* use = std::getenv("VOCALMIDI_HUGE_PAGES");
        if (use != nullptr && std::strcmp(use, "0") == 0)
            return nullptr;
        auto* a = new HugePageAllocator();
        if (OrtStatus* refused = Ort::GetApi().RegisterAllocator(env(), a)) {
            Ort::GetApi().ReleaseStatus(refused);
            delete a;  // ONNX Runtime's own allocator serves every session
            return nullptr;
        }
        return a;
    }();
    return allocator;
}

std::string OrtRuntime::hugePagesState() {
    const HugePageAllocator* a = cpuAllocator();
    if (a == nullptr) {
        const char* use = std::getenv("VOCALMIDI_HUGE_PAGES");
        return use != nullptr && std::strcmp(use, "0") == 0 ? "off (VOCALMIDI_HUGE_PAGES=0)"
                                                             : "off (ONNX Runtime refused the allocator)";
    }
    if (!a->hugePagesAsked())
        return "off (the kernel refused MADV_HUGEPAGE)";
    const std::string mode = HugePageAllocator::kernelMode();
    if (mode != "madvise" && mode != "always")
        return "off (the kernel's transparent huge pages: " + (mode.empty() ? std::string("unknown") : mode) + ")";
    return "on";
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

// Whether every input of the session has a fixed shape: then each call allocates the same
// few tensors, and the huge-page pool stays the size of the weights plus one call's tensors.
// Variable shapes (a file's length, a batch of frames) would leave blocks of every size in
// the pool, which keeps what it carves until the process ends; and such graphs run back
// to back, where the caches are warm and huge pages gain little.
bool fixedShapes(const Ort::Session& session) {
    for (size_t i = 0; i < session.GetInputCount(); ++i)
        for (int64_t d : session.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape())
            if (d < 0)
                return false;
    return true;
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
    auto session = std::make_unique<Ort::Session>(e, path.c_str(), sessionOptions());
    // A fixed-shape graph (the one-frame note model, called once a hop) is opened again with
    // its memory on huge pages (ml/HugePageAllocator.h); the first open read its shapes.
    if (cpuAllocator() != nullptr && fixedShapes(*session)) {
        Ort::SessionOptions opts = sessionOptions();
        opts.AddConfigEntry("session.use_env_allocators", "1");
        session = std::make_unique<Ort::Session>(e, path.c_str(), opts);
    }
    return session;
}

}  // namespace vocalmidi
