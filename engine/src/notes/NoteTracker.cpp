#include "notes/NoteTracker.h"

#include <algorithm>
#include <cmath>

#include "notes/ScaleSnapper.h"

namespace vocalmidi {

namespace {
float hzToMidi(float hz) { return 69.0f + 12.0f * std::log2(hz / 440.0f); }

// Note timing, chosen on the tuning half of the rendered evaluation set (docs/evaluation.md).
// Rendered voices change pitch 30-150 ms after the note starts (slow attacks under the
// previous note's release, scoops), so onsets are searched *before* the evidence.
constexpr float kBackMs = 120.0f;          // attack search before the first voiced frame
constexpr float kFallbackMs = 16.0f;       // no attack found: onset this long before it
constexpr float kChangeBackMs = 120.0f;    // attack search before a legato change showed
constexpr float kChangeFallbackMs = 128.0f;  // no attack found: median change delay measured
constexpr float kChangeMinMs = 60.0f;      // attacks this close after a note-on are its own
// Pitch accuracy (tuned on the same half): a note is chosen only once the pitch has settled.
constexpr float kGlideSemis = 0.3f;        // newest three frames further apart: still gliding
constexpr float kReattackNearSemis = 0.4f;  // a re-attack repeats the note only this close to it
constexpr float kAttackRiseDb = 8.0f;      // a syllable's rise without a dip
constexpr float kJudgeMinMs = 100.0f;       // budget a re-attack needs to be judged at its deadline
constexpr float kSharpAttack = 1.33f;       // flux peak strength of a new syllable's attack (2x the median)
constexpr float kElsewhereMarginSemis = 0.4f;  // centre this much nearer another note: wrong note

// Per latency mode: the reported latency beyond lookahead + confirmation (room for the
// onset search), how long a legato change must hold (at least the confirmation), and the
// median length (frames) a change is judged on. Fast judges the raw pitch: on the tuning
// takes it found changes ~20 ms sooner and scored higher (clean and noisy) than a median
// of 3 or 5; vibrato stays one note because the note centre follows the sung pitch.
struct ModeTiming {
    float budgetExtraMs;
    float changeConfirmMs;
    int smoothFrames;
};
constexpr ModeTiming kFastTiming{32.0f, 0.0f, 1};
constexpr ModeTiming kAccurateTiming{160.0f, 64.0f, 3};
const ModeTiming& timingFor(const Params& p) {
    return p.latencyMode == LatencyMode::Accurate ? kAccurateTiming : kFastTiming;
}
}  // namespace

void NoteTracker::configure(double framesPerSecond, int hopSamples) {
    fps = framesPerSecond;
    hop = hopSamples;
    // ~30 ms of drop-out bridged: consonants and breath noise inside a word.
    offRun = std::max(2, static_cast<int>(std::lround(0.030 * fps)));
    reset();
}

void NoteTracker::reset() {
    clearNote();
    lastOnAt = -(int64_t{1} << 40);
    lastJudgedAttack = -(int64_t{1} << 40);
}

void NoteTracker::clearNote() {
    candCount = 0;
    active = false;
    framesHeld = 0;
    unvoicedRun = 0;
    bridgedGap = false;
    recentCount = 0;
    changeRun = 0;
    peakDb = -140.0f;
    loudCount = 0;
    dipping = false;
    reattackPending = false;
    lastBend = 0;
    lastSmoothed = 0.0f;
}

int64_t NoteTracker::onsetAt(const OnsetDetector& onsets, int64_t from, int64_t to, int64_t fallback) const {
    OnsetDetector::Peak peak;
    int64_t at = onsets.strongestIn(from, to, peak) ? peak.sample : fallback;
    return std::min(at, to);
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

int NoteTracker::confirmFramesFor(const Params& p, double fps) {
    const int n = static_cast<int>(std::lround(std::max(0.0f, p.minNoteMs) * 1e-3 * fps));
    return std::clamp(n, 1, kMaxConfirm);
}

int NoteTracker::budgetFrames(const Params& p, double fps) {
    return confirmFramesFor(p, fps) - 1 + static_cast<int>(std::lround(timingFor(p).budgetExtraMs * 1e-3 * fps));
}

bool NoteTracker::canWait(int64_t at, int64_t centre, const Params& p) const {
    return centre + hop <= at + static_cast<int64_t>(budgetFrames(p, fps)) * hop;
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

int NoteTracker::emitOn(int n, float midi, int velocity, const Params& p, int64_t at, TrackedEvent* out) {
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
        out[k++] = {b, at};
    }
    NoteEvent e;
    e.type = EventType::NoteOn;
    e.channel = noteChannel;
    e.note = static_cast<uint8_t>(n);
    e.velocity = static_cast<uint8_t>(velocity);
    out[k++] = {e, at};
    lastOnAt = at;
    active = true;
    framesHeld = 0;
    changeRun = 0;
    dipping = false;
    reattackPending = false;
    bridgedGap = false;
    return k;
}

int NoteTracker::emitOff(int64_t at, TrackedEvent* out) {
    int k = 0;
    NoteEvent e;
    e.type = EventType::NoteOff;
    e.channel = noteChannel;
    e.note = static_cast<uint8_t>(note);
    out[k++] = {e, at};
    if (noteBendMode != BendMode::Off && lastBend != 0) {
        NoteEvent b;
        b.type = EventType::PitchBend;
        b.channel = noteChannel;
        b.bend = 0;
        out[k++] = {b, at};
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
    TrackedEvent ev[kMaxEventsPerFrame];
    const int k = emitOff(0, ev);
    for (int i = 0; i < k; ++i) out[i] = ev[i].event;
    clearNote();
    return k;
}

int NoteTracker::processFrame(const TrackerFrame& fr, const Params& p, const OnsetDetector& onsets,
                              TrackedEvent* out) {
    const Thresholds t = thresholds(p.sensitivity);
    const int confirm = confirmFrames(p);
    const bool pitched = fr.f0Hz > 20.0f && std::isfinite(fr.f0Hz);
    const float midi = pitched ? hzToMidi(fr.f0Hz) : 0.0f;
    const auto ms = [&](float v) { return static_cast<int64_t>(std::lround(v * 1e-3 * fps * hop)); };
    int k = 0;

    if (!active) {
        const bool on = pitched && fr.confidence >= t.confOn && fr.loudnessDb >= t.levelOn;
        if (!on) {
            candCount = 0;
            return 0;
        }
        if (candCount == 0) runStart = fr.centre;
        const int window = std::max(confirm, 3);  // three frames show a glide
        if (candCount == window) {
            std::copy(candMidi + 1, candMidi + window, candMidi);
            std::copy(candLoud + 1, candLoud + window, candLoud);
            --candCount;
        }
        candMidi[candCount] = midi;
        candLoud[candCount] = fr.loudnessDb;
        ++candCount;
        if (candCount < confirm) return 0;
        // Stable enough: the window spans at most 0.8 semitone. A scoop still moving keeps
        // sliding the window until the pitch settles (the note starts on its target, later);
        // vibrato of ±50 cents passes within a window or two.
        const float lo = *std::min_element(candMidi, candMidi + candCount);
        const float hi = *std::max_element(candMidi, candMidi + candCount);
        if (hi - lo > 0.8f) return 0;
        // Still gliding (a scoop into the note): wait until the last three frames agree.
        const int back = std::min(candCount, 3);
        if (std::abs(candMidi[candCount - 1] - candMidi[candCount - back]) > kGlideSemis) return 0;
        const float m = median(candMidi, candCount);
        const int n = ScaleSnapper::snap(m, p.scale, p.keyRoot);
        if (n < std::max(0, p.noteMin) || n > std::min(127, p.noteMax)) return 0;
        const float loud = *std::max_element(candLoud, candLoud + candCount);
        // The voice was there before the model was sure: the onset is its attack.
        const int64_t from = std::max(runStart - ms(kBackMs), lastOnAt + ms(kChangeMinMs));
        const int64_t at = onsetAt(onsets, from, fr.centre, runStart - ms(kFallbackMs));
        k += emitOn(n, m, velocityFor(loud, p), p, at, out + k);
        // Seed the smoothing window with the confirmed frames.
        recentCount = 0;
        for (int i = std::max(0, candCount - kRecent); i < candCount; ++i) recent[recentCount++] = candMidi[i];
        peakDb = loud;
        lastSmoothed = m;
        return k;
    }

    // Active note.
    const bool voiced = pitched && fr.confidence >= t.confOff && fr.loudnessDb >= t.levelOff;
    if (!voiced) {
        reattackPending = false;  // the bridged drop-out re-attacks instead
        if (unvoicedRun == 0) unvoicedStart = fr.centre;
        ++unvoicedRun;
        if (unvoicedRun >= offRun) {
            k += emitOff(unvoicedStart, out + k);
            clearNote();
        }
        return k;
    }
    if (unvoicedRun > 0) bridgedGap = true;
    unvoicedRun = 0;
    ++framesHeld;

    if (recentCount == kRecent) {
        std::copy(recent + 1, recent + kRecent, recent);
        --recentCount;
    }
    recent[recentCount++] = midi;
    // Changes are judged on a short median (see ModeTiming); bends and the editor's pitch
    // line on a steadier one.
    const int smooth = std::min(recentCount, timingFor(p).smoothFrames);
    const float sm = median(recent + (recentCount - smooth), smooth);
    const float steady = median(recent, recentCount);
    lastSmoothed = steady;
    // The note's centre is the mean sung pitch so far, later a ~400 ms moving average: the
    // middle of a vibrato, not the vibrato peak the onset happened to be decided on.
    if (changeRun == 0) {
        const float slow = static_cast<float>(1.0 - std::exp(-1.0 / (0.4 * fps)));
        noteCenter += std::max(slow, 1.0f / static_cast<float>(framesHeld + 1)) * (midi - noteCenter);
    }

    // Pitch change (legato): the smoothed pitch must leave the pitch sung at the onset (not
    // the snapped note: a sung pitch between two scale notes must not flip between them) by
    // more than 0.75 semitone for the confirm time.
    // Only confidently voiced frames count towards a change: a fading note's tail bends.
    const bool strong = fr.confidence >= t.confOn && fr.loudnessDb >= t.levelOn;
    // Still gliding (the last three frames disagree): a legato glide passes through the
    // notes between two sung ones, and a re-attack at a pitch change is the change.
    const int back = std::min(recentCount, 3);
    const bool gliding = std::abs(recent[recentCount - 1] - recent[recentCount - back]) > kGlideSemis;
    // The note's centre settled on another note (the note was decided early in a scoop, and
    // the running mean followed the pitch up without ever leaving it by 0.75): change it.
    // (Nearer another note by a margin: a pitch midway between two scale notes stays put.)
    const int centreNote = ScaleSnapper::snap(noteCenter, p.scale, p.keyRoot);
    const bool elsewhere = centreNote != note && std::abs(sm - static_cast<float>(note)) > 0.75f &&
                           std::abs(noteCenter - static_cast<float>(note)) -
                                   std::abs(noteCenter - static_cast<float>(centreNote)) > kElsewhereMarginSemis;
    if (std::abs(sm - noteCenter) > 0.75f || elsewhere) {
        if (changeRun == 0) changeStart = fr.centre;
        if (strong) ++changeRun;
        const int changeConfirm = static_cast<int>(std::lround(timingFor(p).changeConfirmMs * 1e-3 * fps));
        const int64_t from = std::max(changeStart - ms(kChangeBackMs), lastOnAt + ms(kChangeMinMs));
        const int64_t at = onsetAt(onsets, from, fr.centre, changeStart - ms(kChangeFallbackMs));
        // While gliding, wait for the target - but only as long as the change still goes out
        // within the reported latency: a glide's passing notes are not sung notes.
        const bool wait = gliding && canWait(at, fr.centre, p);
        if (changeRun >= std::max(confirm, changeConfirm) && !wait) {
            // The newest smoothed pitch: a scoop is still rising in the earlier ones.
            const float m = sm;
            const int n = ScaleSnapper::snap(m, p.scale, p.keyRoot);
            if (n != note) {
                // The median smoothing shows a change a few frames after the voice moved.
                k += emitOff(at, out + k);
                if (n >= std::max(0, p.noteMin) && n <= std::min(127, p.noteMax)) {
                    k += emitOn(n, m, velocityFor(fr.loudnessDb, p), p, at, out + k);
                    peakDb = fr.loudnessDb;
                    recentCount = 0;
                    recent[recentCount++] = m;
                } else {
                    clearNote();
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
        if (framesHeld >= confirm) {
            reattack = true;
            dipAt = fr.centre - hop;
        }
    }
    // Re-attacks are judged at their deadline when the budget gives the pitch time to show
    // (Accurate): with Fast's ~50 ms a legato change's old pitch often still holds then.
    const bool judgeAtDeadline = budgetFrames(p, fps) >= static_cast<int>(std::lround(kJudgeMinMs * 1e-3 * fps));
    if (!dipping && fr.loudnessDb < peakDb - t.dipDb) {
        dipping = true;
        dipMin = fr.loudnessDb;
        dipAt = fr.centre;
    } else if (dipping) {
        if (fr.loudnessDb < dipMin) {
            dipMin = fr.loudnessDb;
            dipAt = fr.centre;
        }
        if (fr.loudnessDb > dipMin + t.riseDb && framesHeld >= confirm) reattack = true;
    }
    // A new syllable whose breath the release bridged (no dip, e.g. a 70 ms breath after a
    // long note): a rise of kAttackRiseDb over the quietest frame of the last ~120 ms, with
    // a sharp attack (a held note's tremolo rises as much, but without one).
    if (judgeAtDeadline && !reattack && !reattackPending && !dipping && framesHeld >= confirm && loudCount > 0) {
        const int qi = static_cast<int>(std::min_element(loudHist, loudHist + loudCount) - loudHist);
        const int64_t quietAt = fr.centre - static_cast<int64_t>(loudCount - qi) * hop;
        OnsetDetector::Peak peak;
        if (fr.loudnessDb > loudHist[qi] + kAttackRiseDb && quietAt > lastOnAt &&
            onsets.strongestIn(quietAt - hop, fr.centre, peak) && peak.strength >= kSharpAttack &&
            peak.sample > lastJudgedAttack) {
            reattack = true;
            dipAt = quietAt;
        }
    }
    // The peak decays slowly (~3 dB per 100 ms) so a long, fading note is not one dip.
    peakDb = std::max(peakDb - static_cast<float>(30.0 / fps), fr.loudnessDb);
    const int window = std::clamp(static_cast<int>(std::lround(0.12 * fps)), 1, kLoudWindow);
    if (loudCount == window) {
        std::copy(loudHist + 1, loudHist + window, loudHist);
        --loudCount;
    }
    loudHist[loudCount++] = fr.loudnessDb;
    // A re-attack waits (within its budget) to see whether the pitch moves: a dip at a legato
    // pitch change is the change, not a new syllable on this note. A weak one is dropped as
    // soon as the pitch leaves the note. A sharp attack (a new syllable: on the rendered
    // takes a same-pitch repeat rises 12-22 dB with a flux peak 2-9x the median, a held
    // note's vibrato or tremolo < 1.6x) often starts with a scoop, so it is judged only at
    // its deadline, by whether the pitch is back on the note.
    if (reattack) {
        // The new syllable began at the quietest point of the dip or at its attack.
        OnsetDetector::Peak peak;
        const bool attack = onsets.strongestIn(dipAt - hop, fr.centre, peak);
        reattackAt = attack ? std::min(peak.sample, fr.centre) : dipAt;
        reattackSharp = judgeAtDeadline && attack && peak.strength >= kSharpAttack;
        if (attack) lastJudgedAttack = peak.sample;
        reattackPending = true;
        dipping = false;
    }
    const bool away = std::abs(midi - noteCenter) > kReattackNearSemis || changeRun > 0 || gliding;
    if (away && reattackPending && !reattackSharp) {
        reattackPending = false;
        dipping = false;
    }
    if (reattackPending && !canWait(reattackAt, fr.centre, p)) {
        reattackPending = false;
        const bool onNote = changeRun == 0 && !gliding && std::abs(sm - noteCenter) <= kReattackNearSemis;
        if (!reattackSharp || onNote) {
            const int n = note;
            const int64_t at = reattackAt;
            k += emitOff(at, out + k);
            // The same note again: keep its centre, so it still leaves it at the next change.
            k += emitOn(n, noteCenter, velocityFor(fr.loudnessDb, p), p, at, out + k);
            peakDb = fr.loudnessDb;
            return k;
        }
    }

    if (noteBendMode == BendMode::Continuous && p.bendMode == BendMode::Continuous) {
        const int16_t b = bendValue(steady, p);
        if (std::abs(b - lastBend) >= 16) {
            lastBend = b;
            NoteEvent e;
            e.type = EventType::PitchBend;
            e.channel = noteChannel;
            e.bend = b;
            out[k++] = {e, fr.centre};
        }
    }
    return k;
}

}  // namespace vocalmidi
