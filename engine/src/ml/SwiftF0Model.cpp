#include "ml/SwiftF0Model.h"

#include <algorithm>
#include <cmath>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

SwiftF0Model::SwiftF0Model(std::unique_ptr<Ort::Session> s) : session(std::move(s)) {}
SwiftF0Model::~SwiftF0Model() = default;

std::string SwiftF0Model::validate(Ort::Session& s) {
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::string> ins, outs;
    for (size_t i = 0; i < s.GetInputCount(); ++i) ins.push_back(s.GetInputNameAllocated(i, alloc).get());
    for (size_t i = 0; i < s.GetOutputCount(); ++i) outs.push_back(s.GetOutputNameAllocated(i, alloc).get());
    auto has = [](const std::vector<std::string>& v, const char* n) {
        return std::find(v.begin(), v.end(), n) != v.end();
    };
    if (!has(ins, "audio") || !has(ins, "fmin") || !has(ins, "fmax") || !has(outs, "pitch") ||
        !has(outs, "confidence"))
        return "expected inputs audio, fmin, fmax and outputs pitch, confidence (a SwiftF0 model)";
    return {};
}

int SwiftF0Model::lookaheadSamples(LatencyMode mode) const {
    // A frame's own hop reaches one hop past its centre; each lookahead frame adds a hop.
    return (lookaheadFrames(mode) + 1) * kHop;
}

bool SwiftF0Model::analyse(const float* stream, int64_t streamStart, int64_t streamEnd,
                           int64_t first, int count, LatencyMode mode, FrameResult* out,
                           std::string& error) {
    const int64_t leftFrame = std::max<int64_t>(0, first - kLeftFrames);
    const int64_t winStart = leftFrame * kHop;
    const int64_t winEnd = std::min<int64_t>(streamEnd, (first + count + lookaheadFrames(mode)) * kHop);
    if (winStart < streamStart || winEnd <= winStart) {
        error = "internal: SwiftF0 window outside the buffered stream";
        return false;
    }
    const int64_t len = winEnd - winStart;
    try {
        Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
        const int64_t audioShape[2] = {1, len};
        float fmin = 46.875f, fmax = 2093.75f;
        Ort::Value inputs[3] = {
            Ort::Value::CreateTensor<float>(mem, const_cast<float*>(stream + (winStart - streamStart)),
                                            static_cast<size_t>(len), audioShape, 2),
            Ort::Value::CreateTensor<float>(mem, &fmin, 1, nullptr, 0),
            Ort::Value::CreateTensor<float>(mem, &fmax, 1, nullptr, 0)};
        const char* inNames[3] = {"audio", "fmin", "fmax"};
        const char* outNames[2] = {"pitch", "confidence"};
        auto res = session->Run(Ort::RunOptions{nullptr}, inNames, inputs, 3, outNames, 2);
        const auto shape = res[1].GetTensorTypeAndShapeInfo().GetShape();
        const int64_t frames = shape.empty() ? 0 : shape.back();
        const double* pitch = res[0].GetTensorData<double>();
        const float* conf = res[1].GetTensorData<float>();
        for (int i = 0; i < count; ++i) {
            const int64_t f = first + i;
            const int64_t k = f - leftFrame;
            FrameResult r;
            if (k >= 0 && k < frames) {
                r.f0Hz = static_cast<float>(pitch[k]);
                r.confidence = conf[k];
            }
            // Silence gate on the frame's own hop, as the reference implementation does.
            float peak = 0.0f;
            const int64_t hs = f * kHop, he = std::min<int64_t>(streamEnd, hs + kHop);
            for (int64_t s = hs; s < he; ++s) peak = std::max(peak, std::abs(stream[s - streamStart]));
            if (peak < kSilencePeak) r.confidence = 0.0f;
            if (!std::isfinite(r.f0Hz) || !std::isfinite(r.confidence)) r = FrameResult{};
            out[i] = r;
        }
    } catch (const Ort::Exception& e) {
        error = std::string("SwiftF0 inference failed: ") + e.what();
        return false;
    }
    return true;
}

}  // namespace vocalmidi
