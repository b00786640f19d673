// The model cache reader: SHA-256 against FIPS 180-4 vectors and the system's sha256sum,
// and the errors a user sees for a missing, unknown or corrupt model.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "cache/Sha256.h"
#include "vocalmidi/ModelCache.h"

namespace fs = std::filesystem;
using vocalmidi::CachedModel;
using vocalmidi::ModelCache;
using vocalmidi::Sha256;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("vm-cache-test-" + std::to_string(std::random_device{}()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void writeFile(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

std::string systemSha256(const fs::path& p) {
    const std::string cmd = "sha256sum '" + p.string() + "'";
    std::FILE* pipe = popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[128] = {};
    const size_t n = std::fread(buf, 1, 64, pipe);
    pclose(pipe);
    return std::string(buf, n);
}

// A cache with one model "swiftf0" whose ONNX file holds `bytes`.
std::string makeCache(const fs::path& root, const std::string& bytes, const std::string& sha,
                      std::size_t size) {
    writeFile(root / "models" / "swiftf0" / "model.onnx", bytes);
    const std::string manifest = R"({"schema_version": 1, "default_model": "swiftf0", "models": [
      {"id": "swiftf0", "adapter": "swiftf0", "files": [
        {"name": "LICENSE", "sha256": "00", "size": 1},
        {"name": "model.onnx", "role": "onnx", "sha256": ")" + sha + R"(", "size": )" +
                                 std::to_string(size) + R"(}]},
      {"id": "crepe-tiny", "adapter": "crepe-tiny", "files": [
        {"name": "crepe-tiny.onnx", "role": "onnx", "sha256": ")" + std::string(64, 'a') + R"(", "size": 10}]}]})";
    writeFile(root / "manifest.json", manifest);
    return (root / "models" / "swiftf0" / "model.onnx").string();
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 example vectors") {
    CHECK(Sha256::ofString("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(Sha256::ofString("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(Sha256::ofString("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed in uneven pieces to exercise the block buffering.
    Sha256 h;
    const std::string chunk(997, 'a');
    std::size_t left = 1000000;
    while (left > 0) {
        const std::size_t n = std::min(left, chunk.size());
        h.update(chunk.data(), n);
        left -= n;
    }
    CHECK(Sha256::toHex(h.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 of a file agrees with sha256sum for lengths around the block edges") {
    TempDir dir;
    std::mt19937 rng(7);
    for (std::size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 4096u, 200003u}) {
        std::string bytes(len, '\0');
        for (auto& c : bytes)
            c = char(rng() & 0xff);
        const auto p = dir.path / ("f" + std::to_string(len));
        writeFile(p, bytes);
        std::string ours, error;
        REQUIRE(Sha256::ofFile(p.string(), ours, error));
        CHECK(ours == systemSha256(p));
    }
}

TEST_CASE("a pulled model resolves to its ONNX file and verifies") {
    TempDir dir;
    const std::string bytes = "not really onnx, but hashed all the same";
    const auto path = makeCache(dir.path, bytes, Sha256::ofString(bytes), bytes.size());
    ModelCache cache(dir.path.string());
    CachedModel m;
    std::string error;
    REQUIRE(cache.locate("", m, error));  // "" = the manifest's default_model
    CHECK(m.id == "swiftf0");
    CHECK(m.kind == vocalmidi::ModelKind::SwiftF0);
    CHECK(fs::equivalent(m.onnxPath, path));
    CHECK(cache.modelIds() == std::vector<std::string>{"swiftf0", "crepe-tiny"});
}

TEST_CASE("the errors say what is wrong and which command fixes it") {
    TempDir dir;
    std::string error;
    CachedModel m;

    SECTION("no cache at all") {
        ModelCache cache((dir.path / "nothing-here").string());
        CHECK_FALSE(cache.locate("swiftf0", m, error));
        CHECK_THAT(error, Catch::Contains("manifest.json missing") &&
                              Catch::Contains("run: vocalmidi models pull vocalnote-s"));
    }
    SECTION("a manifest that is not JSON") {
        writeFile(dir.path / "manifest.json", "{ not json");
        ModelCache cache(dir.path.string());
        CHECK_FALSE(cache.locate("swiftf0", m, error));
        CHECK_THAT(error, Catch::Contains("not valid JSON") && Catch::Contains("vocalmidi models pull"));
    }
    SECTION("a model in the manifest but not pulled") {
        const std::string bytes = "x";
        makeCache(dir.path, bytes, Sha256::ofString(bytes), 1);
        ModelCache cache(dir.path.string());
        CHECK_FALSE(cache.locate("crepe-tiny", m, error));
        CHECK_THAT(error, Catch::Contains("not pulled") && Catch::Contains("run: vocalmidi models pull crepe-tiny"));
    }
    SECTION("a model the cache does not know") {
        const std::string bytes = "x";
        makeCache(dir.path, bytes, Sha256::ofString(bytes), 1);
        ModelCache cache(dir.path.string());
        CHECK_FALSE(cache.locate("pesto", m, error));
        CHECK_THAT(error, Catch::Contains("'pesto' is not in the model cache") &&
                              Catch::Contains("swiftf0, crepe-tiny") &&
                              Catch::Contains("run: vocalmidi models pull pesto"));
    }
    SECTION("a file whose bytes changed (same size)") {
        const std::string bytes = "the original model bytes";
        const auto path = makeCache(dir.path, bytes, Sha256::ofString(bytes), bytes.size());
        std::string tampered = bytes;
        tampered[3] ^= 1;
        writeFile(path, tampered);
        ModelCache cache(dir.path.string());
        CHECK_FALSE(cache.locate("swiftf0", m, error));
        CHECK_THAT(error, Catch::Contains("corrupt") && Catch::Contains("SHA-256") &&
                              Catch::Contains("run: vocalmidi models pull swiftf0"));
    }
    SECTION("a truncated file") {
        const std::string bytes = "the original model bytes";
        const auto path = makeCache(dir.path, bytes, Sha256::ofString(bytes), bytes.size());
        writeFile(path, bytes.substr(0, 5));
        ModelCache cache(dir.path.string());
        CHECK_FALSE(cache.locate("swiftf0", m, error));
        CHECK_THAT(error, Catch::Contains("corrupt") && Catch::Contains("5 bytes"));
    }
}

TEST_CASE("the default root follows VOCALMIDI_CACHE, then XDG_CACHE_HOME, then ~/.cache") {
    const char* saved = std::getenv("VOCALMIDI_CACHE");
    const std::string savedCache = saved ? saved : "";
    const char* savedXdgC = std::getenv("XDG_CACHE_HOME");
    const std::string savedXdg = savedXdgC ? savedXdgC : "";

    setenv("VOCALMIDI_CACHE", "/tmp/somewhere", 1);
    CHECK(ModelCache::defaultRoot() == "/tmp/somewhere");
    unsetenv("VOCALMIDI_CACHE");
    setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
    CHECK(ModelCache::defaultRoot() == "/tmp/xdg/vocalmidi");
    setenv("XDG_CACHE_HOME", "relative/ignored", 1);
    CHECK(ModelCache::defaultRoot() == std::string(std::getenv("HOME")) + "/.cache/vocalmidi");

    if (saved) setenv("VOCALMIDI_CACHE", savedCache.c_str(), 1); else unsetenv("VOCALMIDI_CACHE");
    if (savedXdgC) setenv("XDG_CACHE_HOME", savedXdg.c_str(), 1); else unsetenv("XDG_CACHE_HOME");
}
