// Engine parameters by the snake_case names of the engine's C API (vocalmidi_c.h), so the
// live client accepts the same names as `vocalmidi.engine`.
// Thread: any (pure functions on a Params value).
#pragma once

#include <string>

#include "vocalmidi/Types.h"

namespace vocalmidi::live {

// Sets one field; false (with a one-line reason in err) for an unknown name or a value
// out of range.
bool setParamByName(Params& params, const std::string& name, double value, std::string& err);

}  // namespace vocalmidi::live
