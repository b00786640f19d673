// A virtual MIDI source, "VocalMIDI", that carries the notes the plugin emits to any program
// or track that records MIDI, for hosts that do not route a plugin's MIDI out (Logic; the
// Standalone everywhere). Linux: a JACK MIDI client (libjack opened at run time, so a system
// without JACK loads the plugin all the same); elsewhere this build has no backend yet and
// says so in status().
//
// The audio thread hands its MIDI to send() (no locks, no allocation, no system calls): the
// events go into a lock-free ring with their sample positions turned into JACK frame times,
// and JACK's own process thread writes them to the port at those frames, so the sample-
// accurate offsets between events survive. Several instances get unique client names
// (JACK appends -01, -02, ...).
//
// Thread: setEnabled(), status(), clientName() on the message thread; send() on the audio
// thread; the JACK callback on JACK's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <juce_audio_processors/juce_audio_processors.h>

#include "rt/SpscRing.h"

namespace vocalmidi::plugin {

namespace ids {
inline constexpr const char* virtualMidiOut = "virtualMidiOut";
}

// Adds the "Virtual MIDI Out" switch (off by default; `defaultOn` for the Standalone) to a
// layout. Kept out of ParameterLayout so the effect and instrument share it unchanged.
juce::AudioProcessorValueTreeState::ParameterLayout withVirtualMidiOut(
    juce::AudioProcessorValueTreeState::ParameterLayout layout, bool defaultOn);

class VirtualMidiOut {
public:
    VirtualMidiOut();
    ~VirtualMidiOut();

    // Opens (or closes) the port. `sampleRate` and `maxBlock` are the plugin's; the port is
    // reopened when they change. Never blocks the audio thread: send() is told to stop first.
    void setEnabled(bool on, double sampleRate, int maxBlock);

    // VM_REALTIME. `midi` is one processed block whose first sample is `blockStart` samples
    // after prepare.
    void send(const juce::MidiBuffer& midi, int64_t blockStart) noexcept;

    bool isOpen() const noexcept { return open.load(std::memory_order_acquire); }
    // "VocalMIDI:midi_out" (as JACK named it) when open; else why not ("" when off).
    juce::String status() const { return statusText; }

    struct Timed {
        uint32_t frame = 0;  // JACK frame time at which it leaves
        uint8_t size = 0;
        uint8_t bytes[3] = {};
    };

private:
    struct Jack;
    void close();
    static int processCallback(uint32_t frames, void* jack);

    std::unique_ptr<Jack> jack;
    SpscRing<Timed> ring;
    std::atomic<bool> open{false};
    std::atomic<int> inSend{0};
    double pluginRate = 0.0;
    int pluginBlock = 0;
    double ratio = 1.0;       // JACK frames per plugin sample
    int64_t margin = 0;       // frames between a block being processed and its events leaving
    int64_t anchor = 0;       // JACK frame of plugin sample 0 (audio thread only)
    bool anchored = false;    // audio thread only
    juce::uint32 lastAttemptMs = 0;
    juce::String statusText;
};

}  // namespace vocalmidi::plugin
