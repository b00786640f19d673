// C API of the live client (see vocalmidi_live.h): a thin shell over LiveClient that turns
// exceptions and bad arguments into negative return codes plus vml_last_error().
#include "vocalmidi/vocalmidi_live.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#include "LiveClient.h"

struct vml_client {
    vocalmidi::live::LiveClient live;
    std::string error;  // for argument errors caught here
};

namespace {

thread_local std::string createError;

// The reason is already in the client (LiveClient::lastError).
int fail(vml_client*) { return -1; }

const char* errorOf(const vml_client* c) {
    if (!c) return createError.c_str();
    return c->error.empty() ? c->live.lastError().c_str() : c->error.c_str();
}

}  // namespace

extern "C" {

const char* vml_last_error(const vml_client* c) { return errorOf(c); }

vml_client* vml_create(const char* client_name, const char* server_name) {
    createError.clear();
    try {
        auto* c = new vml_client();
        if (!c->live.open(client_name && *client_name ? client_name : "vocalmidi", server_name)) {
            createError = c->live.lastError();
            delete c;
            return nullptr;
        }
        return c;
    } catch (const std::exception& ex) {
        createError = ex.what();
        return nullptr;
    }
}

void vml_destroy(vml_client* c) { delete c; }

int vml_load_model(vml_client* c, const char* kind, const char* onnx_path) {
    if (!c) return -1;
    c->error.clear();
    if (!kind || !onnx_path) {
        c->error = "model kind and path are required";
        return -1;
    }
    return c->live.loadModel(kind, onnx_path) ? 0 : fail(c);
}

int vml_set_param(vml_client* c, const char* name, double value) {
    if (!c) return -1;
    c->error.clear();
    if (!name) {
        c->error = "parameter name is required";
        return -1;
    }
    return c->live.setParam(name, value) ? 0 : fail(c);
}

int vml_start(vml_client* c) {
    if (!c) return -1;
    c->error.clear();
    return c->live.start() ? 0 : fail(c);
}

int vml_stop(vml_client* c) { return c ? c->live.stop() : -1; }

const char* vml_input_port(const vml_client* c) { return c ? c->live.inputPortName().c_str() : ""; }
const char* vml_output_port(const vml_client* c) { return c ? c->live.outputPortName().c_str() : ""; }

int vml_connect(vml_client* c, const char* source, const char* destination) {
    if (!c) return -1;
    c->error.clear();
    if (!source || !destination) {
        c->error = "source and destination port names are required";
        return -1;
    }
    return c->live.connect(source, destination) ? 0 : fail(c);
}

int vml_sample_rate(const vml_client* c) { return c ? c->live.sampleRate() : -1; }
int vml_buffer_size(const vml_client* c) { return c ? c->live.bufferSize() : -1; }
int vml_latency_samples(const vml_client* c) { return c ? c->live.latencySamples() : -1; }
int64_t vml_frame_time(const vml_client* c) { return c ? c->live.frameTime() : -1; }

int vml_poll(vml_client* c, vml_event* out, int max_out) {
    if (!c || max_out < 0 || (max_out > 0 && !out)) return -1;
    return static_cast<int>(c->live.poll(out, static_cast<size_t>(max_out)));
}

int vml_stats_json(vml_client* c, char* buf, int buf_len) {
    if (!c) return -1;
    try {
        const std::string s = c->live.statsJson();
        if (buf && buf_len > 0) {
            const size_t n = std::min(s.size(), static_cast<size_t>(buf_len - 1));
            std::memcpy(buf, s.data(), n);
            buf[n] = '\0';
        }
        return static_cast<int>(s.size()) + 1;
    } catch (const std::exception& ex) {
        c->error = std::string("stats failed: ") + ex.what();
        return -1;
    }
}

}  // extern "C"
