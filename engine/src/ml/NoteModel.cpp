#include "ml/NoteModel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

namespace {

const char* kInputs[3] = {"audio", "ctx_in", "h_in"};
// note-features/1: the features and the recurrent state; the context stays here.
const char* kFeatureInputs[2] = {"features", "h_in"};
// The live decoder's thresholds, and Accurate's own (train/mode_decoder.py).
const char* kDecoderKeys[2] = {"vocalmidi.decoder", "vocalmidi.decoder.accurate"};
// Order of NoteModel::outs, then the two state outputs.
const char* kOutputs[7] = {"onset", "sounding", "note", "note_conf", "pitch", "ctx_out", "h_out"};
const char* kFeatureOutputs[2] = {"head", "h_out"};

std::string shapeText(const std::vector<int64_t>& s) {
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
    return t + "]";
}

bool metaEquals(Ort::ModelMetadata& meta, const char* key, const std::string& want, std::string& got) {
    Ort::AllocatorWithDefaultOptions alloc;
    auto v = meta.LookupCustomMetadataMapAllocated(key, alloc);
    got = v ? v.get() : "";
    return got == want;
}

}  // namespace

struct NoteModel::OneHop {
    // note-model/1: audio (hopAudio), ctx[side], h[side]; note-features/1: feats, h[side]
    std::vector<Ort::Value> in[2];
    // the five outputs, then ctx[1 - side] (note-model/1 only) and h[1 - side]
    std::vector<Ort::Value> out[2];
};

NoteModel::NoteModel(std::unique_ptr<Ort::Session> s, const Layout& layout)
    : session(std::move(s)),
      mem(std::make_unique<Ort::MemoryInfo>(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault))),
      numLayers(layout.layers),
      hidden(layout.hidden),
      oneFrame(layout.oneFrame) {
    if (layout.featuresIn) {
        frontEnd = std::make_unique<NoteFrontEnd>(layout.frontEnd);
        work.assign(static_cast<size_t>(kContext) + static_cast<size_t>(kMaxHops) * kHop, 0.0f);
        feats.assign(static_cast<size_t>(kMaxHops) * frontEnd->features(), 0.0f);
        head.assign(static_cast<size_t>(kMaxHops) * kHeadSize, 0.0f);
    }
    for (auto& c : ctx) c.assign(kContext, 0.0f);
    for (auto& v : h) v.assign(static_cast<size_t>(numLayers) * hidden, 0.0f);
    restH.assign(static_cast<size_t>(numLayers) * hidden, 0.0f);
    if (oneFrame) hBefore.assign(restH.size(), 0.0f);
    for (auto& o : outs) o.assign(kMaxHops, 0.0f);
    hopAudio.assign(kHop, 0.0f);
    oneHop = std::make_unique<OneHop>();
    const int64_t audioShape[2] = {1, kHop};
    const int64_t ctxShape[2] = {1, kContext};
    const int64_t hShape[3] = {numLayers, 1, hidden};
    const int64_t outShape[2] = {1, 1};
    const int64_t featShape[3] = {1, 1, frontEnd ? frontEnd->features() : 0};
    for (int side = 0; side < 2; ++side) {
        auto& in = oneHop->in[side];
        auto& out = oneHop->out[side];
        if (frontEnd) {
            in.push_back(Ort::Value::CreateTensor<float>(*mem, feats.data(), static_cast<size_t>(featShape[2]),
                                                         featShape, 3));
        } else {
            in.push_back(Ort::Value::CreateTensor<float>(*mem, hopAudio.data(), hopAudio.size(), audioShape, 2));
            in.push_back(Ort::Value::CreateTensor<float>(*mem, ctx[side].data(), ctx[side].size(), ctxShape, 2));
        }
        in.push_back(Ort::Value::CreateTensor<float>(*mem, h[side].data(), h[side].size(), hShape, 3));
        if (frontEnd) {
            const int64_t headShape[3] = {1, 1, kHeadSize};
            out.push_back(Ort::Value::CreateTensor<float>(*mem, head.data(), kHeadSize, headShape, 3));
        } else {
            for (auto& o : outs) out.push_back(Ort::Value::CreateTensor<float>(*mem, o.data(), 1, outShape, 2));
            out.push_back(Ort::Value::CreateTensor<float>(*mem, ctx[1 - side].data(), ctx[1 - side].size(), ctxShape, 2));
        }
        out.push_back(Ort::Value::CreateTensor<float>(*mem, h[1 - side].data(), h[1 - side].size(), hShape, 3));
    }
    // validate() has checked that the tuned decoder settings parse.
    Ort::ModelMetadata meta = session->GetModelMetadata();
    Ort::AllocatorWithDefaultOptions alloc;
    auto tuned = meta.LookupCustomMetadataMapAllocated(kDecoderKeys[0], alloc);
    std::string error;
    if (tuned) NoteDecoderConfig::fromJson(tuned.get(), decoder, error);
    auto forAccurate = meta.LookupCustomMetadataMapAllocated(kDecoderKeys[1], alloc);
    hasAccurate = forAccurate && NoteDecoderConfig::fromJson(forAccurate.get(), accurate, error);
}

