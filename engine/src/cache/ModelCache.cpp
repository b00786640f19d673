#include "vocalmidi/ModelCache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "Sha256.h"
#include "vocalmidi/Engine.h"

namespace fs = std::filesystem;

namespace vocalmidi {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

fs::path utf8Path(const std::string& s) {
#if defined(_WIN32)
    return fs::u8path(s);
#else
    return fs::path(s);
#endif
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'F')
            c = char(c - 'A' + 'a');
    return s;
}

// The model to pull when the cache itself is missing or broken: the default (our note model).
const std::string kDefaultPullId = "vocalnote-s";

// The ONNX file of a manifest entry: the one with role "onnx", else the only *.onnx file.
const nlohmann::json* onnxFileOf(const nlohmann::json& entry) {
    const auto files = entry.find("files");
    if (files == entry.end() || !files->is_array())
        return nullptr;
    const nlohmann::json* byName = nullptr;
    int onnxNamed = 0;
    for (const auto& f : *files) {
        if (!f.is_object() || !f.contains("name") || !f["name"].is_string())
            continue;
        if (f.value("role", std::string()) == "onnx")
            return &f;
        const auto name = f["name"].get<std::string>();
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".onnx") == 0) {
            byName = &f;
            ++onnxNamed;
        }
    }
    return onnxNamed == 1 ? byName : nullptr;
}

}  // namespace

std::string ModelCache::defaultRoot() {
    const std::string override = envOr("VOCALMIDI_CACHE", "");
    // Absolute, like the Python side resolves it: hosts (and JUCE's File) need absolute
    // paths, and a relative one would otherwise depend on the host's working folder.
    if (!override.empty()) {
        std::error_code ec;
        const fs::path abs = fs::absolute(utf8Path(override), ec);
        return ec ? override : abs.u8string();
    }
#if defined(_WIN32)
    // platformdirs puts the app author (= app name) before the app name on Windows.
    return (utf8Path(envOr("LOCALAPPDATA", envOr("USERPROFILE", ".") + "\\AppData\\Local")) /
            "vocalmidi" / "vocalmidi" / "Cache").u8string();
#elif defined(__APPLE__)
    return (fs::path(envOr("HOME", ".")) / "Library" / "Caches" / "vocalmidi").string();
#else
    std::string xdg = envOr("XDG_CACHE_HOME", "");
    // The XDG spec ignores relative paths.
    if (xdg.empty() || xdg[0] != '/')
        xdg = (fs::path(envOr("HOME", ".")) / ".cache").string();
    return (fs::path(xdg) / "vocalmidi").string();
#endif
}

ModelCache::ModelCache(std::string root) : rootDir(std::move(root)) {}

std::string ModelCache::manifestPath() const {
    return (utf8Path(rootDir) / "manifest.json").string();
}

std::string ModelCache::pullCommand(const std::string& id) {
    return "vocalmidi models pull " + (id.empty() ? kDefaultPullId : id);
}

