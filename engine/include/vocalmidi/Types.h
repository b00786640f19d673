// Plain types shared by the engine, the plugin, the C API and the tests.
// Thread: any (these are values).
#pragma once

#include <cstdint>

// Marks a function the audio thread may call: it never locks, allocates, logs, or calls
// ONNX Runtime, and its cost is bounded by the block size.
#define VM_REALTIME

namespace vocalmidi {

enum class EventType : uint8_t { NoteOn = 0, NoteOff = 1, PitchBend = 2 };

// One MIDI event for the block passed to Engine::process, placed at sampleOffset.
struct NoteEvent {
    EventType type = EventType::NoteOn;
    uint8_t channel = 1;   // 1..16
    uint8_t note = 0;      // 0..127 (NoteOn/NoteOff)
    uint8_t velocity = 0;  // 1..127 for NoteOn
    int16_t bend = 0;      // -8192..8191 (PitchBend), 0 = centre
    int32_t sampleOffset = 0;  // 0..numSamples-1 within the current block
};

enum class BendMode : uint8_t { Off = 0, Single = 1, Continuous = 2 };

enum class Scale : uint8_t {
    Chromatic = 0, Major, Minor, Dorian, Phrygian, Lydian, Mixolydian, Locrian,
    HarmonicMinor, MajorPentatonic, MinorPentatonic, Blues
};

enum class VelocityMode : uint8_t { Fixed = 0, Loudness = 1 };

// Fast/Accurate: the pitch models' tracker decides within a budget that the reported latency
// covers. Instant: the reported latency is the model's lookahead only (our note model,
// ~8 ms); with a pitch model Instant behaves as Fast.
enum class LatencyMode : uint8_t { Fast = 0, Accurate = 1, Instant = 2 };

// What the note model's decoder does when a note's pitch settles on another note within
// its first tens of ms (a scoop): end it and start the right note, or bend to it.
enum class EarlyCorrection : uint8_t { Retrigger = 0, Bend = 1 };

// Models the engine can run; each has an adapter in src/ml/. VocalNote is our own note
// model (docs/note-model.md): it says per 5 ms frame whether a note starts/sounds and which.
enum class ModelKind : uint8_t { SwiftF0 = 0, CrepeTiny = 1, Pesto = 2, BasicPitch = 3, VocalNote = 4 };

// Where a model's ONNX session runs. Auto: ONNX Runtime's CUDA provider where the library
// offers it and an NVIDIA GPU is there, else the CPU. Cuda: the same, but running on the
// CPU is a fallback that ModelStatus reports. Cpu: the CPU. VOCALMIDI_DEVICE=cpu in the
// environment keeps every session on the CPU whatever is asked (the Python side's switch).
enum class Device : uint8_t { Auto = 0, Cpu = 1, Cuda = 2 };

// Every user-facing setting of the tracker. Set from any thread with Engine::setParams.
struct Params {
    float inputGainDb = 0.0f;        // -24..+24 dB, applied before analysis only
    float sensitivity = 0.5f;        // 0..1: higher = lower confidence/level thresholds
    float minNoteMs = 32.0f;         // notes shorter than this are not emitted (adds to latency)
    BendMode bendMode = BendMode::Off;
    float bendRangeSemitones = 2.0f; // must match the receiving synth's range
    int keyRoot = 0;                 // 0 = C .. 11 = B
    Scale scale = Scale::Chromatic;
    VelocityMode velocityMode = VelocityMode::Loudness;
    float velocityCurve = 1.0f;      // exponent applied to normalised loudness (0.25..4)
    int fixedVelocity = 100;         // 1..127 when velocityMode == Fixed
    int midiChannel = 1;             // 1..16
    int noteMin = 36;                // lowest MIDI note emitted (C2; low male voices)
    int noteMax = 96;                // highest MIDI note emitted
    // Instant by default: the default model is our note model (vocalnote-s), whose note-ons
    // leave as soon as decided; Fast and Accurate give it a decision budget of 15 / 40 ms
    // (MlPipeline::noteModelBudgetMs: recordings line up better, the reported latency grows).
    // A pitch model runs Instant as Fast.
    LatencyMode latencyMode = LatencyMode::Instant;
    // Note model only. Retrigger by default: with vocalnote-s stage 4 and its decoder, the
    // live MIDI stream's note F1@50 on the dev split (training voices, reference decoder)
    // was 0.504 retrigger vs 0.385 bend (a bend leaves the first, wrong note number in the
    // recording). Until stage 2, bend had measured better (benchmarks/test_note_model_bench.py).
    EarlyCorrection earlyCorrection = EarlyCorrection::Retrigger;
    // MIDI timing. Off ("Immediate"): a note event goes out in the first block after it is
    // decided, so a host that compensates the reported latency records it up to one block
    // (plus the ML thread's polling) late: at 1024-sample blocks that cost the recorded stream
    // a third of its note F1@50. On ("Aligned"): every event is held a fixed
    // MlPipeline::alignSamples() (the largest block plus 5 ms) past its decision and the
    // reported latency grows by as much, so the compensated recording is sample-exact, the
    // same as an offline render, at any block size; the notes sound that much later live.
    bool alignedTiming = false;
};

}  // namespace vocalmidi
