// Opens, validates and warms up a model file for an adapter kind.
// Thread: any non-audio thread (allocates, calls ONNX Runtime).
#pragma once

#include <memory>
#include <string>

#include "ml/PitchModel.h"

namespace vocalmidi {

class ModelFactory {
public:
    // Returns nullptr and a one-line `error` (what is wrong, how to fix it) on failure.
    static std::unique_ptr<PitchModel> load(ModelKind kind, const std::string& path, std::string& error);
};

}  // namespace vocalmidi
