// Opens, validates and warms up a model file for an adapter kind.
// Thread: any non-audio thread (allocates, calls ONNX Runtime).
#pragma once

#include <memory>
#include <string>

#include "ml/OrtRuntime.h"
#include "ml/PitchModel.h"

namespace vocalmidi {

class ModelFactory {
public:
    // Returns nullptr and a one-line `error` (what is wrong, how to fix it) on failure.
    // `used` says where the session runs (OrtRuntime::openSession).
    static std::unique_ptr<PitchModel> load(ModelKind kind, const std::string& path, Device device,
                                            DeviceUse& used, std::string& error);
    // Device::Auto, for callers that need not know where it runs.
    static std::unique_ptr<PitchModel> load(ModelKind kind, const std::string& path, std::string& error) {
        DeviceUse used;
        return load(kind, path, Device::Auto, used, error);
    }
};

}  // namespace vocalmidi
