#include "notes/NoteDecoder.h"

#include <algorithm>
#include <cmath>

#include "notes/ScaleSnapper.h"

namespace vocalmidi {

namespace {
// Python's round(): halves go to the even neighbour (the default FP rounding mode).
int pyRound(double x) { return static_cast<int>(std::nearbyint(x)); }
}  // namespace

void NoteDecoder::reset() { *this = NoteDecoder{}; }

double NoteDecoder::levelDb(const float* hop, int n) {
    double ms = 0.0;
    for (int i = 0; i < n; ++i) ms += static_cast<double>(hop[i]) * hop[i];
    // decode.py divides by a full hop (a partial last hop is zero padded).
    ms /= NoteModel::kHop;
    return std::max(10.0 * std::log10(ms + 1e-12), -100.0);
}

int NoteDecoder::velocityFor(double level, double floorDb) {
    const double v = 1.0 + 126.0 * (level - floorDb) / (0.0 - floorDb);
    return std::clamp(pyRound(v), 1, 127);
}

int NoteDecoder::step(const NoteDecoderConfig& cfg, double onset, double sounding, double note, double noteConf,
                      double level, DecodedEvent* out) {
    int k = 0;
    frame += 1;
    const int64_t f = frame;
    const int noteI = pyRound(note);
    const bool rising = armed && onset >= cfg.onsetOn;
    if (rising)
        armed = false;
    else if (onset < cfg.onsetOff)
        armed = true;
    loud = sounding >= cfg.soundingOn ? loud + 1 : 0;
    auto on = [&](int n, int64_t onsetFrame, bool corrects) {
        held = true;
        heldNote = n;
        heldOnset = onsetFrame;
        heldBent = 0.0f;
        heldCorrected = false;
        pending = -1;
        started = -1;
        reattack = -1;
        quiet = 0;
        candidate = -1;
        candidateRun = 0;
        DecodedEvent e;
        e.kind = DecodedEvent::Kind::On;
        e.frame = onsetFrame;
        e.decided = f;
        e.note = n;
        e.velocity = velocityFor(level, cfg.velocityFloorDb);
        e.corrects = corrects;
        out[k++] = e;
    };
    auto off = [&](int64_t at) {
        DecodedEvent e;
        e.kind = DecodedEvent::Kind::Off;
        e.frame = at;
        e.decided = f;
        e.note = heldNote;
        out[k++] = e;
        held = false;
        reattack = -1;
    };

    if (!held) {
        if (rising) pending = f;
        if (pending >= 0 && started < 0 && sounding >= cfg.soundingOn) started = f;
        if (started < 0 && pending >= 0 && f - pending > cfg.onsetWaitFrames) pending = -1;
        if (started >= 0) {  // the sound may end before its pitch is sure: no note
            quiet = sounding < cfg.soundingOff ? quiet + 1 : 0;
            if (quiet >= cfg.offFrames) {
                pending = -1;
                started = -1;
                quiet = 0;
            }
        }
        if (started >= 0 && (noteConf >= cfg.startConf || f - started >= cfg.startWaitFrames))
            on(noteI, pending, false);
        else if (started < 0 && loud >= cfg.soundingStartFrames)  // no onset waits for its pitch
            on(noteI, f - loud + 1, false);
        return k;
    }

    // A note is held.
    if (sounding < cfg.soundingOff) {
        quiet += 1;
        if (quiet >= cfg.offFrames) {
            off(f - quiet + 1);
            quiet = 0;
        }
        return k;
    }
    quiet = 0;
    const int64_t age = f - heldOnset;
    const int sounds = pyRound(heldNote + static_cast<double>(heldBent));  // the held note's pitch
    if (rising && age >= cfg.reattackFrames) reattack = f;
    if (reattack >= 0) {
        const int64_t edge = reattack;
        const bool changed = noteI != sounds && noteConf >= cfg.changeConf;
        if (changed || f - edge >= cfg.reattackWaitFrames) {
            off(edge);
            on(noteI, edge, false);
            return k;
        }
    }
    if (noteI == sounds) {
        candidate = -1;
        candidateRun = 0;
        return k;
    }
    candidateRun = noteI == candidate ? candidateRun + 1 : 1;
    candidate = noteI;
    if (cfg.correction != NoteDecoderConfig::Correction::None && !heldCorrected && age < cfg.correctionFrames &&
        candidateRun >= cfg.correctionPersist && noteConf >= cfg.correctionConf) {
        if (cfg.correction == NoteDecoderConfig::Correction::Retrigger) {
            const int64_t onsetFrame = heldOnset;
            off(f);
            on(noteI, onsetFrame, true);
            heldCorrected = true;
        } else {
            heldBent = static_cast<float>(noteI - heldNote);
            heldCorrected = true;
            candidate = -1;
            candidateRun = 0;
            DecodedEvent e;
            e.kind = DecodedEvent::Kind::Bend;
            e.frame = f;
            e.decided = f;
            e.note = heldNote;
            e.bend = heldBent;
            e.corrects = true;
            out[k++] = e;
        }
        return k;
    }
    if (age >= cfg.correctionFrames && candidateRun >= cfg.changeFrames && noteConf >= cfg.changeConf) {
        const int64_t start = f - candidateRun + 1;
        off(start);
        on(noteI, start, false);
    }
    return k;
}

int NoteDecoder::finish(DecodedEvent* out) {
    if (!held) return 0;
    DecodedEvent e;
    e.kind = DecodedEvent::Kind::Off;
    e.frame = frame + 1;
    e.decided = frame;
    e.note = heldNote;
    out[0] = e;
    held = false;
    return 1;
}

// ---------------------------------------------------------------------------------------
// MIDI side.

int16_t NoteDecoder::bendValue(float semis, const Params& p) const {
    const float range = std::clamp(p.bendRangeSemitones, 0.1f, 96.0f);
    return static_cast<int16_t>(std::clamp(static_cast<int>(std::lround(semis / range * 8192.0f)), -8192, 8191));
}

int NoteDecoder::sendOn(int n, int velocity, float pitch, const Params& p, int64_t at, TrackedEvent* out) {
    int k = 0;
    if (n < std::max(0, p.noteMin) || n > std::min(127, p.noteMax)) {
        sentNote = -1;  // decided, but outside the user's range: nothing sounds
        return 0;
    }
    sentNote = n;
    sentChannel = static_cast<uint8_t>(std::clamp(p.midiChannel, 1, 16));
    sentBendMode = p.bendMode;
    if (p.bendMode != BendMode::Off) {
        // Bend goes out before the note so the note starts on the sung pitch.
        lastBend = bendValue(pitch > 0.0f ? pitch - static_cast<float>(n) : 0.0f, p);
        NoteEvent b;
        b.type = EventType::PitchBend;
        b.channel = sentChannel;
        b.bend = lastBend;
        out[k++] = {b, at};
    }
    NoteEvent e;
    e.type = EventType::NoteOn;
    e.channel = sentChannel;
    e.note = static_cast<uint8_t>(n);
    e.velocity = static_cast<uint8_t>(p.velocityMode == VelocityMode::Fixed ? std::clamp(p.fixedVelocity, 1, 127)
                                                                            : velocity);
    sentVelocity = e.velocity;
    out[k++] = {e, at};
    return k;
}

int NoteDecoder::sendOff(int64_t at, TrackedEvent* out) {
    if (sentNote < 0) return 0;
    int k = 0;
    NoteEvent e;
    e.type = EventType::NoteOff;
    e.channel = sentChannel;
    e.note = static_cast<uint8_t>(sentNote);
    out[k++] = {e, at};
    if (lastBend != 0) {
        NoteEvent b;
        b.type = EventType::PitchBend;
        b.channel = sentChannel;
        b.bend = 0;
        out[k++] = {b, at};
        lastBend = 0;
    }
    sentNote = -1;
    return k;
}

int NoteDecoder::render(const DecodedEvent* d, int n, const NoteFrame& fr, const Params& p, TrackedEvent* out) {
    const int hop = NoteModel::kHop;
    auto stamp = [&](int64_t f) { return f * hop + hop / 2; };  // the frame's middle
    int k = 0;
    // A retrigger's note-off goes out with the corrected note-on (stamped at the onset), not
    // a decision budget after the correction frame: the right note would wait behind it.
    const bool retrigger = n == 2 && d[0].kind == DecodedEvent::Kind::Off && d[1].kind == DecodedEvent::Kind::On &&
                           d[1].corrects;
    for (int i = 0; i < n; ++i) {
        const DecodedEvent& e = d[i];
        if (e.kind == DecodedEvent::Kind::Off) {
            k += sendOff(stamp(retrigger ? d[1].frame : e.frame), out + k);
        } else if (e.kind == DecodedEvent::Kind::On) {
            int velocity = e.velocity;
            if (p.velocityMode == VelocityMode::Loudness && std::abs(p.velocityCurve - 1.0f) > 1e-6f) {
                const double x = std::clamp((static_cast<double>(e.velocity) - 1.0) / 126.0, 0.0, 1.0);
                velocity = std::clamp(1 + pyRound(126.0 * std::pow(x, std::clamp(p.velocityCurve, 0.25f, 4.0f))), 1, 127);
            }
            const int group = k;
            k += sendOn(e.note, velocity, fr.pitch, p, stamp(e.frame), out + k);
            if (k > group) {
                onStart = group;
                onCorrects = e.corrects;
            }
        } else if (sentNote >= 0) {
            // Early correction by bend: to the corrected note, when the synth's bend range
            // reaches it; else the right note is started (as a retrigger would).
            const float semis = static_cast<float>(e.note) + e.bend - static_cast<float>(sentNote);
            if (std::abs(semis) <= std::clamp(p.bendRangeSemitones, 0.1f, 96.0f)) {
                lastBend = bendValue(semis, p);
                NoteEvent b;
                b.type = EventType::PitchBend;
                b.channel = sentChannel;
                b.bend = lastBend;
                out[k++] = {b, stamp(e.frame)};
            } else {
                const int velocity = sentVelocity;
                k += sendOff(stamp(e.frame), out + k);
                const int group = k;
                k += sendOn(pyRound(e.note + static_cast<double>(e.bend)), velocity, fr.pitch, p, stamp(e.frame),
                            out + k);
                if (k > group) onStart = group;  // not a retrigger decision: never cancels
            }
        }
    }
    return k;
}

int NoteDecoder::processFrame(const NoteFrame& fr, double level, const Params& p, const NoteDecoderConfig& base,
                              TrackedEvent* out) {
    const NoteDecoderConfig cfg = NoteDecoderConfig::fromParams(p, base);
    // The model names a chromatic note; a scale maps it to the nearest scale note first.
    double note = fr.note;
    if (p.scale != Scale::Chromatic) note = ScaleSnapper::snap(static_cast<float>(pyRound(note)), p.scale, p.keyRoot);
    DecodedEvent d[kMaxDecisions];
    onStart = -1;
    onCorrects = false;
    const int n = step(cfg, fr.onset, fr.sounding, note, fr.noteConf, level, d);
    int k = render(d, n, fr, p, out);
    lastPitch = fr.pitch;
    if (held && sentNote >= 0 && sentBendMode == BendMode::Continuous && p.bendMode == BendMode::Continuous &&
        fr.pitch > 0.0f) {
        // The model's fine pitch relative to the note that sounds (scoops, vibrato, drift).
        const int16_t b = bendValue(fr.pitch - static_cast<float>(sentNote), p);
        if (std::abs(b - lastBend) >= 16) {
            lastBend = b;
            NoteEvent e;
            e.type = EventType::PitchBend;
            e.channel = sentChannel;
            e.bend = b;
            out[k++] = {e, frame * NoteModel::kHop + NoteModel::kHop / 2};
        }
    }
    return k;
}

int NoteDecoder::forceOff(NoteEvent* out) {
    TrackedEvent te[2];
    const int n = sendOff(0, te);
    for (int i = 0; i < n; ++i) out[i] = te[i].event;
    // The decoder starts over: a held note after dropped audio would be stale.
    const int64_t f = frame;
    reset();
    frame = f;
    return n;
}

int NoteDecoder::finishStream(TrackedEvent* out) {
    DecodedEvent d[1];
    const int n = finish(d);
    return n ? sendOff((d[0].frame) * NoteModel::kHop, out) : 0;
}

}  // namespace vocalmidi
