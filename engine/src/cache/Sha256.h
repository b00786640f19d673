// SHA-256 (FIPS 180-4), used to check that a cached model file is the one the manifest
// names before ONNX Runtime parses it.
// Thread: any (one instance per thread).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vocalmidi {

class Sha256 {
public:
    Sha256();

    void update(const void* data, std::size_t size);
    // Finishes the digest; the object must be reset() before it is used again.
    std::array<uint8_t, 32> finish();
    void reset();

    static std::string toHex(const std::array<uint8_t, 32>& digest);
    static std::string ofString(const std::string& text);  // hex digest
    // Hex digest of a file's bytes; false (and a reason in error) when it cannot be read.
    static bool ofFile(const std::string& path, std::string& hexOut, std::string& error);

private:
    void compress(const uint8_t* block);

    std::array<uint32_t, 8> state{};
    std::array<uint8_t, 64> buffer{};
    std::size_t bufferLen = 0;
    uint64_t totalBytes = 0;
};

}  // namespace vocalmidi
