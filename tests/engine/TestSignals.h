// Synthetic sung-like test material with exact ground truth, and helpers that drive the
// engine and collect events with absolute stream positions.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "vocalmidi/Engine.h"

namespace vmtest {

struct SungNote {
    int midi;
    double start;  // seconds
    double end;
    double amp = 0.3;
};

// Harmonic tone (8 partials, 1/k roll-off) with ±vibratoCents at 5.5 Hz, 40 ms attack and
// 30 ms release per note, phase-continuous across legato notes, plus faint noise.
inline std::vector<float> sungSignal(double rate, const std::vector<SungNote>& notes, double total,
                                     double vibratoCents = 40.0, double noiseAmp = 1e-3) {
    const size_t n = static_cast<size_t>(total * rate);
    std::vector<float> out(n, 0.0f);
    uint32_t lcg = 12345;
    for (size_t i = 0; i < n; ++i) {
        lcg = lcg * 1664525u + 1013904223u;
        out[i] = static_cast<float>(noiseAmp * ((lcg >> 8) / 8388608.0 - 1.0));
    }
    for (const auto& note : notes) {
        double phase = 0.0;
        const size_t a = static_cast<size_t>(note.start * rate), b = std::min(n, static_cast<size_t>(note.end * rate));
        for (size_t i = a; i < b; ++i) {
            const double t = (i - a) / rate;
            const double cents = vibratoCents * std::sin(2 * M_PI * 5.5 * t);
            const double f0 = 440.0 * std::pow(2.0, (note.midi - 69 + cents / 100.0) / 12.0);
            phase += 2 * M_PI * f0 / rate;
            double env = std::min(1.0, t / 0.04) * std::min(1.0, ((b - i) / rate) / 0.03);
            double s = 0.0;
            for (int k = 1; k <= 8; ++k) s += std::sin(k * phase) / k;
            out[i] += static_cast<float>(note.amp * env * s * 0.6);
        }
    }
    return out;
}

struct AbsEvent {
    vocalmidi::NoteEvent event;
    int64_t pos;  // absolute host sample
    bool operator==(const AbsEvent& o) const {
        return pos == o.pos && event.type == o.event.type && event.note == o.event.note &&
               event.velocity == o.event.velocity && event.bend == o.event.bend &&
               event.channel == o.event.channel;
    }
};

// Feeds `signal` in blocks of `block` samples (offline or realtime) and flushes at the end.
inline std::vector<AbsEvent> runEngine(vocalmidi::Engine& engine, const std::vector<float>& signal,
                                       int block, bool flush = true) {
    std::vector<AbsEvent> out;
    std::vector<vocalmidi::NoteEvent> ev(4096);
    int64_t pos = 0;
    while (pos < static_cast<int64_t>(signal.size())) {
        const int n = static_cast<int>(std::min<int64_t>(block, static_cast<int64_t>(signal.size()) - pos));
        const int k = engine.process(signal.data() + pos, n, ev.data(), static_cast<int>(ev.size()));
        for (int i = 0; i < k; ++i) out.push_back({ev[static_cast<size_t>(i)], pos + ev[static_cast<size_t>(i)].sampleOffset});
        pos += n;
    }
    if (flush) {
        const int k = engine.flush(ev.data(), static_cast<int>(ev.size()));
        for (int i = 0; i < k; ++i) out.push_back({ev[static_cast<size_t>(i)], pos + ev[static_cast<size_t>(i)].sampleOffset});
    }
    return out;
}

struct Note {
    int midi;
    int64_t on, off;
    int velocity;
};

inline std::vector<Note> notesOf(const std::vector<AbsEvent>& events) {
    std::vector<Note> notes;
    std::vector<int> open(128, -1);
    for (const auto& e : events) {
        if (e.event.type == vocalmidi::EventType::NoteOn) {
            open[e.event.note] = static_cast<int>(notes.size());
            notes.push_back({e.event.note, e.pos, -1, e.event.velocity});
        } else if (e.event.type == vocalmidi::EventType::NoteOff && open[e.event.note] >= 0) {
            notes[static_cast<size_t>(open[e.event.note])].off = e.pos;
            open[e.event.note] = -1;
        }
    }
    return notes;
}

inline std::string describe(const std::vector<Note>& notes, double rate, int latency) {
    std::string s;
    for (const auto& n : notes)
        s += std::to_string(n.midi) + "@" + std::to_string((n.on - latency) / rate) + "-" +
             std::to_string((n.off - latency) / rate) + " v" + std::to_string(n.velocity) + "; ";
    return s;
}

}  // namespace vmtest
