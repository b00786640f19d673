#include "notes/PolyNoteDecoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "notes/ScaleSnapper.h"

namespace vocalmidi {

void PolyNoteDecoder::reset() {
    note.clear();
    onset.clear();
    base = 0;
    segStart = 0;
    std::fill(std::begin(maxOnset), std::end(maxOnset), 0.0f);
    std::fill(std::begin(maxJump), std::end(maxJump), 0.0);
    carried.clear();
    pending.clear();
    std::memset(held, 0, sizeof held);
}

void PolyNoteDecoder::push(const float* n, const float* o) {
    note.insert(note.end(), n, n + kBins);
    onset.insert(onset.end(), o, o + kBins);
    const int64_t f = framesPushed() - 1;
    for (int k = 0; k < kBins; ++k) {
        maxOnset[k] = std::max(maxOnset[k], o[k]);
        maxJump[k] = std::max(maxJump[k], jump(f, k));
    }
}

double PolyNoteDecoder::jump(int64_t f, int k) const {
    // get_infered_onsets(): min over 1- and 2-frame differences, negatives and the first
    // two frames of the stream zeroed. Computed in double, as numpy does there.
    if (f < 2) return 0.0;
    const double x = noteRow(f)[k];
    const double d = std::min(x - noteRow(f - 1)[k], x - noteRow(f - 2)[k]);
    return std::max(0.0, d);
}

double PolyNoteDecoder::onsetAt(int64_t f, int k, double scale) const {
    return std::max(static_cast<double>(onset[size_t(f - base) * kBins + size_t(k)]), scale * jump(f, k));
}

bool PolyNoteDecoder::quiet(int64_t f, const bool* allowed, double scale) const {
    for (int k = 0; k < kBins; ++k)
        if (allowed[k] && (noteRow(f)[k] >= kFrameThreshold || onsetAt(f, k, scale) >= kOnsetThreshold))
            return false;
    return true;
}

int64_t PolyNoteDecoder::forcedCut(int64_t from, int64_t to, const bool* allowed, double scale) const {
    // Fewest sounding keys first; among those, two frames before an onset peak, so that the
    // next segment still sees that onset as a peak.
    auto onsetPeak = [&](int64_t f) {
        if (f + 1 >= framesPushed()) return false;
        for (int k = 0; k < kBins; ++k) {
            const double v = onsetAt(f, k, scale);
            if (allowed[k] && v >= kOnsetThreshold && v > onsetAt(f - 1, k, scale) && v > onsetAt(f + 1, k, scale))
                return true;
        }
        return false;
    };
    int64_t best = to;
    int bestCost = 1 << 30;
    for (int64_t f = to - 1; f >= from; --f) {
        int count = 0;
        for (int k = 0; k < kBins; ++k) count += allowed[k] && noteRow(f)[k] >= kFrameThreshold;
        const int cost = 2 * count - (onsetPeak(f + 2) ? 1 : 0);
        if (cost < bestCost) {
            bestCost = cost;
            best = f;
        }
    }
    return best;
}

std::vector<PolyNote> PolyNoteDecoder::decodeSegment(int64_t a, int64_t c, const bool* allowed,
                                                     double scale, const std::vector<PolyNote>& taken) const {
    const int n = static_cast<int>(c - a);
    std::vector<PolyNote> notes;
    if (n <= 0) return notes;
    std::vector<double> frames(size_t(n) * kBins), ons(frames.size());
    for (int t = 0; t < n; ++t)
        for (int k = 0; k < kBins; ++k) {
            const size_t i = size_t(t) * kBins + size_t(k);
            frames[i] = allowed[k] ? noteRow(a + t)[k] : 0.0;
            ons[i] = allowed[k] ? onsetAt(a + t, k, scale) : 0.0;
        }
    auto at = [](std::vector<double>& m, int t, int k) -> double& { return m[size_t(t) * kBins + size_t(k)]; };
    auto mean = [&](int s, int e, int k) {
        double sum = 0.0;
        for (int t = s; t < e; ++t) sum += frames[size_t(t) * kBins + size_t(k)];
        return sum / std::max(1, e - s);
    };
    auto zero3 = [&](std::vector<double>& m, int t, int k) {
        at(m, t, k) = 0.0;
        if (k < kBins - 1) at(m, t, k + 1) = 0.0;
        if (k > 0) at(m, t, k - 1) = 0.0;
    };

    // Onset peaks (scipy argrelmax along time: strictly above both neighbours, never at an
    // edge) at or above the threshold, latest first (higher key first within a frame).
    std::vector<std::pair<int, int>> peaks;
    for (int t = n - 2; t >= 1; --t)
        for (int k = kBins - 1; k >= 0; --k) {
            const double v = at(ons, t, k);
            if (v >= kOnsetThreshold && v > at(ons, t - 1, k) && v > at(ons, t + 1, k)) peaks.emplace_back(t, k);
        }

    std::vector<double> remaining = frames;
    for (const auto& nt : taken)
        for (int64_t t = std::max(a, nt.start); t < std::min(c, nt.end); ++t)
            zero3(remaining, static_cast<int>(t - a), nt.pitch - kMidiOffset);
    for (const auto& [start, k] : peaks) {
        if (start >= n - 1) continue;
        int i = start + 1, low = 0;
        while (i < n - 1 && low < kEnergyTol) {
            low = at(remaining, i, k) < kFrameThreshold ? low + 1 : 0;
            ++i;
        }
        i -= low;
        if (i - start <= kMinNoteFrames) continue;
        for (int t = start; t < i; ++t) zero3(remaining, t, k);
        notes.push_back({a + start, a + i, k + kMidiOffset, mean(start, i, k)});
    }

    // Melodia trick: grow notes from the strongest energy the onsets left, both ways.
    for (;;) {
        const auto it = std::max_element(remaining.begin(), remaining.end());  // first maximum
        if (it == remaining.end() || !(*it > kFrameThreshold)) break;
        const int mid = static_cast<int>((it - remaining.begin()) / kBins);
        const int k = static_cast<int>((it - remaining.begin()) % kBins);
        at(remaining, mid, k) = 0.0;
        int i = mid + 1, low = 0;
        while (i < n - 1 && low < kEnergyTol) {
            low = at(remaining, i, k) < kFrameThreshold ? low + 1 : 0;
            zero3(remaining, i, k);
            ++i;
        }
        const int end = i - 1 - low;
        i = mid - 1;
        low = 0;
        while (i > 0 && low < kEnergyTol) {
            low = at(remaining, i, k) < kFrameThreshold ? low + 1 : 0;
            zero3(remaining, i, k);
            --i;
        }
        const int start = i + 1 + low;
        if (end - start <= kMinNoteFrames) continue;
        notes.push_back({a + start, a + end, k + kMidiOffset, mean(start, end, k)});
    }
    return notes;
}

void PolyNoteDecoder::queueNotes(const std::vector<PolyNote>& notes, const Params& p) {
    const int channel = std::clamp(p.midiChannel, 1, 16);
    for (const auto& nt : notes) {
        const int key = ScaleSnapper::snap(static_cast<float>(nt.pitch), p.scale, p.keyRoot);
        if (key < p.noteMin || key > p.noteMax || key < 0 || key > 127) continue;
        int vel = p.fixedVelocity;
        if (p.velocityMode == VelocityMode::Loudness)
            // basic-pitch's velocity is round(127 * amplitude); the curve shapes it.
            vel = static_cast<int>(std::lround(127.0 * std::pow(std::clamp(nt.amplitude, 0.0, 1.0),
                                                                 static_cast<double>(p.velocityCurve))));
        pending.push_back({nt.start, 1, key, std::clamp(vel, 1, 127), channel});
        pending.push_back({nt.end, 0, key, 0, channel});
    }
    std::sort(pending.begin(), pending.end());
}

void PolyNoteDecoder::release(int64_t before, std::vector<PolyEvent>& out) {
    // Events go out in time order: later segments never decide anything before `before`.
    size_t n = 0;
    for (; n < pending.size() && pending[n].frame < before; ++n) {
        const Pending& pe = pending[n];
        NoteEvent e;
        e.channel = static_cast<uint8_t>(pe.channel);
        e.note = static_cast<uint8_t>(pe.key);
        int& h = held[pe.channel - 1][pe.key];
        // Overlapping notes on one key (after snapping): a new one re-strikes the key, and
        // it is released when the last of them ends.
        if (pe.on) {
            if (h++ > 0) {
                e.type = EventType::NoteOff;
                out.push_back({pe.frame, e});
            }
            e.type = EventType::NoteOn;
            e.velocity = static_cast<uint8_t>(pe.velocity);
            out.push_back({pe.frame, e});
        } else if (h > 0 && --h == 0) {
            e.type = EventType::NoteOff;
            out.push_back({pe.frame, e});
        }
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
}

void PolyNoteDecoder::drop(int64_t before) {
    const int64_t n = std::min<int64_t>(before - base, static_cast<int64_t>(rows()));
    if (n <= 0) return;
    note.erase(note.begin(), note.begin() + n * kBins);
    onset.erase(onset.begin(), onset.begin() + n * kBins);
    base += n;
}

int PolyNoteDecoder::decide(const Params& p, bool endOfStream, std::vector<PolyEvent>& out, int64_t endFrame) {
    const size_t before = out.size();
    bool allowed[kBins];
    float mo = 0.0f;
    double mj = 0.0;
    for (int k = 0; k < kBins; ++k) {
        allowed[k] = k + kMidiOffset >= p.noteMin && k + kMidiOffset <= p.noteMax;
        if (!allowed[k]) continue;
        mo = std::max(mo, maxOnset[k]);
        mj = std::max(mj, maxJump[k]);
    }
    // Frame jumps are rescaled to the largest onset (get_infered_onsets); no jump yet: none.
    const double scale = mj > 0.0 ? static_cast<double>(mo) / mj : 0.0;
    const int64_t avail = framesPushed();
    for (;;) {
        int64_t cut = -1, next = -1, decodeEnd = -1;
        if (endOfStream) {
            cut = next = decodeEnd = std::min(avail, endFrame);
        } else {
            // Latest quiet band [cut - kQuietFrames, cut) within the horizon; the next segment
            // starts at the band, so its backward scans stop there too.
            const int64_t limit = std::min(avail, segStart + kMaxSegmentFrames);
            int run = 0;
            for (int64_t f = segStart; f < limit; ++f) {
                run = quiet(f, allowed, scale) ? run + 1 : 0;
                if (run >= kQuietFrames && f + 1 - kQuietFrames > segStart) {
                    cut = decodeEnd = f + 1;
                    next = cut - kQuietFrames;
                }
            }
            if (cut < 0 && avail - segStart >= kMaxSegmentFrames) {
                cut = next = forcedCut(segStart + kMaxSegmentFrames / 4, segStart + 3 * kMaxSegmentFrames / 4,
                                       allowed, scale);
                decodeEnd = avail;  // context past the cut, for the notes that cross it
            }
        }
        if (cut <= segStart) break;
        std::vector<PolyNote> kept;
        for (const auto& nt : decodeSegment(segStart, decodeEnd, allowed, scale, carried))
            if (nt.start < cut) kept.push_back(nt);
        queueNotes(kept, p);
        kept.insert(kept.end(), carried.begin(), carried.end());
        carried.clear();
        for (const auto& nt : kept)
            if (nt.end > next) carried.push_back(nt);
        segStart = next;
        drop(segStart - 2);  // jump() looks two frames back
        if (endOfStream) break;
    }
    release(endOfStream ? INT64_MAX : segStart, out);
    return static_cast<int>(out.size() - before);
}

}  // namespace vocalmidi
