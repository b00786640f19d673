// The note model's front end in C++ (dsp/NoteFrontEnd): the features of
// pycontrol/vocalmidi/train/front_end_np.py on real audio (golden data of
// tests/engine/golden/make_front_end_golden.py), silence, and the model metadata it reads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

#include "NoteGolden.h"
#include "dsp/NoteFrontEnd.h"

using namespace vocalmidi;
using namespace vmtest;

namespace {

struct FeatureGolden {
    int samples = 0, frames = 0, features = 0, step = 0;
    int64_t pcmSum = 0;
    std::vector<float> values;
};

bool loadFeatureGolden(FeatureGolden& g, std::string& error) {
    const std::string path = goldenDir() + "/front-end.features.bin";
    std::ifstream in(path, std::ios::binary);
    char magic[8];
    in.read(magic, 8);
    if (!in || std::memcmp(magic, "VMFE0001", 8) != 0) {
        error = path + " is missing or not front-end golden data (tests/engine/golden/make_front_end_golden.py)";
        return false;
    }
    int32_t samples = 0, frames = 0, features = 0, step = 0;
    in.read(reinterpret_cast<char*>(&samples), 4);
    in.read(reinterpret_cast<char*>(&g.pcmSum), 8);
    in.read(reinterpret_cast<char*>(&frames), 4);
    in.read(reinterpret_cast<char*>(&features), 4);
    in.read(reinterpret_cast<char*>(&step), 4);
    g.samples = samples, g.frames = frames, g.features = features, g.step = step;
    g.values.resize(static_cast<size_t>(frames) * static_cast<size_t>(features));
    in.read(reinterpret_cast<char*>(g.values.data()), static_cast<std::streamsize>(g.values.size() * 4));
    if (!in) error = path + " is truncated";
    return static_cast<bool>(in);
}

FrontEndConfig everyBlock() {
    FrontEndConfig c;
    c.midWindow = 512;
    c.lagWindow = 160;
    c.lagPeak = true;
    return c;
}

}  // namespace

TEST_CASE("note front end: the numpy reference's features on a sung clip", "[notemodel][frontend][golden]") {
    FeatureGolden g;
    GoldenClip clip;
    std::string error;
    INFO(error);
    REQUIRE(loadFeatureGolden(g, error));
    REQUIRE(loadGolden("oohs-fluidr3", clip, error));
    REQUIRE(static_cast<int>(clip.audio.size()) >= g.samples);
    int64_t sum = 0;
    for (int i = 0; i < g.samples; ++i) sum += std::lround(clip.audio[static_cast<size_t>(i)] * 32767.0f);
    INFO("the golden features are from other audio: run tests/engine/golden/make_front_end_golden.py");
    REQUIRE(sum == g.pcmSum);

    NoteFrontEnd fe(everyBlock());
    REQUIRE(fe.features() == g.features);
    // Streamed from a silent context, as NoteModel runs it: frame j ends with hop j.
    const int ctx = 944, hop = 80;
    std::vector<float> buf(static_cast<size_t>(ctx), 0.0f);
    buf.insert(buf.end(), clip.audio.begin(), clip.audio.begin() + g.samples);
    std::vector<float> out(static_cast<size_t>(fe.features()));
    const int logCount = 255 + 128 + 1 + 128;
    float worstLog = 0.0f, worstLag = 0.0f;
    for (int i = 0; i < g.frames; ++i) {
        const int j = i * g.step;
        fe.compute(buf.data() + static_cast<size_t>(j) * hop, out.data());
        const float* want = &g.values[static_cast<size_t>(i) * static_cast<size_t>(g.features)];
        for (int k = 0; k < g.features; ++k) {
            REQUIRE(std::isfinite(out[static_cast<size_t>(k)]));
            const float d = std::abs(out[static_cast<size_t>(k)] - want[k]);
            (k < logCount ? worstLog : worstLag) = std::max(k < logCount ? worstLog : worstLag, d);
        }
    }
    INFO("worst difference: log powers " << worstLog << ", lag correlations and peak " << worstLag);
    CHECK(worstLog < 1e-4f);
    CHECK(worstLag < 1e-4f);
}

TEST_CASE("note front end: digital silence is the power floor and no period", "[notemodel][frontend]") {
    NoteFrontEnd fe(everyBlock());
    std::vector<float> silence(1024, 0.0f), out(static_cast<size_t>(fe.features()));
    fe.compute(silence.data(), out.data());
    for (int k = 0; k < 512; ++k) CHECK(out[static_cast<size_t>(k)] == Approx(-10.0f));  // log10(1e-10)
    for (int k = 512; k < fe.features(); ++k) CHECK(out[static_cast<size_t>(k)] == 0.0f);
}

TEST_CASE("note front end: its blocks come from the model metadata, bad values are refused",
          "[notemodel][frontend]") {
    FrontEndConfig c;
    std::string error;
    REQUIRE(FrontEndConfig::fromJson(R"({"hidden": 192})", c, error));
    CHECK(c.features() == 384);
    REQUIRE(FrontEndConfig::fromJson(R"({"mid_window": 512, "lag_window": 160})", c, error));
    CHECK(c.features() == 613);
    REQUIRE(FrontEndConfig::fromJson(R"({"mid_window": 512, "lag_window": 160, "lag_peak": true})", c, error));
    CHECK(c.features() == 616);
    for (const char* bad : {R"({"mid_window": 256})", R"({"lag_window": 100})", R"({"lag_peak": true})",
                            R"({"mid_window": "512"})", "[1, 2]", "{not json"}) {
        error.clear();
        CHECK_FALSE(FrontEndConfig::fromJson(bad, c, error));
        CHECK_FALSE(error.empty());
    }
    CHECK(c.features() == 616);  // a refused config leaves the last good one
}
