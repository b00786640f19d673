#include "VirtualMidiOut.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <type_traits>

#if defined(__linux__) && __has_include(<jack/jack.h>) && __has_include(<jack/midiport.h>)
  #define VOCALMIDI_VIRTUAL_MIDI_JACK 1
  #include <dlfcn.h>
  #include <jack/jack.h>
  #include <jack/midiport.h>
#else
  #define VOCALMIDI_VIRTUAL_MIDI_JACK 0
#endif

namespace vocalmidi::plugin {

juce::AudioProcessorValueTreeState::ParameterLayout withVirtualMidiOut(
    juce::AudioProcessorValueTreeState::ParameterLayout layout, bool defaultOn) {
    layout.add(std::make_unique<juce::AudioParameterBool>(
        juce::ParameterID{ids::virtualMidiOut, 1}, "Virtual MIDI Out", defaultOn,
        juce::AudioParameterBoolAttributes().withAutomatable(false)));
    return layout;
}

namespace {
constexpr size_t kRingEvents = 4096;
constexpr juce::uint32 kRetryMs = 3000;
}

#if VOCALMIDI_VIRTUAL_MIDI_JACK

// libjack's entry points, looked up at run time: the plugin must load where JACK is not
// installed, and must not bind to a JACK that the host process loaded differently.
struct VirtualMidiOut::Jack {
    void* lib = nullptr;
    jack_client_t* client = nullptr;
    jack_port_t* port = nullptr;
    uint32_t period = 0;
    SpscRing<Timed>* ring = nullptr;

    decltype(&jack_client_open) clientOpen = nullptr;
    decltype(&jack_client_close) clientClose = nullptr;
    decltype(&jack_get_client_name) clientName = nullptr;
    decltype(&jack_port_register) portRegister = nullptr;
    decltype(&jack_port_name) portName = nullptr;
    decltype(&jack_set_process_callback) setProcess = nullptr;
    decltype(&jack_activate) activate = nullptr;
    decltype(&jack_get_sample_rate) sampleRate = nullptr;
    decltype(&jack_get_buffer_size) bufferSize = nullptr;
    decltype(&jack_frame_time) frameTime = nullptr;
    decltype(&jack_last_frame_time) lastFrameTime = nullptr;
    decltype(&jack_port_get_buffer) portBuffer = nullptr;
    decltype(&jack_midi_clear_buffer) midiClear = nullptr;
    decltype(&jack_midi_event_write) midiWrite = nullptr;

    bool load(juce::String& why) {
        lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) {
            why = "JACK is not installed (libjack.so.0)";
            return false;
        }
        bool ok = true;
        const auto get = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
            ok = ok && fn != nullptr;
        };
        get(clientOpen, "jack_client_open");
        get(clientClose, "jack_client_close");
        get(clientName, "jack_get_client_name");
        get(portRegister, "jack_port_register");
        get(portName, "jack_port_name");
        get(setProcess, "jack_set_process_callback");
        get(activate, "jack_activate");
        get(sampleRate, "jack_get_sample_rate");
        get(bufferSize, "jack_get_buffer_size");
        get(frameTime, "jack_frame_time");
        get(lastFrameTime, "jack_last_frame_time");
        get(portBuffer, "jack_port_get_buffer");
        get(midiClear, "jack_midi_clear_buffer");
        get(midiWrite, "jack_midi_event_write");
        if (!ok)
            why = "libjack.so.0 lacks the MIDI functions";
        return ok;
    }

    ~Jack() {
        if (client != nullptr)
            clientClose(client);  // waits for a running process callback
        if (lib != nullptr)
            dlclose(lib);
    }
};

VirtualMidiOut::VirtualMidiOut() = default;

VirtualMidiOut::~VirtualMidiOut() {
    close();
}

void VirtualMidiOut::close() {
    open.store(false, std::memory_order_seq_cst);
    while (inSend.load(std::memory_order_seq_cst) != 0)
        std::this_thread::yield();  // send() is short: a few hundred ns
    jack.reset();
}