NoteModel::~NoteModel() = default;

std::string NoteModel::validate(Ort::Session& s, Layout& layout) {
    Ort::AllocatorWithDefaultOptions alloc;
    Ort::ModelMetadata meta = s.GetModelMetadata();
    std::string contract;
    const bool featuresIn = metaEquals(meta, "vocalmidi.contract", "note-features/1", contract);
    if (!featuresIn && contract != "note-model/1")
        return "metadata vocalmidi.contract must be note-model/1 or note-features/1, got '" + contract + "'";
    const char* const* inputNames = featuresIn ? kFeatureInputs : kInputs;
    const size_t inputCount = featuresIn ? 2 : 3;
    const char* const* outputNames = featuresIn ? kFeatureOutputs : kOutputs;
    const size_t outputCount = featuresIn ? 2 : 7;

    std::vector<std::string> ins, outsSeen;
    for (size_t i = 0; i < s.GetInputCount(); ++i) ins.push_back(s.GetInputNameAllocated(i, alloc).get());
    for (size_t i = 0; i < s.GetOutputCount(); ++i) outsSeen.push_back(s.GetOutputNameAllocated(i, alloc).get());
    const std::string want = featuresIn ? "a note-features/1 graph (docs/note-model.md) needs inputs features, h_in "
                                          "and outputs head, h_out"
                                        : "a note-model/1 graph (docs/note-model.md) needs inputs audio, ctx_in, h_in "
                                          "and outputs onset, sounding, note, note_conf, pitch, ctx_out, h_out";
    if (ins.size() != inputCount) return want + "; this graph has " + std::to_string(ins.size()) + " inputs";
    for (size_t i = 0; i < inputCount; ++i)
        if (std::find(ins.begin(), ins.end(), inputNames[i]) == ins.end())
            return want + "; input " + inputNames[i] + " is missing";
    for (size_t i = 0; i < outputCount; ++i)
        if (std::find(outsSeen.begin(), outsSeen.end(), outputNames[i]) == outsSeen.end())
            return want + "; output " + outputNames[i] + " is missing";

    auto inShape = [&](const char* name) {
        const size_t i = static_cast<size_t>(std::find(ins.begin(), ins.end(), name) - ins.begin());
        // The shape info views the type info: keep it alive while reading.
        Ort::TypeInfo type = s.GetInputTypeInfo(i);
        auto info = type.GetTensorTypeAndShapeInfo();
        return std::make_pair(info.GetElementType(), info.GetShape());
    };
    for (size_t i = 0; i < inputCount; ++i)
        if (inShape(inputNames[i]).first != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
            return std::string("input ") + inputNames[i] + " must be float32";
    Layout found;
    found.featuresIn = featuresIn;
    std::string got;
    if (featuresIn) {
        Ort::AllocatorWithDefaultOptions a;
        auto model = meta.LookupCustomMetadataMapAllocated("vocalmidi.model", a);
        if (!model) return "a note-features/1 graph needs metadata vocalmidi.model (its front end)";
        std::string why;
        if (!FrontEndConfig::fromJson(model.get(), found.frontEnd, why)) return why;
        const auto f = inShape("features").second;
        const int want = found.frontEnd.features();
        if (f.size() != 3 || f[0] != 1 || f[1] > 1 || f[1] == 0 || f[2] != want)
            return "input features must be [1, n, " + std::to_string(want) +
                   "] (n free, or 1; the front end vocalmidi.model names), got " + shapeText(f);
        found.oneFrame = f[1] == 1;
        const size_t at = static_cast<size_t>(std::find(outsSeen.begin(), outsSeen.end(), "head") - outsSeen.begin());
        Ort::TypeInfo type = s.GetOutputTypeInfo(at);
        const auto hd = type.GetTensorTypeAndShapeInfo().GetShape();
        if (hd.size() != 3 || hd[0] != 1 || (found.oneFrame ? hd[1] != 1 : hd[1] > 0) || hd[2] != kHeadSize)
            return "output head must be [1, n, " + std::to_string(kHeadSize) + "] with the frames of input features (" +
                   shapeText(f) + "), got " + shapeText(hd);
    } else {
        const auto audio = inShape("audio").second;
        if (audio.size() != 2 || audio[0] != 1 || audio[1] > 0)
            return "input audio must be [1, 80n] with a free length (n hops per call), got " + shapeText(audio);
        const auto c = inShape("ctx_in").second;
        if (c.size() != 2 || c[0] != 1 || c[1] != kContext)
            return "input ctx_in must be [1, " + std::to_string(kContext) + "], got " + shapeText(c);
    }
    const auto hs = inShape("h_in").second;
    if (hs.size() != 3 || hs[0] <= 0 || hs[1] != 1 || hs[2] <= 0)
        return "input h_in must be [L, 1, H] with L and H fixed in the graph, got " + shapeText(hs);
    if (hs[0] * hs[2] > (1 << 20)) return "recurrent state h_in " + shapeText(hs) + " is implausibly large";

    if (!metaEquals(meta, "vocalmidi.hop", std::to_string(kHop), got))
        return "metadata vocalmidi.hop must be " + std::to_string(kHop) + ", got '" + got + "'";
    if (!metaEquals(meta, "vocalmidi.sample_rate", std::to_string(kRate), got))
        return "metadata vocalmidi.sample_rate must be " + std::to_string(kRate) + ", got '" + got + "'";
    if (!metaEquals(meta, "vocalmidi.lookahead_hops", std::to_string(kLookaheadHops), got))
        return "metadata vocalmidi.lookahead_hops must be " + std::to_string(kLookaheadHops) + ", got '" + got + "'";
    for (const char* key : kDecoderKeys) {
        Ort::AllocatorWithDefaultOptions a;
        auto tuned = meta.LookupCustomMetadataMapAllocated(key, a);
        NoteDecoderConfig probe;
        std::string why;
        if (tuned && !NoteDecoderConfig::fromJson(tuned.get(), probe, why))
            return std::string("metadata ") + key + ": " + why;
    }
    found.layers = static_cast<int>(hs[0]);
    found.hidden = static_cast<int>(hs[2]);
    layout = found;
    return {};
}

bool NoteModel::analyse(const float*, int64_t, int64_t, int64_t, int, LatencyMode, FrameResult*,
                        std::string& error) {
    error = "internal: the note model decides notes itself (NoteModel::step), it is not a pitch model";
    return false;
}

void NoteModel::resetState() {
    for (auto& c : ctx) std::fill(c.begin(), c.end(), 0.0f);
    for (auto& v : h) std::copy(restH.begin(), restH.end(), v.begin());
    cur = 0;
}

bool NoteModel::warmUp(std::string& error) {
    // The first Run allocates arenas and picks kernels: do it here for the shapes the ML
    // thread uses (one hop, and a backlog), not on the first hop of live audio.
    std::vector<float> audio(static_cast<size_t>(kHop) * 8);
    for (size_t i = 0; i < audio.size(); ++i) audio[i] = 1e-2f * static_cast<float>((i * 7919) % 13) / 13.0f;
    NoteFrame f[8];
    bool ok = step(audio.data(), 1, f, error) && step(audio.data(), 8, f, error);
    for (int i = 0; ok && i < 8; ++i)
        if (!std::isfinite(f[i].onset) || !std::isfinite(f[i].sounding) || !std::isfinite(f[i].pitch)) {
            error = "the note model returned non-finite outputs on its warm-up audio";
            ok = false;
        }
    // The rest state: kRestHops of silence from zero, in one call (export.py REST_HOPS).
    std::fill(restH.begin(), restH.end(), 0.0f);
    resetState();
    std::vector<float> silence(static_cast<size_t>(kHop) * kRestHops, 0.0f);
    std::vector<NoteFrame> ignored(kRestHops);
    ok = ok && step(silence.data(), kRestHops, ignored.data(), error);
    if (ok) std::copy(h[cur].begin(), h[cur].end(), restH.begin());
    for (size_t i = 0; ok && i < restH.size(); ++i)
        if (!std::isfinite(restH[i])) {
            error = "the note model's state after silence is not finite";
            ok = false;
        }
    if (!ok) std::fill(restH.begin(), restH.end(), 0.0f);
    resetState();
    return ok;
}

bool NoteModel::step(const float* audio, int hops, NoteFrame* out, std::string& error) {
    if (hops < 1 || hops > kMaxHops) {
        error = "internal: note model call with " + std::to_string(hops) + " hops (1.." + std::to_string(kMaxHops) + ")";
        return false;
    }
    const int next = 1 - cur;
    // note-features/1 names its tensors differently and has no context tensors.
    const char* const* inNames = frontEnd ? kFeatureInputs : kInputs;
    const char* const* outNames = frontEnd ? kFeatureOutputs : kOutputs;
    const size_t inCount = frontEnd ? 2 : 3, outCount = frontEnd ? 2 : 7;
    try {
        if (frontEnd) computeFeatures(audio, hops);
        if (hops == 1) {
            if (!frontEnd) std::memcpy(hopAudio.data(), audio, sizeof(float) * kHop);
            session->Run(Ort::RunOptions{nullptr}, inNames, oneHop->in[cur].data(), inCount, outNames,
                         oneHop->out[cur].data(), outCount);
            cur = next;
            return readFrames(1, out);
        }
        if (oneFrame) return stepHopByHop(hops, out, error);
        const int64_t audioShape[2] = {1, static_cast<int64_t>(hops) * kHop};
        const int64_t ctxShape[2] = {1, kContext};
        const int64_t hShape[3] = {numLayers, 1, hidden};
        const int64_t outShape[2] = {1, hops};
        if (frontEnd) {
            const int64_t featShape[3] = {1, hops, frontEnd->features()};
            Ort::Value inputs[2] = {
                Ort::Value::CreateTensor<float>(*mem, feats.data(), static_cast<size_t>(hops) * featShape[2],
                                                featShape, 3),
                Ort::Value::CreateTensor<float>(*mem, h[cur].data(), h[cur].size(), hShape, 3)};
            const int64_t headShape[3] = {1, hops, kHeadSize};
            Ort::Value outputs[2] = {
                Ort::Value::CreateTensor<float>(*mem, head.data(), static_cast<size_t>(hops) * kHeadSize, headShape, 3),
                Ort::Value::CreateTensor<float>(*mem, h[next].data(), h[next].size(), hShape, 3)};
            session->Run(Ort::RunOptions{nullptr}, inNames, inputs, 2, outNames, outputs, 2);
            cur = next;
            return readFrames(hops, out);
        }
        // Tensors wrap buffers allocated at construction; ORT writes the outputs in place.
        Ort::Value inputs[3] = {
            Ort::Value::CreateTensor<float>(*mem, const_cast<float*>(audio), static_cast<size_t>(hops) * kHop,
                                            audioShape, 2),
            Ort::Value::CreateTensor<float>(*mem, ctx[cur].data(), ctx[cur].size(), ctxShape, 2),
            Ort::Value::CreateTensor<float>(*mem, h[cur].data(), h[cur].size(), hShape, 3)};
        Ort::Value outputs[7] = {
            Ort::Value::CreateTensor<float>(*mem, outs[0].data(), static_cast<size_t>(hops), outShape, 2),
            Ort::Value::CreateTensor<float>(*mem, outs[1].data(), static_cast<size_t>(hops), outShape, 2),
            Ort::Value::CreateTensor<float>(*mem, outs[2].data(), static_cast<size_t>(hops), outShape, 2),
            Ort::Value::CreateTensor<float>(*mem, outs[3].data(), static_cast<size_t>(hops), outShape, 2),
            Ort::Value::CreateTensor<float>(*mem, outs[4].data(), static_cast<size_t>(hops), outShape, 2),
            Ort::Value::CreateTensor<float>(*mem, ctx[next].data(), ctx[next].size(), ctxShape, 2),
            Ort::Value::CreateTensor<float>(*mem, h[next].data(), h[next].size(), hShape, 3)};
        session->Run(Ort::RunOptions{nullptr}, kInputs, inputs, 3, kOutputs, outputs, 7);
    } catch (const Ort::Exception& e) {
        error = std::string("note model inference failed: ") + e.what();
        return false;
    }
    cur = next;
    return readFrames(hops, out);
}

bool NoteModel::stepHopByHop(int hops, NoteFrame* out, std::string& error) {
    // The features of all `hops` are in `feats` (computeFeatures); each call reads its row
    // and writes its head row, the recurrent state alternating sides.
    const int first = cur;
    std::copy(h[first].begin(), h[first].end(), hBefore.begin());
    const int f = frontEnd->features();
    const int64_t featShape[3] = {1, 1, f};
    const int64_t headShape[3] = {1, 1, kHeadSize};
    const int64_t hShape[3] = {numLayers, 1, hidden};
    int side = first;
    try {
        for (int j = 0; j < hops; ++j, side = 1 - side) {
            Ort::Value inputs[2] = {
                Ort::Value::CreateTensor<float>(*mem, feats.data() + static_cast<size_t>(j) * f,
                                                static_cast<size_t>(f), featShape, 3),
                Ort::Value::CreateTensor<float>(*mem, h[side].data(), h[side].size(), hShape, 3)};
            Ort::Value outputs[2] = {
                Ort::Value::CreateTensor<float>(*mem, head.data() + static_cast<size_t>(j) * kHeadSize, kHeadSize,
                                                headShape, 3),
                Ort::Value::CreateTensor<float>(*mem, h[1 - side].data(), h[1 - side].size(), hShape, 3)};
            session->Run(Ort::RunOptions{nullptr}, kFeatureInputs, inputs, 2, kFeatureOutputs, outputs, 2);
        }
    } catch (const Ort::Exception& e) {
        std::copy(hBefore.begin(), hBefore.end(), h[first].begin());  // as it was; ctx[first] is untouched
        error = std::string("note model inference failed: ") + e.what();
        return false;
    }
    // computeFeatures put the new context on side 1 - first: the state goes there too.
    if (side == first) std::copy(h[side].begin(), h[side].end(), h[1 - first].begin());
    cur = 1 - first;
    return readFrames(hops, out);
}

void NoteModel::computeFeatures(const float* audio, int hops) {
    std::copy(ctx[cur].begin(), ctx[cur].end(), work.begin());
    std::copy(audio, audio + static_cast<size_t>(hops) * kHop, work.begin() + kContext);
    const int f = frontEnd->features();
    for (int j = 0; j < hops; ++j)  // frame j: the window that ends with hop j
        frontEnd->compute(work.data() + static_cast<size_t>(j) * kHop, feats.data() + static_cast<size_t>(j) * f);
    const auto tail = work.begin() + static_cast<size_t>(hops) * kHop;
    std::copy(tail, tail + kContext, ctx[1 - cur].begin());
}

namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// One frame of the raw head -> the five outputs (export.head_outputs in Python).
NoteFrame fromHead(const float* r) {
    constexpr int notes = NoteModel::kHeadSize - 3;
    const float* z = r + 2;
    const int top = static_cast<int>(std::max_element(z, z + notes) - z);
    float sum = 0.0f;
    for (int k = 0; k < notes; ++k) sum += std::exp(z[k] - z[top]);
    const float note = static_cast<float>(top + NoteModel::kNoteMin);
    return NoteFrame{sigmoid(r[0]), sigmoid(r[1]), note, 1.0f / sum, note + r[NoteModel::kHeadSize - 1]};
}

}  // namespace

bool NoteModel::readFrames(int hops, NoteFrame* out) const {
    for (int i = 0; i < hops; ++i) {
        NoteFrame f = frontEnd ? fromHead(head.data() + static_cast<size_t>(i) * kHeadSize)
                               : NoteFrame{outs[0][i], outs[1][i], outs[2][i], outs[3][i], outs[4][i]};
        // A broken frame is silence, never a note.
        if (!std::isfinite(f.onset) || !std::isfinite(f.sounding) || !std::isfinite(f.note) ||
            !std::isfinite(f.noteConf) || !std::isfinite(f.pitch))
            f = NoteFrame{};
        out[i] = f;
    }
    return true;
}

}  // namespace vocalmidi