bool ModelCache::load(std::string& error) {
    loaded = false;
    models.clear();
    defaultId.clear();
    const std::string path = manifestPath();
    std::error_code ec;
    if (!fs::exists(utf8Path(path), ec)) {
        error = "no model cache at " + rootDir + " (manifest.json missing): run: " +
                pullCommand(kDefaultPullId);
        return false;
    }
    nlohmann::json doc;
    try {
        std::ifstream in(utf8Path(path), std::ios::binary);
        if (!in) {
            error = "cannot read " + path + ": check its permissions";
            return false;
        }
        doc = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        error = "the model cache manifest " + path + " is not valid JSON (" + e.what() +
                "): run: " + pullCommand(kDefaultPullId) + " to rewrite it";
        return false;
    }
    if (!doc.is_object() || !doc.contains("models")) {
        error = "the model cache manifest " + path + " has no \"models\": run: " +
                pullCommand(kDefaultPullId) + " to rewrite it";
        return false;
    }
    defaultId = doc.value("default_model", std::string());

    // "models" is a list of entries with "id"; a map of id -> entry is accepted too.
    std::vector<std::pair<std::string, const nlohmann::json*>> entries;
    const auto& list = doc["models"];
    if (list.is_array()) {
        for (const auto& e : list)
            if (e.is_object() && e.contains("id") && e["id"].is_string())
                entries.emplace_back(e["id"].get<std::string>(), &e);
    } else if (list.is_object()) {
        for (auto it = list.begin(); it != list.end(); ++it)
            if (it.value().is_object())
                entries.emplace_back(it.key(), &it.value());
    }
    for (const auto& [id, entry] : entries) {
        CachedModel m;
        m.id = id;
        m.adapter = entry->value("adapter", id);
        if (!modelKindFromId(m.adapter, m.kind))
            continue;  // an adapter this build does not know (resolve() says so by id)
        if (const nlohmann::json* f = onnxFileOf(*entry)) {
            const auto name = (*f)["name"].get<std::string>();
            m.onnxPath = (utf8Path(rootDir) / "models" / id / utf8Path(name)).string();
            m.sha256 = lower(f->value("sha256", std::string()));
            if (f->contains("size") && (*f)["size"].is_number_unsigned())
                m.size = (*f)["size"].get<uint64_t>();
        }
        models.push_back(std::move(m));
    }
    loaded = true;
    return true;
}

std::vector<std::string> ModelCache::modelIds() const {
    std::vector<std::string> ids;
    for (const auto& m : models)
        ids.push_back(m.id);
    return ids;
}

bool ModelCache::resolve(const std::string& requested, CachedModel& out, std::string& error) const {
    if (!loaded) {
        error = "the model cache manifest was not read yet";
        return false;
    }
    const std::string id = requested.empty() ? defaultId : requested;
    if (id.empty()) {
        error = "the model cache manifest " + manifestPath() +
                " names no default_model: choose a model, or run: " + pullCommand(kDefaultPullId);
        return false;
    }
    const CachedModel* found = nullptr;
    for (const auto& m : models)
        if (m.id == id)
            found = &m;
    if (found == nullptr) {
        std::string known;
        for (const auto& m : models)
            known += (known.empty() ? "" : ", ") + m.id;
        error = "model '" + id + "' is not in the model cache (" +
                (known.empty() ? std::string("it holds none") : "it knows: " + known) +
                "): run: " + pullCommand(id);
        return false;
    }
    if (found->onnxPath.empty() || found->sha256.size() != 64) {
        error = "the model cache manifest names no ONNX file with a SHA-256 for '" + id +
                "': run: " + pullCommand(id) + " to rewrite it";
        return false;
    }
    std::error_code ec;
    const auto p = utf8Path(found->onnxPath);
    if (!fs::is_regular_file(p, ec)) {
        error = "model '" + id + "' is not pulled (" + found->onnxPath + " missing): run: " +
                pullCommand(id);
        return false;
    }
    const auto actual = fs::file_size(p, ec);
    if (!ec && found->size != 0 && actual != found->size) {
        error = "model '" + id + "' is corrupt (" + found->onnxPath + " has " +
                std::to_string(actual) + " bytes, expected " + std::to_string(found->size) +
                "): delete it and run: " + pullCommand(id);
        return false;
    }
    out = *found;
    return true;
}

bool ModelCache::verify(const CachedModel& model, std::string& error) {
    std::string actual;
    if (!Sha256::ofFile(model.onnxPath, actual, error)) {
        error = "model '" + model.id + "' is unreadable (" + error + "): run: " +
                pullCommand(model.id);
        return false;
    }
    if (actual != model.sha256) {
        error = "model '" + model.id + "' is corrupt (" + model.onnxPath + ": SHA-256 " +
                actual.substr(0, 12) + "..., expected " + model.sha256.substr(0, 12) +
                "...): delete it and run: " + pullCommand(model.id);
        return false;
    }
    return true;
}

bool ModelCache::locate(const std::string& id, CachedModel& out, std::string& error) {
    if (!loaded && !load(error))
        return false;
    CachedModel m;
    if (!resolve(id, m, error) || !verify(m, error))
        return false;
    out = std::move(m);
    return true;
}

}  // namespace vocalmidi
