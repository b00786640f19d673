#include "ModelLoader.h"

#include <chrono>
#include <cstdio>

#include "ParameterLayout.h"
#include "vocalmidi/ModelCache.h"

namespace vocalmidi::plugin {

ModelLoader::ModelLoader(Engine& e, std::function<void()> cb) : engine(e), onSettled(std::move(cb)) {
    worker = std::thread([this] { run(); });
}

ModelLoader::~ModelLoader() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        stopping = true;
    }
    wakeCv.notify_all();
    worker.join();
}

void ModelLoader::request(int modelIndex, Device device, bool realtime) {
    wantedDevice.store(int(device), std::memory_order_release);
    wantedIndex.store(modelIndex, std::memory_order_release);
    wantedRealtime.store(realtime, std::memory_order_release);
}

void ModelLoader::wake() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        woken = true;
    }
    wakeCv.notify_all();
}

bool ModelLoader::isSettled() const {
    const int idx = wantedIndex.load(std::memory_order_acquire);
    // The realtime flag only changes the outcome for models that need offline rendering.
    const bool rtMatters = kModelChoices[size_t(idx)] == ModelKind::BasicPitch;
    return handledIndex.load(std::memory_order_acquire) == idx &&
           handledDevice.load(std::memory_order_acquire) == wantedDevice.load(std::memory_order_acquire) &&
           (!rtMatters || handledRealtime.load(std::memory_order_acquire) ==
                              wantedRealtime.load(std::memory_order_acquire));
}

bool ModelLoader::waitUntilSettled(int timeoutMs) {
    wake();
    std::unique_lock<std::mutex> lock(mutex);
    return settledCv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [this] { return isSettled(); });
}

ModelLoader::Status ModelLoader::status() const {
    std::lock_guard<std::mutex> lock(mutex);
    return current;
}

void ModelLoader::run() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex);
            // Polling as well as waking: request() may come from the audio thread, which must
            // not touch the mutex.
            wakeCv.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping || woken; });
            if (stopping)
                return;
            woken = false;
        }
        if (isSettled())
            continue;
        const int idx = wantedIndex.load(std::memory_order_acquire);
        const bool rt = wantedRealtime.load(std::memory_order_acquire);
        const int device = wantedDevice.load(std::memory_order_acquire);
        loadWanted(idx, Device(device), rt);
        {
            std::lock_guard<std::mutex> lock(mutex);
            handledDevice.store(device, std::memory_order_release);
            handledRealtime.store(rt, std::memory_order_release);
            handledIndex.store(idx, std::memory_order_release);
        }
        settledCv.notify_all();
        if (onSettled)
            onSettled();
    }
}

void ModelLoader::loadWanted(int index, Device device, bool realtime) {
    const ModelKind kind = kModelChoices[size_t(index)];
    const std::string id = modelIdFor(kind);
    const std::string activeId = activeIndex >= 0 ? modelIdFor(kModelChoices[size_t(activeIndex)]) : "";
    const auto setStatus = [&](ModelState state, std::string message) {
        std::lock_guard<std::mutex> lock(mutex);
        current.state = state;
        current.requested = id;
        current.active = activeIndex >= 0 ? modelIdFor(kModelChoices[size_t(activeIndex)]) : "";
        current.message = std::move(message);
    };
    const std::string keeping = activeId.empty() ? " (no notes until then)" : " (still using " + activeId + ")";

    // Before the "already active" check: a host going back from an offline bounce to live
    // playback leaves basic-pitch loaded, and the engine then refuses it (no notes).
    if (kind == ModelKind::BasicPitch && realtime) {
        const bool refusedLive = index == activeIndex;
        setStatus(ModelState::Failed, "basic-pitch needs 2 s of lookahead: use it for offline "
                                      "renders (bounce/export); for live use choose swiftf0, "
                                      "crepe-tiny or pesto" +
                                          (refusedLive ? std::string(" (no notes live)") : keeping));
        return;
    }
    if (index == activeIndex && device == activeDevice) {
        setStatus(ModelState::Ready, {});
        return;
    }
    setStatus(ModelState::Loading, "checking " + id + " in the model cache");

    ModelCache cache;
    CachedModel model;
    std::string error;
    if (!cache.locate(id, model, error)) {
        setStatus(ModelState::Failed, error + keeping);
        return;
    }
    setStatus(ModelState::Loading, "loading " + id);
    if (!engine.loadModel(model.kind, model.onnxPath, device)) {
        const auto es = engine.modelStatus();
        setStatus(ModelState::Failed, (es.message.empty() ? "cannot load " + model.onnxPath : es.message) + keeping);
        return;
    }
    activeIndex = index;
    activeDevice = device;
    const auto es = engine.modelStatus();
    {
        std::lock_guard<std::mutex> lock(mutex);
        current.device = es.device;
        current.deviceNote = es.deviceNote;
    }
    setStatus(ModelState::Ready, {});
    // Also for the host's log (this is the loader thread, never the audio thread).
    if (!es.deviceNote.empty())
        std::fprintf(stderr, "VocalMIDI: %s: %s\n", id.c_str(), es.deviceNote.c_str());
}

}  // namespace vocalmidi::plugin
