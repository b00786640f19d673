// Reads the model cache that `vocalmidi models pull` fills (docs/CONTRACTS.md): finds a
// model's ONNX file and checks its SHA-256 against the cache's manifest before the engine
// loads it.
//
// Thread: any but audio (it reads files and allocates); one instance per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vocalmidi/Types.h"

namespace vocalmidi {

// One model of the cache manifest, resolved to its ONNX file.
struct CachedModel {
    std::string id;          // e.g. "swiftf0"
    std::string adapter;     // the engine's ModelKind id
    ModelKind kind = ModelKind::SwiftF0;
    std::string onnxPath;    // <root>/models/<id>/<file>
    std::string sha256;      // expected, lower-case hex
    uint64_t size = 0;       // expected bytes (0 = not given)
};

class ModelCache {
public:
    // $VOCALMIDI_CACHE, else the per-user cache folder the Python side uses
    // (platformdirs.user_cache_dir("vocalmidi")).
    static std::string defaultRoot();

    explicit ModelCache(std::string root = defaultRoot());

    const std::string& root() const { return rootDir; }
    std::string manifestPath() const;

    // Reads <root>/manifest.json; false with a one-line reason (and the fix) in error.
    bool load(std::string& error);
    bool isLoaded() const { return loaded; }

    const std::string& defaultModelId() const { return defaultId; }
    std::vector<std::string> modelIds() const;

    // Finds model `id` ("" = the manifest's default_model) and checks its file is there
    // with the expected size. Needs load() first.
    bool resolve(const std::string& id, CachedModel& out, std::string& error) const;

    // Checks the file's SHA-256 against the manifest's.
    static bool verify(const CachedModel& model, std::string& error);

    // load() (when not yet loaded) + resolve() + verify(): what a loader calls.
    bool locate(const std::string& id, CachedModel& out, std::string& error);

    // The command that fetches a model, for messages: "vocalmidi models pull <id>".
    static std::string pullCommand(const std::string& id);

private:
    std::string rootDir;
    std::string defaultId;
    std::vector<CachedModel> models;
    bool loaded = false;
};

}  // namespace vocalmidi
