#include <catch2/catch.hpp>

#include "vocalmidi/Engine.h"

TEST_CASE("model kind ids round-trip", "[api]") {
    using namespace vocalmidi;
    for (ModelKind k : {ModelKind::SwiftF0, ModelKind::CrepeTiny, ModelKind::Pesto, ModelKind::BasicPitch}) {
        ModelKind back;
        REQUIRE(modelKindFromId(modelKindId(k), back));
        CHECK(back == k);
    }
    ModelKind x;
    CHECK_FALSE(modelKindFromId("nonsense", x));
}
