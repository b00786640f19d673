#include "ml/FramewiseModel.h"

#include <algorithm>
#include <cmath>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

FramewiseModel::FramewiseModel(ModelKind k, std::unique_ptr<Ort::Session> s, int w)
    : modelKind(k), session(std::move(s)), window(w) {
    staging.resize(static_cast<size_t>(maxBatchFrames()) * window);
}
FramewiseModel::~FramewiseModel() = default;

std::string FramewiseModel::validate(Ort::Session& s, int& windowSize) {
    Ort::AllocatorWithDefaultOptions alloc;
    if (s.GetInputCount() != 1 || std::string(s.GetInputNameAllocated(0, alloc).get()) != "audio_frames")
        return "expected one input named audio_frames [N, W]";
    std::vector<std::string> outs;
    for (size_t i = 0; i < s.GetOutputCount(); ++i) outs.push_back(s.GetOutputNameAllocated(i, alloc).get());
    if (std::find(outs.begin(), outs.end(), "f0_hz") == outs.end() ||
        std::find(outs.begin(), outs.end(), "confidence") == outs.end())
        return "expected outputs f0_hz and confidence";
    const auto shape = s.GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
    if (shape.size() != 2 || shape[1] <= 0)
        return "audio_frames must be [N, W] with a fixed window size W";
    windowSize = static_cast<int>(shape[1]);
    if (windowSize < 64 || windowSize > 16384) return "window size W out of range (64..16384)";
    return {};
}

bool FramewiseModel::analyse(const float* stream, int64_t streamStart, int64_t streamEnd,
                             int64_t first, int count, LatencyMode, FrameResult* out,
                             std::string& error) {
    if (staging.size() < static_cast<size_t>(count) * window) staging.resize(static_cast<size_t>(count) * window);
    const int halfW = window / 2;
    for (int i = 0; i < count; ++i) {
        const int64_t start = (first + i) * kHop - halfW;
        float* dst = staging.data() + static_cast<size_t>(i) * window;
        for (int k = 0; k < window; ++k) {
            const int64_t s = start + k;
            // Before the stream start (and past a flushed end) the audio is silence.
            dst[k] = (s >= streamStart && s < streamEnd && s >= 0) ? stream[s - streamStart] : 0.0f;
        }
    }
    try {
        Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
        const int64_t shape[2] = {count, window};
        Ort::Value input = Ort::Value::CreateTensor<float>(mem, staging.data(),
                                                           static_cast<size_t>(count) * window, shape, 2);
        const char* inNames[1] = {"audio_frames"};
        const char* outNames[2] = {"f0_hz", "confidence"};
        auto res = session->Run(Ort::RunOptions{nullptr}, inNames, &input, 1, outNames, 2);
        const float* f0 = res[0].GetTensorData<float>();
        const float* conf = res[1].GetTensorData<float>();
        for (int i = 0; i < count; ++i) {
            FrameResult r{f0[i], std::clamp(conf[i], 0.0f, 1.0f)};
            if (!std::isfinite(r.f0Hz) || !std::isfinite(r.confidence) || r.f0Hz <= 0.0f) r = FrameResult{};
            out[i] = r;
        }
    } catch (const Ort::Exception& e) {
        error = std::string("model inference failed: ") + e.what();
        return false;
    }
    return true;
}

}  // namespace vocalmidi
