// Loads the chosen pitch model into the engine on its own thread: finds it in the model
// cache, checks its SHA-256, then hands it to Engine::loadModel (which swaps it in) with the
// chosen device; a new device reloads the model the same way.
// A missing or corrupt model leaves the engine as it was and the status says how to fix it.
//
// Thread: request() any (audio included: it only stores atomics); wake(), waitUntilSettled(),
// status() any thread but audio; the callback runs on the loader thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "vocalmidi/Engine.h"

namespace vocalmidi::plugin {

class ModelLoader {
public:
    struct Status {
        ModelState state = ModelState::None;
        std::string requested;  // model id the parameter asks for
        std::string active;     // model id the engine runs ("" = none)
        std::string message;    // what is wrong and how to fix it; empty when fine
        Device device = Device::Cpu;  // where the active model runs
        std::string deviceNote;       // why the CPU although CUDA was chosen; else empty
    };

    ModelLoader(Engine& engine, std::function<void()> onSettled);
    ~ModelLoader();

    void request(int modelIndex, Device device, bool realtime);
    void wake();
    // True once the latest request has been tried (loaded or failed); false on timeout.
    bool waitUntilSettled(int timeoutMs);
    bool isSettled() const;
    Status status() const;

private:
    void run();
    void loadWanted(int index, Device device, bool realtime);

    Engine& engine;
    std::function<void()> onSettled;

    std::atomic<int> wantedIndex{0};
    std::atomic<bool> wantedRealtime{true};
    std::atomic<int> handledIndex{-1};
    std::atomic<bool> handledRealtime{true};
    std::atomic<int> wantedDevice{int(Device::Auto)};
    std::atomic<int> handledDevice{-1};
    int activeIndex = -1;  // loader thread only
    Device activeDevice = Device::Auto;  // loader thread only

    mutable std::mutex mutex;
    std::condition_variable wakeCv;
    std::condition_variable settledCv;
    Status current;
    bool stopping = false;
    bool woken = false;
    std::thread worker;
};

}  // namespace vocalmidi::plugin
