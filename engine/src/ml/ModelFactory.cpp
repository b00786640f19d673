#include "ml/ModelFactory.h"

#include <fstream>
#include <vector>

#include <onnxruntime_cxx_api.h>

#include "ml/BasicPitchModel.h"
#include "ml/FramewiseModel.h"
#include "ml/NoteModel.h"
#include "ml/OrtRuntime.h"
#include "ml/SwiftF0Model.h"
#include "vocalmidi/Engine.h"

namespace vocalmidi {

namespace {

const char* kFix = "run `vocalmidi models pull` to fetch a verified copy";

std::unique_ptr<PitchModel> adapterFor(ModelKind kind, std::unique_ptr<Ort::Session> session,
                                       std::string& why) {
    switch (kind) {
        case ModelKind::SwiftF0:
            why = SwiftF0Model::validate(*session);
            if (!why.empty()) return nullptr;
            return std::make_unique<SwiftF0Model>(std::move(session));
        case ModelKind::CrepeTiny:
        case ModelKind::Pesto: {
            int w = 0;
            why = FramewiseModel::validate(*session, w);
            if (!why.empty()) return nullptr;
            return std::make_unique<FramewiseModel>(kind, std::move(session), w);
        }
        case ModelKind::BasicPitch:
            why = BasicPitchModel::validate(*session);
            if (!why.empty()) return nullptr;
            return std::make_unique<BasicPitchModel>(std::move(session));
        case ModelKind::VocalNote: {
            NoteModel::Layout layout;
            why = NoteModel::validate(*session, layout);
            if (!why.empty()) return nullptr;
            return std::make_unique<NoteModel>(std::move(session), layout);
        }
    }
    why = "unknown model kind";
    return nullptr;
}

}  // namespace

std::unique_ptr<PitchModel> ModelFactory::load(ModelKind kind, const std::string& path, Device device,
                                               DeviceUse& used, std::string& error) {
    const std::string id = modelKindId(kind);
    {
        std::ifstream f(path, std::ios::binary);
        if (!f) {
            error = "model file not found: " + path + " (" + id + "); " + kFix;
            return nullptr;
        }
        f.seekg(0, std::ios::end);
        if (f.tellg() <= 0) {
            error = "model file is empty: " + path + " (" + id + "); delete it and " + kFix;
            return nullptr;
        }
    }
    std::unique_ptr<Ort::Session> session;
    try {
        session = OrtRuntime::openSession(path, device, used);
    } catch (const Ort::Exception& e) {
        error = "model file is not a loadable ONNX model: " + path + " (" + e.what() +
                "); delete it and " + kFix;
        return nullptr;
    }
    std::string why;
    std::unique_ptr<PitchModel> model;
    try {
        model = adapterFor(kind, std::move(session), why);
    } catch (const Ort::Exception& e) {
        why = e.what();
    }
    if (!model) {
        error = "model file " + path + " does not fit the " + id + " adapter: " + why +
                "; check the model kind, or " + kFix;
        return nullptr;
    }
    if (!model->warmUp(why)) {
        error = "model " + path + " failed its warm-up run: " + why + "; " + kFix;
        return nullptr;
    }
    return model;
}

}  // namespace vocalmidi
