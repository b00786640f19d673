#include "ParamNames.h"

#include <cmath>
#include <functional>
#include <map>

namespace vocalmidi::live {

namespace {

struct Field {
    double lo;
    double hi;
    std::function<void(Params&, double)> set;
};

// Names and ranges mirror the engine's C API; kept in one table so a new parameter is
// one line here.
const std::map<std::string, Field>& fields() {
    static const std::map<std::string, Field> table = {
        {"input_gain_db", {-24, 24, [](Params& p, double v) { p.inputGainDb = float(v); }}},
        {"sensitivity", {0, 1, [](Params& p, double v) { p.sensitivity = float(v); }}},
        {"min_note_ms", {0, 1000, [](Params& p, double v) { p.minNoteMs = float(v); }}},
        {"bend_mode", {0, 2, [](Params& p, double v) { p.bendMode = BendMode(int(v)); }}},
        {"bend_range_semitones", {0.1, 96, [](Params& p, double v) { p.bendRangeSemitones = float(v); }}},
        {"key_root", {0, 11, [](Params& p, double v) { p.keyRoot = int(v); }}},
        {"scale", {0, 11, [](Params& p, double v) { p.scale = Scale(int(v)); }}},
        {"velocity_mode", {0, 1, [](Params& p, double v) { p.velocityMode = VelocityMode(int(v)); }}},
        {"velocity_curve", {0.25, 4, [](Params& p, double v) { p.velocityCurve = float(v); }}},
        {"fixed_velocity", {1, 127, [](Params& p, double v) { p.fixedVelocity = int(v); }}},
        {"midi_channel", {1, 16, [](Params& p, double v) { p.midiChannel = int(v); }}},
        {"note_min", {0, 127, [](Params& p, double v) { p.noteMin = int(v); }}},
        {"note_max", {0, 127, [](Params& p, double v) { p.noteMax = int(v); }}},
        {"latency_mode", {0, 1, [](Params& p, double v) { p.latencyMode = LatencyMode(int(v)); }}},
    };
    return table;
}

}  // namespace

bool setParamByName(Params& params, const std::string& name, double value, std::string& err) {
    const auto it = fields().find(name);
    if (it == fields().end()) {
        err = "unknown parameter: " + name;
        return false;
    }
    const Field& f = it->second;
    if (std::isnan(value) || value < f.lo || value > f.hi) {
        err = name + " must be between " + std::to_string(f.lo) + " and " + std::to_string(f.hi) +
              ", got " + std::to_string(value);
        return false;
    }
    f.set(params, value);
    return true;
}

}  // namespace vocalmidi::live
