// A JACK client that runs the engine inside JACK's real-time process callback:
// audio port "in" -> Engine::process -> MIDI port "midi_out", plus an SPSC queue of the
// same events for a control thread.
//
// Threads:
//   control - open(), loadModel(), setParam(), start(), stop(), connect(), statsJson()
//   any     - poll() (one consumer thread), the simple getters
//   audio   - process() (JACK's thread, VM_REALTIME), xrun/latency callbacks
#pragma once

#include <jack/jack.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "EventQueue.h"
#include "vocalmidi/Engine.h"
#include "vocalmidi/vocalmidi_live.h"

namespace vocalmidi::live {

class LiveClient {
public:
    LiveClient() = default;
    ~LiveClient();
    LiveClient(const LiveClient&) = delete;
    LiveClient& operator=(const LiveClient&) = delete;

    bool open(const std::string& clientName, const char* serverName);
    bool loadModel(const std::string& kind, const std::string& onnxPath);
    bool setParam(const std::string& name, double value);
    bool start();
    int stop();
    bool connect(const std::string& source, const std::string& destination);

    size_t poll(vml_event* out, size_t maxOut) { return queue.pop(out, maxOut); }
    std::string statsJson() const;

    const std::string& inputPortName() const { return inName; }
    const std::string& outputPortName() const { return outName; }
    int sampleRate() const;
    int bufferSize() const;
    int latencySamples() const;
    int64_t frameTime() const;
    const std::string& lastError() const { return error; }

private:
    VM_REALTIME int process(jack_nframes_t nframes);
    VM_REALTIME void writeEvent(void* midiBuffer, const vml_event& ev, jack_nframes_t offset);
    VM_REALTIME void endHeldNotes(void* midiBuffer, jack_nframes_t nframes, jack_nframes_t base);
    void updateLatency(jack_latency_callback_mode_t mode);
    bool fail(const std::string& message);

    static int processThunk(jack_nframes_t n, void* self);
    static int xrunThunk(void* self);
    static void latencyThunk(jack_latency_callback_mode_t mode, void* self);

    jack_client_t* client = nullptr;
    jack_port_t* inPort = nullptr;
    jack_port_t* midiPort = nullptr;
    std::string inName, outName, error;
    Engine engine;
    Params params;
    bool active = false;

    // Audio-thread state, sized in start().
    std::vector<NoteEvent> blockEvents;
    std::array<std::array<uint8_t, 128>, 16> held{};  // sounding note-ons per channel/note
    EventQueue<vml_event> queue;

    std::atomic<bool> running{false};       // engine prepared and ready for process()
    std::atomic<bool> stopRequested{false};
    std::atomic<int> notesEnded{-1};        // set by the callback once stop's note-offs are out
    std::atomic<float> levelDb{-120.0f};
    std::atomic<uint64_t> cycles{0}, xruns{0}, events{0}, dropped{0};
    std::atomic<uint64_t> callbackNsSum{0}, callbackNsMax{0};
};

}  // namespace vocalmidi::live