void VirtualMidiOut::setEnabled(bool on, double sampleRate, int maxBlock) {
    const bool same = sampleRate == pluginRate && maxBlock == pluginBlock;
    if (!on && jack == nullptr) {
        statusText = {};  // off: no complaint left from an earlier failed open
        return;
    }
    if (on && jack != nullptr && same)
        return;
    // A failed open is retried every few seconds (a JACK server may start later), not at
    // every call: each try costs a connection attempt and libjack's complaints.
    const auto now = juce::Time::getMillisecondCounter();
    if (on && jack == nullptr && same && statusText.isNotEmpty() &&
        now - lastAttemptMs < kRetryMs)
        return;
    lastAttemptMs = now;
    close();
    pluginRate = sampleRate;
    pluginBlock = maxBlock;
    statusText = {};
    if (!on)
        return;
    if (!(sampleRate > 0.0) || maxBlock < 1) {
        statusText = "waiting for the audio to start";
        pluginRate = 0.0;  // retried once prepared
        return;
    }

    auto j = std::make_unique<Jack>();
    juce::String why;
    if (!j->load(why)) {
        statusText = why;
        return;
    }
    jack_status_t st{};
    // No server of our own: a virtual port belongs on the server the user runs.
    j->client = j->clientOpen("VocalMIDI", JackNoStartServer, &st);
    if (j->client == nullptr) {
        statusText = "no JACK server is running";
        return;
    }
    j->port = j->portRegister(j->client, "midi_out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    if (j->port == nullptr) {
        statusText = "JACK refused the MIDI port";
        return;
    }
    ring.allocate(kRingEvents);
    j->period = j->bufferSize(j->client);
    j->ring = &ring;
    ratio = double(j->sampleRate(j->client)) / sampleRate;
    // Events of a block leave one JACK cycle plus one plugin block after the block was
    // processed: late enough that JACK has not passed their frames yet, whichever thread
    // runs first.
    margin = int64_t(j->period) + int64_t(std::ceil(maxBlock * ratio));
    anchored = false;
    // The callback gets the Jack, which outlives it (its destructor closes the client).
    j->setProcess(j->client, &VirtualMidiOut::processCallback, j.get());
    if (j->activate(j->client) != 0) {
        statusText = "JACK did not activate the client";
        return;
    }
    statusText = juce::String(j->portName(j->port));
    jack = std::move(j);
    open.store(true, std::memory_order_seq_cst);
}

void VirtualMidiOut::send(const juce::MidiBuffer& midi, int64_t blockStart) noexcept {
    inSend.store(1, std::memory_order_seq_cst);
    if (!open.load(std::memory_order_seq_cst)) {
        inSend.store(0, std::memory_order_release);
        return;
    }
    // Plugin samples map to JACK frames through one anchor, so offsets between events stay
    // exact; it moves only when the two clocks drift apart by more than the margin (another
    // audio device, a reset of the plugin's sample count).
    const int64_t now = int64_t(jack->frameTime(jack->client));
    const int64_t due = anchor + std::llround(double(blockStart) * ratio);
    const int64_t drift = int64_t(int32_t(uint32_t(due) - uint32_t(now + margin)));
    if (!anchored || drift < -margin || drift > margin) {
        anchor = now + margin - std::llround(double(blockStart) * ratio);
        anchored = true;
    }
    for (const auto meta : midi) {
        if (meta.numBytes < 1 || meta.numBytes > 3)
            continue;  // notes and bends only: what the plugin emits
        Timed t;
        t.frame = uint32_t(anchor + std::llround(double(blockStart + meta.samplePosition) * ratio));
        t.size = uint8_t(meta.numBytes);
        for (int i = 0; i < meta.numBytes; ++i)
            t.bytes[i] = meta.data[i];
        ring.push(t);  // full: dropped (4096 events pending means nobody is reading)
    }
    inSend.store(0, std::memory_order_release);
}

int VirtualMidiOut::processCallback(uint32_t frames, void* arg) {
    Jack& j = *static_cast<Jack*>(arg);
    void* buffer = j.portBuffer(j.port, frames);
    j.midiClear(buffer);
    const uint32_t cycleStart = j.lastFrameTime(j.client);
    uint32_t lastOffset = 0;
    Timed t;
    while (j.ring->peek(t)) {
        const int32_t at = int32_t(t.frame - cycleStart);
        if (at >= int32_t(frames))
            break;  // a later cycle's
        // Late ones leave now; JACK needs the offsets in order.
        lastOffset = std::max(lastOffset, uint32_t(std::max(0, at)));
        j.midiWrite(buffer, lastOffset, t.bytes, t.size);
        j.ring->skip(1);
    }
    return 0;
}

#else  // no JACK in this build

struct VirtualMidiOut::Jack {};

VirtualMidiOut::VirtualMidiOut() = default;
VirtualMidiOut::~VirtualMidiOut() = default;

void VirtualMidiOut::close() {}

void VirtualMidiOut::setEnabled(bool on, double, int) {
   #if JUCE_WINDOWS
    statusText = on ? "Windows has no virtual MIDI ports: install a loopback MIDI driver "
                      "and use the Standalone's MIDI output" : "";
   #else
    statusText = on ? "no virtual MIDI backend in this build" : "";
   #endif
}

void VirtualMidiOut::send(const juce::MidiBuffer&, int64_t) noexcept {}

int VirtualMidiOut::processCallback(uint32_t, void*) {
    return 0;
}

#endif

}  // namespace vocalmidi::plugin
