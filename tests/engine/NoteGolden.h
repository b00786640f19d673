// Reads the note decoder's golden data (tests/engine/golden/, written by
// make_note_golden.py from the Python reference model and decoder).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "notes/NoteDecoder.h"

namespace vmtest {

struct GoldenClip {
    std::vector<float> audio;  // 16 kHz, what the reference model heard
    std::vector<float> frames;  // [n, 6]: onset, sounding, note, note_conf, pitch, level_db
    int numFrames = 0;
    std::map<std::string, std::vector<vocalmidi::DecodedEvent>> events;  // by correction mode
    std::string modelPath;    // relative to the repository root
    std::string modelSha256;  // empty for hand-made frames
    vocalmidi::NoteDecoderConfig decoder;  // the thresholds the reference decoded with
    const float* frame(int i) const { return frames.data() + static_cast<size_t>(i) * 6; }
};

// $VOCALMIDI_GOLDEN_DIR overrides the committed data (golden data of another model).
inline std::string goldenDir() {
    const char* env = std::getenv("VOCALMIDI_GOLDEN_DIR");
    return env && *env ? env : VOCALMIDI_GOLDEN_DIR;
}

inline bool loadGolden(const std::string& name, GoldenClip& out, std::string& error) {
    const std::string base = goldenDir() + "/" + name;
    std::ifstream bin(base + ".golden.bin", std::ios::binary);
    if (!bin) {
        error = "missing " + base + ".golden.bin (run tests/engine/golden/make_note_golden.py)";
        return false;
    }
    char magic[8];
    int32_t counts[2];
    bin.read(magic, 8);
    bin.read(reinterpret_cast<char*>(counts), sizeof counts);
    if (!bin || std::memcmp(magic, "VMNG0001", 8) != 0) {
        error = base + ".golden.bin is not note golden data";
        return false;
    }
    std::vector<int16_t> pcm(static_cast<size_t>(counts[0]));
    bin.read(reinterpret_cast<char*>(pcm.data()), static_cast<std::streamsize>(pcm.size() * 2));
    out.audio.resize(pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i) out.audio[i] = static_cast<float>(pcm[i]) / 32767.0f;
    out.numFrames = counts[1];
    out.frames.resize(static_cast<size_t>(counts[1]) * 6);
    bin.read(reinterpret_cast<char*>(out.frames.data()), static_cast<std::streamsize>(out.frames.size() * 4));
    if (!bin) {
        error = base + ".golden.bin is truncated";
        return false;
    }
    std::ifstream txt(base + ".events.txt");
    std::string line, mode;
    while (std::getline(txt, line)) {
        std::istringstream ls(line);
        std::string word;
        ls >> word;
        if (word == "#") {
            std::string key, path, shaKey, sha;
            if (ls >> key >> path >> shaKey >> sha && key == "model") {
                out.modelPath = path;
                out.modelSha256 = sha;
            }
        } else if (word == "decoder") {
            std::string rest;
            std::getline(ls, rest);
            if (!vocalmidi::NoteDecoderConfig::fromJson(rest, out.decoder, error)) return false;
        } else if (word == "mode") {
            ls >> mode;
            out.events[mode];
        } else if (!word.empty()) {
            vocalmidi::DecodedEvent e;
            using K = vocalmidi::DecodedEvent::Kind;
            e.kind = word == "on" ? K::On : word == "off" ? K::Off : K::Bend;
            int corrects = 0;
            ls >> e.frame >> e.decided >> e.note >> e.velocity >> e.bend >> corrects;
            e.corrects = corrects != 0;
            out.events[mode].push_back(e);
        }
    }
    return true;
}

inline std::string describeEvent(const vocalmidi::DecodedEvent& e) {
    using K = vocalmidi::DecodedEvent::Kind;
    return std::string(e.kind == K::On ? "on" : e.kind == K::Off ? "off" : "bend") + " f" +
           std::to_string(e.frame) + " d" + std::to_string(e.decided) + " n" + std::to_string(e.note) + " v" +
           std::to_string(e.velocity) + " b" + std::to_string(e.bend) + (e.corrects ? " c" : "");
}

}  // namespace vmtest
