// The fine pitch that pitch bends use (dsp/PitchRefiner): held tones of a known pitch read
// within a few cents wherever the model's guess lies in its search span, noise and a short
// history leave the model's pitch alone, and it matches the Python reference
// (vocalmidi.notemodel.fine_pitch) on the golden clips (tests/engine/golden/).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <vector>

#include "NoteGolden.h"
#include "dsp/PitchRefiner.h"

using namespace vocalmidi;

namespace {

// A harmonic tone (6 partials, 1/k) at a fixed MIDI pitch, 16 kHz.
std::vector<float> tone(double midi, int samples) {
    std::vector<float> out(static_cast<size_t>(samples));
    const double f0 = 440.0 * std::exp2((midi - 69.0) / 12.0);
    for (int i = 0; i < samples; ++i) {
        double v = 0.0;
        for (int k = 1; k <= 6 && k * f0 < 7600.0; ++k) v += 0.5 / k * std::sin(2 * M_PI * k * f0 * i / 16000.0);
        out[static_cast<size_t>(i)] = static_cast<float>(0.25 * v);
    }
    return out;
}

}  // namespace

TEST_CASE("pitch refiner: a held tone reads within 2 cents of its pitch", "[notemodel][pitch]") {
    for (double midi : {38.3, 45.0, 52.6, 57.0, 61.45, 64.0, 69.9, 76.2, 84.0}) {
        const auto x = tone(midi, 4000);
        // The model's guess anywhere within half a semitone: the period near it is found.
        for (double guess : {midi - 0.45, midi - 0.2, midi, midi + 0.3, midi + 0.45}) {
            const float r = PitchRefiner::refine(x.data() + x.size(), static_cast<int64_t>(x.size()),
                                                 static_cast<float>(guess));
            INFO("tone " << midi << " guess " << guess << " read " << r);
            CHECK(std::abs(r - midi) < 0.02);
        }
    }
}

TEST_CASE("pitch refiner: noise, silence, a short history and odd pitches keep the model's pitch",
          "[notemodel][pitch]") {
    std::vector<float> noise(4000);
    uint32_t lcg = 7;
    for (auto& v : noise) {
        lcg = lcg * 1664525u + 1013904223u;
        v = static_cast<float>(0.3 * ((lcg >> 8) / 8388608.0 - 1.0));
    }
    const int64_t n = static_cast<int64_t>(noise.size());
    CHECK(PitchRefiner::refine(noise.data() + n, n, 60.3f) == 60.3f);
    const std::vector<float> silence(4000, 0.0f);
    CHECK(PitchRefiner::refine(silence.data() + n, n, 60.3f) == 60.3f);
    const auto x = tone(45.0, 4000);
    CHECK(PitchRefiner::refine(x.data() + 200, 200, 45.2f) == 45.2f);  // a stream's first frames
    CHECK(PitchRefiner::refine(x.data() + n, n, 20.0f) == 20.0f);
    CHECK(std::isnan(PitchRefiner::refine(x.data() + n, n, std::nanf(""))));
    // The tone is an octave away from the guess: no period within the span, nothing changes.
    CHECK(PitchRefiner::refine(x.data() + n, n, 57.0f) == 57.0f);
}

TEST_CASE("pitch refiner: same fine pitch as the Python reference on real clips", "[notemodel][pitch]") {
    for (const char* name : {"oohs-fluidr3", "synth-timgm"}) {
        vmtest::GoldenClip clip;
        std::string error;
        REQUIRE(vmtest::loadGolden(name, clip, error));
        std::ifstream txt(vmtest::goldenDir() + "/" + name + ".pitch.txt");
        REQUIRE(txt);
        std::vector<float> expected;
        for (float v; txt >> v;) expected.push_back(v);
        REQUIRE(static_cast<int>(expected.size()) == clip.numFrames);
        int refined = 0;
        for (int i = 0; i < clip.numFrames; ++i) {
            const int64_t end = 80LL * (i + 2);  // frame i's window ends a hop after it
            const float model = clip.frame(i)[4];
            const float r = end <= static_cast<int64_t>(clip.audio.size())
                                ? PitchRefiner::refine(clip.audio.data() + end, end, model)
                                : model;
            INFO(name << " frame " << i << " model " << model);
            CHECK(std::abs(r - expected[static_cast<size_t>(i)]) < 1e-4);
            refined += r != model;
        }
        CHECK(refined > clip.numFrames / 2);  // held notes: most frames find their period
    }
}
