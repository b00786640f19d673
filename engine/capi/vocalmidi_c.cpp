// C API of the engine (see vocalmidi_c.h): a thin shell over vocalmidi::Engine that turns
// exceptions and bad arguments into negative return codes plus vm_engine_last_error().
#include "vocalmidi/vocalmidi_c.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>
#include <onnxruntime_cxx_api.h>

#include "vocalmidi/Engine.h"

static_assert(sizeof(vm_event) == sizeof(vocalmidi::NoteEvent), "vm_event must mirror NoteEvent");
static_assert(offsetof(vm_event, sample_offset) == offsetof(vocalmidi::NoteEvent, sampleOffset),
              "vm_event must mirror NoteEvent");

struct vm_engine {
    vocalmidi::Engine engine;
    std::string lastError;
    std::string version;
};

namespace {

int fail(vm_engine* e, const std::string& msg) {
    if (e) e->lastError = msg;
    return -1;
}

int copyOut(const std::string& s, char* buf, int len) {
    if (buf && len > 0) {
        const size_t n = std::min(s.size(), static_cast<size_t>(len - 1));
        std::memcpy(buf, s.data(), n);
        buf[n] = '\0';
    }
    return static_cast<int>(s.size()) + 1;
}

bool setField(vocalmidi::Params& p, const std::string& name, double v, std::string& err) {
    using namespace vocalmidi;
    auto inRange = [&](double lo, double hi) {
        if (std::isnan(v) || v < lo || v > hi) {
            err = name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                  ", got " + std::to_string(v);
            return false;
        }
        return true;
    };
    if (name == "input_gain_db") { if (!inRange(-24, 24)) return false; p.inputGainDb = float(v); }
    else if (name == "sensitivity") { if (!inRange(0, 1)) return false; p.sensitivity = float(v); }
    else if (name == "min_note_ms") { if (!inRange(0, 1000)) return false; p.minNoteMs = float(v); }
    else if (name == "bend_mode") { if (!inRange(0, 2)) return false; p.bendMode = BendMode(int(v)); }
    else if (name == "bend_range_semitones") { if (!inRange(0.1, 96)) return false; p.bendRangeSemitones = float(v); }
    else if (name == "key_root") { if (!inRange(0, 11)) return false; p.keyRoot = int(v); }
    else if (name == "scale") { if (!inRange(0, 11)) return false; p.scale = Scale(int(v)); }
    else if (name == "velocity_mode") { if (!inRange(0, 1)) return false; p.velocityMode = VelocityMode(int(v)); }
    else if (name == "velocity_curve") { if (!inRange(0.25, 4)) return false; p.velocityCurve = float(v); }
    else if (name == "fixed_velocity") { if (!inRange(1, 127)) return false; p.fixedVelocity = int(v); }
    else if (name == "midi_channel") { if (!inRange(1, 16)) return false; p.midiChannel = int(v); }
    else if (name == "note_min") { if (!inRange(0, 127)) return false; p.noteMin = int(v); }
    else if (name == "note_max") { if (!inRange(0, 127)) return false; p.noteMax = int(v); }
    else if (name == "latency_mode") { if (!inRange(0, 2)) return false; p.latencyMode = LatencyMode(int(v)); }
    else if (name == "early_correction") { if (!inRange(0, 1)) return false; p.earlyCorrection = EarlyCorrection(int(v)); }
    else if (name == "aligned_timing") { if (!inRange(0, 1)) return false; p.alignedTiming = v >= 0.5; }
    else {
        err = "unknown parameter: " + name;
        return false;
    }
    return true;
}

bool getField(const vocalmidi::Params& p, const std::string& name, double& v) {
    if (name == "input_gain_db") v = p.inputGainDb;
    else if (name == "sensitivity") v = p.sensitivity;
    else if (name == "min_note_ms") v = p.minNoteMs;
    else if (name == "bend_mode") v = int(p.bendMode);
    else if (name == "bend_range_semitones") v = p.bendRangeSemitones;
    else if (name == "key_root") v = p.keyRoot;
    else if (name == "scale") v = int(p.scale);
    else if (name == "velocity_mode") v = int(p.velocityMode);
    else if (name == "velocity_curve") v = p.velocityCurve;
    else if (name == "fixed_velocity") v = p.fixedVelocity;
    else if (name == "midi_channel") v = p.midiChannel;
    else if (name == "note_min") v = p.noteMin;
    else if (name == "note_max") v = p.noteMax;
    else if (name == "latency_mode") v = int(p.latencyMode);
    else if (name == "early_correction") v = int(p.earlyCorrection);
    else if (name == "aligned_timing") v = p.alignedTiming ? 1 : 0;
    else return false;
    return true;
}

}  // namespace

