#include "LiveClient.h"

#include <jack/midiport.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "ParamNames.h"

namespace vocalmidi::live {

namespace {

constexpr int kMaxEventsPerBlock = 256;
constexpr size_t kQueueCapacity = 8192;

uint64_t nowNs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

}  // namespace

LiveClient::~LiveClient() {
    if (active) stop();
    if (client) jack_client_close(client);
}

bool LiveClient::fail(const std::string& message) {
    error = message;
    return false;
}

bool LiveClient::open(const std::string& clientName, const char* serverName) {
    jack_status_t status{};
    const int options = JackNoStartServer | (serverName && *serverName ? JackServerName : 0);
    client = jack_client_open(clientName.c_str(), static_cast<jack_options_t>(options), &status,
                              serverName);
    if (!client) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "cannot connect to a JACK server%s%s (status 0x%x): is jackd running?",
                      serverName ? " named " : "", serverName ? serverName : "", unsigned(status));
        return fail(buf);
    }
    inPort = jack_port_register(client, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    midiPort = jack_port_register(client, "midi_out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    if (!inPort || !midiPort) return fail("JACK refused to register our ports");
    inName = jack_port_name(inPort);
    outName = jack_port_name(midiPort);
    jack_set_process_callback(client, &LiveClient::processThunk, this);
    jack_set_xrun_callback(client, &LiveClient::xrunThunk, this);
    jack_set_latency_callback(client, &LiveClient::latencyThunk, this);
    return true;
}

bool LiveClient::loadModel(const std::string& kind, const std::string& onnxPath) {
    ModelKind k;
    if (!modelKindFromId(kind, k))
        return fail("unknown model kind '" + kind + "': use swiftf0, crepe-tiny, pesto or basic-pitch");
    try {
        if (!engine.loadModel(k, onnxPath)) return fail(engine.modelStatus().message);
    } catch (const std::exception& ex) {
        return fail(std::string("loading the model failed: ") + ex.what());
    }
    return true;
}

bool LiveClient::setParam(const std::string& name, double value) {
    Params p = engine.params();
    std::string err;
    if (!setParamByName(p, name, value, err)) return fail(err);
    engine.setParams(p);
    return true;
}

bool LiveClient::start() {
    if (!client) return fail("not connected to JACK");
    if (active) return true;
    if (engine.modelStatus().state != ModelState::Ready) return fail("no model loaded: load one before start");
    // Everything the callback touches is allocated here, before activation.
    blockEvents.assign(kMaxEventsPerBlock, NoteEvent{});
    queue.allocate(kQueueCapacity);
    for (auto& ch : held) ch.fill(0);
    try {
        engine.prepare(jack_get_sample_rate(client), static_cast<int>(jack_get_buffer_size(client)), true);
    } catch (const std::exception& ex) {
        return fail(std::string("engine prepare failed: ") + ex.what());
    }
    stopRequested.store(false, std::memory_order_relaxed);
    notesEnded.store(-1, std::memory_order_relaxed);
    running.store(true, std::memory_order_release);
    if (jack_activate(client) != 0) {
        running.store(false, std::memory_order_relaxed);
        return fail("JACK refused to activate the client");
    }
    active = true;
    jack_recompute_total_latencies(client);
    return true;
}

int LiveClient::stop() {
    if (!active) return 0;
    // The callback sends the note-offs (sample-accurately, on our port) and reports back;
    // a stalled server gets half a second.
    stopRequested.store(true, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (notesEnded.load(std::memory_order_acquire) < 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    jack_deactivate(client);
    running.store(false, std::memory_order_relaxed);
    active = false;
    engine.release();
    return std::max(0, notesEnded.load(std::memory_order_acquire));
}

bool LiveClient::connect(const std::string& source, const std::string& destination) {
    if (!client) return fail("not connected to JACK");
    const int rc = jack_connect(client, source.c_str(), destination.c_str());
    if (rc != 0 && rc != EEXIST)
        return fail("cannot connect JACK port " + source + " to " + destination + ": is the name right? (see jack_lsp)");
    return true;
}

int LiveClient::sampleRate() const { return client ? int(jack_get_sample_rate(client)) : 0; }
int LiveClient::bufferSize() const { return client ? int(jack_get_buffer_size(client)) : 0; }
int LiveClient::latencySamples() const { return engine.latencySamples() + bufferSize(); }
int64_t LiveClient::frameTime() const { return client ? int64_t(jack_frame_time(client)) : 0; }

int LiveClient::processThunk(jack_nframes_t n, void* self) {
    return static_cast<LiveClient*>(self)->process(n);
}

int LiveClient::xrunThunk(void* self) {
    static_cast<LiveClient*>(self)->xruns.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void LiveClient::latencyThunk(jack_latency_callback_mode_t mode, void* self) {
    static_cast<LiveClient*>(self)->updateLatency(mode);
}

void LiveClient::updateLatency(jack_latency_callback_mode_t mode) {
    // Tell downstream clients how late our MIDI is relative to the audio that caused it.
    if (mode != JackCaptureLatency) return;
    jack_latency_range_t range;
    jack_port_get_latency_range(inPort, JackCaptureLatency, &range);
    const auto extra = static_cast<jack_nframes_t>(std::max(0, engine.latencySamples()));
    range.min += extra;
    range.max += extra;
    jack_port_set_latency_range(midiPort, JackCaptureLatency, &range);
}

void LiveClient::writeEvent(void* midiBuffer, const vml_event& ev, jack_nframes_t offset) {
    const uint8_t ch = static_cast<uint8_t>((ev.channel - 1) & 0x0f);
    uint8_t bytes[3];
    switch (ev.type) {
        case 0: bytes[0] = 0x90 | ch; bytes[1] = ev.note; bytes[2] = ev.velocity; break;
        case 1: bytes[0] = 0x80 | ch; bytes[1] = ev.note; bytes[2] = 0; break;
        default: {
            const int v = std::clamp(int(ev.bend) + 8192, 0, 16383);
            bytes[0] = 0xE0 | ch; bytes[1] = uint8_t(v & 0x7f); bytes[2] = uint8_t(v >> 7);
        }
    }
    if (jack_midi_event_write(midiBuffer, offset, bytes, 3) != 0)
        dropped.fetch_add(1, std::memory_order_relaxed);
    if (!queue.push(ev)) dropped.fetch_add(1, std::memory_order_relaxed);
    events.fetch_add(1, std::memory_order_relaxed);
}

void LiveClient::endHeldNotes(void* midiBuffer, jack_nframes_t nframes, jack_nframes_t base) {
    int ended = 0;
    for (int ch = 0; ch < 16; ++ch) {
        for (int note = 0; note < 128; ++note) {
            while (held[ch][note] > 0) {
                vml_event ev{1, uint8_t(ch + 1), uint8_t(note), 0, 0, 0, int64_t(base) + nframes - 1};
                writeEvent(midiBuffer, ev, nframes - 1);
                --held[ch][note];
                ++ended;
            }
        }
    }
    notesEnded.store(ended, std::memory_order_release);
}

int LiveClient::process(jack_nframes_t nframes) {
    const uint64_t t0 = nowNs();
    const float* in = static_cast<const float*>(jack_port_get_buffer(inPort, nframes));
    void* midi = jack_port_get_buffer(midiPort, nframes);
    jack_midi_clear_buffer(midi);
    const jack_nframes_t base = jack_last_frame_time(client);

    float peak = 0.0f;
    for (jack_nframes_t i = 0; i < nframes; ++i) peak = std::max(peak, std::fabs(in[i]));
    levelDb.store(peak > 1e-6f ? 20.0f * std::log10(peak) : -120.0f, std::memory_order_relaxed);

    if (running.load(std::memory_order_acquire) && notesEnded.load(std::memory_order_relaxed) < 0) {
        const int n = engine.process(in, int(nframes), blockEvents.data(), int(blockEvents.size()));
        for (int i = 0; i < n; ++i) {
            const NoteEvent& e = blockEvents[size_t(i)];
            const auto offset = static_cast<jack_nframes_t>(std::clamp<int32_t>(e.sampleOffset, 0, int32_t(nframes) - 1));
            vml_event ev{uint8_t(e.type), e.channel, e.note, e.velocity, e.bend, 0, int64_t(base) + offset};
            auto& count = held[(e.channel - 1) & 0x0f][e.note & 0x7f];
            if (e.type == EventType::NoteOn) {
                ++count;
            } else if (e.type == EventType::NoteOff) {
                if (count == 0) continue;  // never a note-off for a note we did not start
                --count;
            }
            writeEvent(midi, ev, offset);
        }
        if (stopRequested.load(std::memory_order_acquire)) endHeldNotes(midi, nframes, base);
    }

    const uint64_t dt = nowNs() - t0;
    callbackNsSum.fetch_add(dt, std::memory_order_relaxed);
    if (dt > callbackNsMax.load(std::memory_order_relaxed)) callbackNsMax.store(dt, std::memory_order_relaxed);
    cycles.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

std::string LiveClient::statsJson() const {
    const uint64_t n = cycles.load(std::memory_order_relaxed);
    const double meanUs = n ? callbackNsSum.load(std::memory_order_relaxed) / 1000.0 / double(n) : 0.0;
    char head[768];
    std::snprintf(head, sizeof head,
                  "{\"level_db\": %.2f, \"pitch_hz\": %.2f, \"cpu_load\": %.3f, "
                  "\"callback_us_mean\": %.2f, \"callback_us_max\": %.2f, \"xruns\": %llu, "
                  "\"cycles\": %llu, \"events\": %llu, \"dropped_events\": %llu, "
                  "\"latency_samples\": %d, \"sample_rate\": %d, \"buffer_size\": %d, \"engine\": ",
                  double(levelDb.load(std::memory_order_relaxed)), double(engine.currentPitchHz()),
                  client ? double(jack_cpu_load(client)) : 0.0, meanUs,
                  callbackNsMax.load(std::memory_order_relaxed) / 1000.0,
                  (unsigned long long)xruns.load(std::memory_order_relaxed), (unsigned long long)n,
                  (unsigned long long)events.load(std::memory_order_relaxed),
                  (unsigned long long)dropped.load(std::memory_order_relaxed), latencySamples(),
                  sampleRate(), bufferSize());
    std::string engineJson = engine.statsJson();
    if (engineJson.empty()) engineJson = "null";
    return std::string(head) + engineJson + "}";
}

}  // namespace vocalmidi::live
