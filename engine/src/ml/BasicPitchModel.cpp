#include "ml/BasicPitchModel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

namespace {
const char* kInput = "serving_default_input_2:0";
// Output order as basic-pitch's Model.predict() names them: note, onset, contour.
const char* kOutputs[3] = {"StatefulPartitionedCall:1", "StatefulPartitionedCall:2",
                           "StatefulPartitionedCall:0"};
}  // namespace

BasicPitchModel::BasicPitchModel(std::unique_ptr<Ort::Session> s)
    : session(std::move(s)), input(static_cast<size_t>(kWindow), 0.0f) {}
BasicPitchModel::~BasicPitchModel() = default;

std::string BasicPitchModel::validate(Ort::Session& s) {
    const std::string want = std::string("expected input ") + kInput +
                             " and outputs StatefulPartitionedCall:0..2 (basic-pitch's nmp.onnx)";
    Ort::AllocatorWithDefaultOptions alloc;
    if (s.GetInputCount() != 1 || std::string(s.GetInputNameAllocated(0, alloc).get()) != kInput) return want;
    std::set<std::string> outs;
    for (size_t i = 0; i < s.GetOutputCount(); ++i) outs.insert(s.GetOutputNameAllocated(i, alloc).get());
    for (const char* name : kOutputs)
        if (!outs.count(name)) return want;
    return {};
}

double BasicPitchModel::frameSeconds(int64_t f) {
    // basic_pitch/note_creation.py model_frames_to_time(), magic number included, so note
    // times match the package's to the sample.
    const double original = static_cast<double>(f) * kHop / kRate;
    const double windowOffset =
        (static_cast<double>(kHop) / kRate) * (kWindowFrames - static_cast<double>(kWindow) / kHop) + 0.0018;
    return original - windowOffset * std::floor(static_cast<double>(f) / kWindowFrames);
}

bool BasicPitchModel::runWindow(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t w,
                                float* note, float* onset, float* contour, std::string& error) {
    const int64_t start = windowStart(w);
    const int64_t a = std::max(start, streamStart);
    const int64_t b = std::min(start + kWindow, streamEnd);
    if (std::max<int64_t>(start, 0) < streamStart) {
        error = "internal: basic-pitch window starts before the buffered stream";
        return false;
    }
    std::fill(input.begin(), input.end(), 0.0f);
    if (b > a) std::memcpy(input.data() + (a - start), stream + (a - streamStart), sizeof(float) * size_t(b - a));
    try {
        Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
        const int64_t shape[3] = {1, kWindow, 1};
        Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), shape, 3);
        const char* inNames[1] = {kInput};
        auto res = session->Run(Ort::RunOptions{nullptr}, inNames, &in, 1, kOutputs, 3);
        const int widths[3] = {kBins, kBins, kContourBins};
        float* dst[3] = {note, onset, contour};
        for (int o = 0; o < 3; ++o) {
            const auto shapeOut = res[size_t(o)].GetTensorTypeAndShapeInfo().GetShape();
            if (shapeOut.size() != 3 || shapeOut[1] != kWindowFrames || shapeOut[2] != widths[o]) {
                error = "basic-pitch output has an unexpected shape";
                return false;
            }
            if (!dst[o]) continue;
            const float* src = res[size_t(o)].GetTensorData<float>() + size_t(kOverlapFrames / 2) * size_t(widths[o]);
            std::memcpy(dst[o], src, sizeof(float) * size_t(kKeptFrames) * size_t(widths[o]));
        }
    } catch (const Ort::Exception& e) {
        error = std::string("basic-pitch inference failed: ") + e.what();
        return false;
    }
    return true;
}

bool BasicPitchModel::analyse(const float* stream, int64_t streamStart, int64_t streamEnd, int64_t first,
                              int count, LatencyMode, FrameResult* out, std::string& error) {
    std::vector<float> note(size_t(kKeptFrames) * kBins), onset(note.size());
    int64_t loaded = -1;
    for (int i = 0; i < count; ++i) {
        const int64_t f = first + i;
        const int64_t w = f / kKeptFrames;
        if (w != loaded) {
            if (!runWindow(stream, streamStart, streamEnd, w, note.data(), onset.data(), nullptr, error))
                return false;
            loaded = w;
        }
        const float* row = note.data() + size_t(f - w * kKeptFrames) * kBins;
        const int best = int(std::max_element(row, row + kBins) - row);
        out[i].confidence = row[best];
        out[i].f0Hz = 440.0f * std::exp2((best + kMidiOffset - 69) / 12.0f);
    }
    return true;
}

}  // namespace vocalmidi