extern "C" {

const char* vm_version(void) { return "0.1.0"; }

int vm_onnxruntime_info_json(char* buf, int buf_len) {
    try {
        nlohmann::json j;
        j["version"] = Ort::GetVersionString();
        j["providers"] = Ort::GetAvailableProviders();
        return copyOut(j.dump(), buf, buf_len);
    } catch (const std::exception&) {
        return -1;
    }
}

vm_engine* vm_engine_create(void) {
    try {
        return new vm_engine();
    } catch (...) {
        return nullptr;
    }
}

void vm_engine_destroy(vm_engine* e) { delete e; }

const char* vm_engine_last_error(vm_engine* e) { return e ? e->lastError.c_str() : "no engine"; }

int vm_engine_load_model(vm_engine* e, const char* kind, const char* onnx_path) {
    if (!e) return -1;
    if (!kind || !onnx_path) return fail(e, "model kind and path are required");
    vocalmidi::ModelKind k;
    if (!vocalmidi::modelKindFromId(kind, k))
        return fail(e, std::string("unknown model kind '") + kind +
                           "': use swiftf0, crepe-tiny, pesto, basic-pitch or vocalnote");
    try {
        if (!e->engine.loadModel(k, onnx_path)) return fail(e, e->engine.modelStatus().message);
    } catch (const std::exception& ex) {
        return fail(e, std::string("loading the model failed: ") + ex.what());
    }
    return 0;
}

int vm_engine_prepare(vm_engine* e, double sample_rate, int max_block, int realtime) {
    if (!e) return -1;
    if (!(sample_rate >= 8000 && sample_rate <= 768000))
        return fail(e, "sample rate must be between 8000 and 768000 Hz, got " + std::to_string(sample_rate));
    if (max_block < 1) return fail(e, "max block size must be at least 1");
    try {
        e->engine.prepare(sample_rate, max_block, realtime != 0);
    } catch (const std::exception& ex) {
        return fail(e, std::string("prepare failed: ") + ex.what());
    }
    return 0;
}

void vm_engine_release(vm_engine* e) {
    if (e) e->engine.release();
}

void vm_engine_reset(vm_engine* e) {
    if (e) e->engine.reset();
}

int vm_engine_set_param(vm_engine* e, const char* name, double value) {
    if (!e) return -1;
    if (!name) return fail(e, "parameter name is required");
    vocalmidi::Params p = e->engine.params();
    std::string err;
    if (!setField(p, name, value, err)) return fail(e, err);
    e->engine.setParams(p);
    return 0;
}

int vm_engine_get_param(vm_engine* e, const char* name, double* value) {
    if (!e) return -1;
    if (!name || !value) return fail(e, "parameter name and output are required");
    if (!getField(e->engine.params(), name, *value)) return fail(e, std::string("unknown parameter: ") + name);
    return 0;
}

int vm_engine_process(vm_engine* e, const float* in, int num_samples, vm_event* out, int max_out) {
    if (!e) return -1;
    if (num_samples < 0 || (num_samples > 0 && !in)) return fail(e, "invalid input buffer");
    if (max_out < 0 || (max_out > 0 && !out)) return fail(e, "invalid event buffer");
    try {
        return e->engine.process(in, num_samples, reinterpret_cast<vocalmidi::NoteEvent*>(out), max_out);
    } catch (const std::exception& ex) {
        return fail(e, std::string("process failed: ") + ex.what());
    }
}

int vm_engine_flush(vm_engine* e, vm_event* out, int max_out) {
    if (!e) return -1;
    if (max_out < 0 || (max_out > 0 && !out)) return fail(e, "invalid event buffer");
    try {
        return e->engine.flush(reinterpret_cast<vocalmidi::NoteEvent*>(out), max_out);
    } catch (const std::exception& ex) {
        return fail(e, std::string("flush failed: ") + ex.what());
    }
}

int vm_engine_latency_samples(vm_engine* e) { return e ? e->engine.latencySamples() : -1; }

int vm_engine_stats_json(vm_engine* e, char* buf, int buf_len) {
    if (!e) return -1;
    try {
        return copyOut(e->engine.statsJson(), buf, buf_len);
    } catch (const std::exception& ex) {
        return fail(e, std::string("stats failed: ") + ex.what());
    }
}

int vm_engine_profile_report_json(vm_engine* e, char* buf, int buf_len) {
    if (!e) return -1;
    try {
        return copyOut(e->engine.profileReportJson(), buf, buf_len);
    } catch (const std::exception& ex) {
        return fail(e, std::string("profile report failed: ") + ex.what());
    }
}

}  // extern "C"
