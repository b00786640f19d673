#include "ml/NoteModel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <onnxruntime_cxx_api.h>

namespace vocalmidi {

namespace {

const char* kInputs[3] = {"audio", "ctx_in", "h_in"};
// The live decoder's thresholds, and Accurate's own (train/mode_decoder.py).
const char* kDecoderKeys[2] = {"vocalmidi.decoder", "vocalmidi.decoder.accurate"};
// Order of NoteModel::outs, then the two state outputs.
const char* kOutputs[7] = {"onset", "sounding", "note", "note_conf", "pitch", "ctx_out", "h_out"};

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
    std::vector<Ort::Value> in[2];   // audio (hopAudio), ctx[side], h[side]
    std::vector<Ort::Value> out[2];  // the five outputs, ctx[1 - side], h[1 - side]
};

NoteModel::NoteModel(std::unique_ptr<Ort::Session> s, int l, int hsize)
    : session(std::move(s)),
      mem(std::make_unique<Ort::MemoryInfo>(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault))),
      numLayers(l),
      hidden(hsize) {
    for (auto& c : ctx) c.assign(kContext, 0.0f);
    for (auto& v : h) v.assign(static_cast<size_t>(numLayers) * hidden, 0.0f);
    restH.assign(static_cast<size_t>(numLayers) * hidden, 0.0f);
    for (auto& o : outs) o.assign(kMaxHops, 0.0f);
    hopAudio.assign(kHop, 0.0f);
    oneHop = std::make_unique<OneHop>();
    const int64_t audioShape[2] = {1, kHop};
    const int64_t ctxShape[2] = {1, kContext};
    const int64_t hShape[3] = {numLayers, 1, hidden};
    const int64_t outShape[2] = {1, 1};
    for (int side = 0; side < 2; ++side) {
        auto& in = oneHop->in[side];
        auto& out = oneHop->out[side];
        in.push_back(Ort::Value::CreateTensor<float>(*mem, hopAudio.data(), hopAudio.size(), audioShape, 2));
        in.push_back(Ort::Value::CreateTensor<float>(*mem, ctx[side].data(), ctx[side].size(), ctxShape, 2));
        in.push_back(Ort::Value::CreateTensor<float>(*mem, h[side].data(), h[side].size(), hShape, 3));
        for (auto& o : outs) out.push_back(Ort::Value::CreateTensor<float>(*mem, o.data(), 1, outShape, 2));
        out.push_back(Ort::Value::CreateTensor<float>(*mem, ctx[1 - side].data(), ctx[1 - side].size(), ctxShape, 2));
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

std::string NoteModel::validate(Ort::Session& s, int& layers, int& hiddenOut) {
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::string> ins, outsSeen;
    for (size_t i = 0; i < s.GetInputCount(); ++i) ins.push_back(s.GetInputNameAllocated(i, alloc).get());
    for (size_t i = 0; i < s.GetOutputCount(); ++i) outsSeen.push_back(s.GetOutputNameAllocated(i, alloc).get());
    const std::string want = "a note-model/1 graph (docs/note-model.md) needs inputs audio, ctx_in, h_in "
                             "and outputs onset, sounding, note, note_conf, pitch, ctx_out, h_out";
    if (ins.size() != 3) return want + "; this graph has " + std::to_string(ins.size()) + " inputs";
    for (const char* n : kInputs)
        if (std::find(ins.begin(), ins.end(), n) == ins.end()) return want + "; input " + n + " is missing";
    for (const char* n : kOutputs)
        if (std::find(outsSeen.begin(), outsSeen.end(), n) == outsSeen.end())
            return want + "; output " + n + " is missing";

    auto inShape = [&](const char* name) {
        const size_t i = static_cast<size_t>(std::find(ins.begin(), ins.end(), name) - ins.begin());
        // The shape info views the type info: keep it alive while reading.
        Ort::TypeInfo type = s.GetInputTypeInfo(i);
        auto info = type.GetTensorTypeAndShapeInfo();
        return std::make_pair(info.GetElementType(), info.GetShape());
    };
    for (const char* n : kInputs)
        if (inShape(n).first != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) return std::string("input ") + n + " must be float32";
    const auto audio = inShape("audio").second;
    if (audio.size() != 2 || audio[0] != 1 || audio[1] > 0)
        return "input audio must be [1, 80n] with a free length (n hops per call), got " + shapeText(audio);
    const auto c = inShape("ctx_in").second;
    if (c.size() != 2 || c[0] != 1 || c[1] != kContext)
        return "input ctx_in must be [1, " + std::to_string(kContext) + "], got " + shapeText(c);
    const auto hs = inShape("h_in").second;
    if (hs.size() != 3 || hs[0] <= 0 || hs[1] != 1 || hs[2] <= 0)
        return "input h_in must be [L, 1, H] with L and H fixed in the graph, got " + shapeText(hs);
    if (hs[0] * hs[2] > (1 << 20)) return "recurrent state h_in " + shapeText(hs) + " is implausibly large";

    Ort::ModelMetadata meta = s.GetModelMetadata();
    std::string got;
    if (!metaEquals(meta, "vocalmidi.contract", "note-model/1", got))
        return "metadata vocalmidi.contract must be note-model/1, got '" + got + "'";
    if (!metaEquals(meta, "vocalmidi.hop", std::to_string(kHop), got))
        return "metadata vocalmidi.hop must be " + std::to_string(kHop) + ", got '" + got + "'";
    if (!metaEquals(meta, "vocalmidi.sample_rate", std::to_string(kRate), got))
        return "metadata vocalmidi.sample_rate must be " + std::to_string(kRate) + ", got '" + got + "'";
    if (!metaEquals(meta, "vocalmidi.lookahead_hops", std::to_string(kLookaheadHops), got))
        return "metadata vocalmidi.lookahead_hops must be " + std::to_string(kLookaheadHops) + ", got '" + got + "'";
    for (const char* key : kDecoderKeys) {
        Ort::AllocatorWithDefaultOptions alloc;
        auto tuned = meta.LookupCustomMetadataMapAllocated(key, alloc);
        NoteDecoderConfig probe;
        std::string why;
        if (tuned && !NoteDecoderConfig::fromJson(tuned.get(), probe, why))
            return std::string("metadata ") + key + ": " + why;
    }
    layers = static_cast<int>(hs[0]);
    hiddenOut = static_cast<int>(hs[2]);
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
    try {
        if (hops == 1) {
            std::memcpy(hopAudio.data(), audio, sizeof(float) * kHop);
            session->Run(Ort::RunOptions{nullptr}, kInputs, oneHop->in[cur].data(), 3, kOutputs,
                         oneHop->out[cur].data(), 7);
            cur = next;
            return readFrames(1, out);
        }
        const int64_t audioShape[2] = {1, static_cast<int64_t>(hops) * kHop};
        const int64_t ctxShape[2] = {1, kContext};
        const int64_t hShape[3] = {numLayers, 1, hidden};
        const int64_t outShape[2] = {1, hops};
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

bool NoteModel::readFrames(int hops, NoteFrame* out) const {
    for (int i = 0; i < hops; ++i) {
        NoteFrame f{outs[0][i], outs[1][i], outs[2][i], outs[3][i], outs[4][i]};
        // A broken frame is silence, never a note.
        if (!std::isfinite(f.onset) || !std::isfinite(f.sounding) || !std::isfinite(f.note) ||
            !std::isfinite(f.noteConf) || !std::isfinite(f.pitch))
            f = NoteFrame{};
        out[i] = f;
    }
    return true;
}

}  // namespace vocalmidi
