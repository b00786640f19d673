#include "notes/NoteTracker.h"

#include <algorithm>
#include <cmath>

#include "notes/ScaleSnapper.h"

namespace vocalmidi {

namespace {
float hzToMidi(float hz) { return 69.0f + 12.0f * std::log2(hz / 440.0f); }
}  // namespace

void NoteTracker::configure(double framesPerSecond) {
    fps = framesPerSecond;
    // ~30 ms of drop-out bridged: consonants and breath noise inside a word.
    offRun = std::max(2, static_cast<int>(std::lround(0.030 * fps)));
    reset();
}

void NoteTracker::reset() {
    candCount = 0;
    active = false;
    framesHeld = 0;
    unvoicedRun = 0;
    bridgedGap = false;
    recentCount = 0;
    changeRun = 0;
    peakDb = -140.0f;
    dipping = false;
    lastBend = 0;
    lastSmoothed = 0.0f;
}

NoteTracker::Thresholds NoteTracker::thresholds(float sensitivity) {
    const float s = std::clamp(sensitivity, 0.0f, 1.0f);
    Thresholds t{};
    t.confOn = 0.70f - 0.30f * s;
    t.confOff = t.confOn - 0.15f;
    t.levelOn = -40.0f - 25.0f * s;
    t.levelOff = t.levelOn - 8.0f;
    t.dipDb = 9.0f - 4.0f * s;
    t.riseDb = 6.0f - 2.0f * s;
    return t;
}

int NoteTracker::confirmFrames(const Params& p) const {
    const int n = static_cast<int>(std::lround(std::max(0.0f, p.minNoteMs) * 1e-3 * fps));
    return std::clamp(n, 1, kMaxConfirm);
}

int NoteTracker::velocityFor(float loudnessDb, const Params& p) {
    if (p.velocityMode == VelocityMode::Fixed) return std::clamp(p.fixedVelocity, 1, 127);
    // -50 dBFS .. -6 dBFS spans the velocity range; the curve bends it.
    const float x = std::clamp((loudnessDb + 50.0f) / 44.0f, 0.0f, 1.0f);
    const float curve = std::clamp(p.velocityCurve, 0.25f, 4.0f);
    return std::clamp(1 + static_cast<int>(std::lround(126.0f * std::pow(x, curve))), 1, 127);
}

float NoteTracker::median(const float* v, int n) const {
    float tmp[kMaxConfirm];
    std::copy(v, v + n, tmp);
    std::nth_element(tmp, tmp + n / 2, tmp + n);
    float m = tmp[n / 2];
    if ((n & 1) == 0) {
        const float lo = *std::max_element(tmp, tmp + n / 2);
        m = 0.5f * (m + lo);
    }
    return m;
}

int16_t NoteTracker::bendValue(float midi, const Params& p) const {
    const float range = std::clamp(p.bendRangeSemitones, 0.1f, 96.0f);
    const float v = (midi - static_cast<float>(note)) / range * 8192.0f;
    return static_cast<int16_t>(std::clamp(static_cast<int>(std::lround(v)), -8192, 8191));
}

int NoteTracker::emitOn(int n, float midi, int velocity, const Params& p, NoteEvent* out) {
    int k = 0;
    note = n;
    noteCenter = midi;
    noteChannel = static_cast<uint8_t>(std::clamp(p.midiChannel, 1, 16));
    noteBendMode = p.bendMode;
    if (p.bendMode != BendMode::Off) {
        // Bend goes out before the note so the note starts in tune.
        lastBend = bendValue(midi, p);
        NoteEvent b;
        b.type = EventType::PitchBend;
        b.channel = noteChannel;
        b.bend = lastBend;
        out[k++] = b;
    }
    NoteEvent e;
    e.type = EventType::NoteOn;
    e.channel = noteChannel;
    e.note = static_cast<uint8_t>(n);
    e.velocity = static_cast<uint8_t>(velocity);
    out[k++] = e;
    active = true;
    framesHeld = 0;
    changeRun = 0;
    dipping = false;
    bridgedGap = false;
    return k;
}

int NoteTracker::emitOff(NoteEvent* out) {
    int k = 0;
    NoteEvent e;
    e.type = EventType::NoteOff;
    e.channel = noteChannel;
    e.note = static_cast<uint8_t>(note);
    out[k++] = e;
    if (noteBendMode != BendMode::Off && lastBend != 0) {
        NoteEvent b;
        b.type = EventType::PitchBend;
        b.channel = noteChannel;
        b.bend = 0;
        out[k++] = b;
    }
    lastBend = 0;
    active = false;
    candCount = 0;
    return k;
}

int NoteTracker::forceOff(NoteEvent* out) {
    if (!active) {
        candCount = 0;
        return 0;
    }
    const int k = emitOff(out);
    reset();
    return k;
}

int NoteTracker::processFrame(const TrackerFrame& fr, const Params& p, NoteEvent* out) {
    const Thresholds t = thresholds(p.sensitivity);
    const int confirm = confirmFrames(p);
    const bool pitched = fr.f0Hz > 20.0f && std::isfinite(fr.f0Hz);
    const float midi = pitched ? hzToMidi(fr.f0Hz) : 0.0f;
    int k = 0;

    if (!active) {
        const bool on = pitched && fr.confidence >= t.confOn && fr.loudnessDb >= t.levelOn;
        if (!on) {
            candCount = 0;
            return 0;
        }
        if (candCount == confirm) {
            std::copy(candMidi + 1, candMidi + confirm, candMidi);
            std::copy(candLoud + 1, candLoud + confirm, candLoud);
            --candCount;
        }
        candMidi[candCount] = midi;
        candLoud[candCount] = fr.loudnessDb;
        ++candCount;
        if (candCount < std::min(confirm, kMaxConfirm)) return 0;
        // Stable enough: the window spans at most 0.8 semitone. A scoop still moving keeps
        // sliding the window until the pitch settles (the note starts on its target, later);
        // vibrato of ±50 cents passes within a window or two.
        const float lo = *std::min_element(candMidi, candMidi + candCount);
        const float hi = *std::max_element(candMidi, candMidi + candCount);
        if (hi - lo > 0.8f) return 0;
        const float m = median(candMidi, candCount);
        const int n = ScaleSnapper::snap(m, p.scale, p.keyRoot);
        if (n < std::max(0, p.noteMin) || n > std::min(127, p.noteMax)) return 0;
        const float loud = *std::max_element(candLoud, candLoud + candCount);
        k += emitOn(n, m, velocityFor(loud, p), p, out + k);
        // Seed the smoothing window with the confirmed frames.
        recentCount = 0;
        for (int i = std::max(0, candCount - 5); i < candCount; ++i) recent[recentCount++] = candMidi[i];
        peakDb = loud;
        lastSmoothed = m;
        return k;
    }

    // Active note.
    const bool voiced = pitched && fr.confidence >= t.confOff && fr.loudnessDb >= t.levelOff;
    if (!voiced) {
        ++unvoicedRun;
        if (unvoicedRun >= offRun) {
            k += emitOff(out + k);
            reset();
        }
        return k;
    }
    if (unvoicedRun > 0) bridgedGap = true;
    unvoicedRun = 0;
    ++framesHeld;

    if (recentCount == 5) {
        std::copy(recent + 1, recent + 5, recent);
        --recentCount;
    }
    recent[recentCount++] = midi;
    const float sm = median(recent, recentCount);
    lastSmoothed = sm;

    // Pitch change (legato): the smoothed pitch must leave the pitch sung at the onset (not
    // the snapped note: a sung pitch between two scale notes must not flip between them) by
    // more than 0.75 semitone for the confirm time.
    if (std::abs(sm - noteCenter) > 0.75f) {
        changeMidi[std::min(changeRun, kMaxConfirm - 1)] = sm;
        ++changeRun;
        if (changeRun >= confirm) {
            const float m = median(changeMidi, std::min(changeRun, kMaxConfirm));
            const int n = ScaleSnapper::snap(m, p.scale, p.keyRoot);
            if (n != note) {
                k += emitOff(out + k);
                if (n >= std::max(0, p.noteMin) && n <= std::min(127, p.noteMax)) {
                    k += emitOn(n, m, velocityFor(fr.loudnessDb, p), p, out + k);
                    peakDb = fr.loudnessDb;
                    recentCount = 0;
                    recent[recentCount++] = m;
                } else {
                    reset();
                }
                return k;
            }
            // Moved but still the same scale note: follow the singer.
            noteCenter = m;
            changeRun = 0;
        }
    } else {
        changeRun = 0;
    }

    // Re-attack on the same pitch: a dip in loudness then a rise, or a bridged drop-out
    // (a consonant between two syllables) followed by voice again.
    bool reattack = false;
    if (bridgedGap) {
        bridgedGap = false;
        if (framesHeld >= confirm) reattack = true;
    }
    if (!dipping && fr.loudnessDb < peakDb - t.dipDb) {
        dipping = true;
        dipMin = fr.loudnessDb;
    } else if (dipping) {
        dipMin = std::min(dipMin, fr.loudnessDb);
        if (fr.loudnessDb > dipMin + t.riseDb && framesHeld >= confirm) reattack = true;
    }
    // The peak decays slowly (~3 dB per 100 ms) so a long, fading note is not one dip.
    peakDb = std::max(peakDb - static_cast<float>(30.0 / fps), fr.loudnessDb);
    // A dip at a legato pitch change is the change, not a new syllable on this note.
    if (reattack && (std::abs(midi - noteCenter) > 0.75f || changeRun > 0)) {
        reattack = false;
        dipping = false;
    }
    if (reattack) {
        const int n = note;
        k += emitOff(out + k);
        k += emitOn(n, sm, velocityFor(fr.loudnessDb, p), p, out + k);
        peakDb = fr.loudnessDb;
        return k;
    }

    if (noteBendMode == BendMode::Continuous && p.bendMode == BendMode::Continuous) {
        const int16_t b = bendValue(sm, p);
        if (std::abs(b - lastBend) >= 16) {
            lastBend = b;
            NoteEvent e;
            e.type = EventType::PitchBend;
            e.channel = noteChannel;
            e.bend = b;
            out[k++] = e;
        }
    }
    return k;
}

}  // namespace vocalmidi
