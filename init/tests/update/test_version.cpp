#include <catch2/catch.hpp>

#include "berth/update/version.hpp"

using berth::update::compare_versions;
using berth::update::is_valid_version;

namespace {
int order(const char* a, const char* b) {
    int r = compare_versions(a, b);
    // Antisymmetric, whatever the pair.
    REQUIRE((r > 0) - (r < 0) == -((compare_versions(b, a) > 0) - (compare_versions(b, a) < 0)));
    return (r > 0) - (r < 0);
}
}  // namespace

TEST_CASE("versions order as systemd-boot orders its entries") {
    CHECK(order("0.1.0", "0.1.0") == 0);
    CHECK(order("0.2.0", "0.1.0") == 1);
    CHECK(order("0.10.0", "0.9.9") == 1);       // numbers, not text
    CHECK(order("1.0", "1.0.1") == -1);         // a further component is newer
    CHECK(order("0.1.0~fallback", "0.1.0") == -1);  // the fresh disk's slot B entry sorts below A
    CHECK(order("1.0~rc1", "1.0~rc2") == -1);
    CHECK(order("1.0~rc2", "0.9") == 1);
    CHECK(order("1.0^p1", "1.0") == 1);         // a patched release is newer than the release...
    CHECK(order("1.0^p1", "1.0.1") == -1);      // ...and older than the next one
    CHECK(order("1.0-2", "1.0.1") == -1);       // '-' separates the release
    CHECK(order("1.0-2", "1.0-10") == -1);
    CHECK(order("007", "7") == 0);              // leading zeros do not count
    CHECK(order("1.a", "1.1") == -1);           // letters are older than numbers
    CHECK(order("1.0b", "1.0a") == 1);
    CHECK(order("1.0", "1.0a") == -1);
}

TEST_CASE("what a version may be") {
    CHECK(is_valid_version("0.1.0"));
    CHECK(is_valid_version("2.0~rc1+build.7_x"));
    CHECK_FALSE(is_valid_version(""));
    CHECK_FALSE(is_valid_version("v1.0"));       // starts with a digit
    CHECK_FALSE(is_valid_version("1.0 beta"));
    CHECK_FALSE(is_valid_version("1.0\n"));
    CHECK_FALSE(is_valid_version("1/0"));
    CHECK_FALSE(is_valid_version(std::string(65, '1')));
}
