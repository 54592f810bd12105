// Durations and sizes: the two unit formats of manifests.
#include <catch2/catch.hpp>

#include "berth/manifest/units.hpp"

using namespace berth::manifest;
using namespace std::chrono_literals;

TEST_CASE("durations take h, m, s and ms, largest first", "[unit][manifest][units]") {
    CHECK(*parse_duration("100ms") == 100ms);
    CHECK(*parse_duration("2s") == 2s);
    CHECK(*parse_duration("1m") == 1min);
    CHECK(*parse_duration("1h") == 1h);
    CHECK(*parse_duration("1m30s") == 90s);
    CHECK(*parse_duration("1h2m3s4ms") == 1h + 2min + 3s + 4ms);
    CHECK(*parse_duration("0s") == 0ms);
    CHECK(*parse_duration("90s") == 90s);
}

TEST_CASE("bad durations say what is wrong", "[unit][manifest][units]") {
    const std::string examples = " (expected e.g. \"100ms\", \"2s\", \"1m30s\", \"1h\")";
    CHECK(parse_duration("").error().message == "invalid duration ''" + examples);
    CHECK(parse_duration("10").error().message ==
          "invalid duration '10': a unit (h, m, s or ms) is required after the number");
    CHECK(parse_duration("5 sec").error().message == "invalid duration '5 sec'" + examples);
    CHECK(parse_duration("s").error().message == "invalid duration 's'" + examples);
    CHECK(parse_duration("1.5s").error().message == "invalid duration '1.5s'" + examples);
    CHECK(parse_duration("-1s").error().message == "invalid duration '-1s'" + examples);
    CHECK(parse_duration("3d").error().message == "invalid duration '3d': unknown unit 'd' (use h, m, s or ms)");
    CHECK(parse_duration("1S").error().message == "invalid duration '1S': unknown unit 'S' (use h, m, s or ms)");
    CHECK(parse_duration("30s1m").error().message ==
          "invalid duration '30s1m': units must go from largest to smallest, each once");
    CHECK(parse_duration("1s1s").error().message ==
          "invalid duration '1s1s': units must go from largest to smallest, each once");
    CHECK(parse_duration("99999999999999999999h").error().message == "invalid duration '99999999999999999999h': too large");
    CHECK(parse_duration("9999999999999999h").error().message == "invalid duration '9999999999999999h': too large");
}

TEST_CASE("durations print back in the manifest's own notation", "[unit][manifest][units]") {
    CHECK(format_duration(0ms) == "0s");
    CHECK(format_duration(100ms) == "100ms");
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(1h + 1ms) == "1h1ms");
    for (const char* text : {"1h2m3s4ms", "250ms", "59m", "2h"})
        CHECK(format_duration(*parse_duration(text)) == text);
}

TEST_CASE("sizes: SI suffixes are powers of 1000, binary ones powers of 1024", "[unit][manifest][units]") {
    CHECK(*parse_size("0") == 0);
    CHECK(*parse_size("1024") == 1024);
    CHECK(*parse_size("64K") == 64'000);
    CHECK(*parse_size("64M") == 64'000'000);
    CHECK(*parse_size("2G") == 2'000'000'000);
    CHECK(*parse_size("1T") == 1'000'000'000'000);
    CHECK(*parse_size("512Ki") == 512 * 1024);
    CHECK(*parse_size("64Mi") == 64ULL << 20);
    CHECK(*parse_size("1Gi") == 1ULL << 30);
    CHECK(*parse_size("2Ti") == 2ULL << 40);
}

TEST_CASE("bad sizes say what is wrong", "[unit][manifest][units]") {
    const std::string expected = " (expected e.g. \"64M\", \"512Ki\", \"1G\" or a number of bytes)";
    CHECK(parse_size("").error().message == "invalid size ''" + expected);
    CHECK(parse_size("M").error().message == "invalid size 'M'" + expected);
    CHECK(parse_size("-1M").error().message == "invalid size '-1M'" + expected);
    CHECK(parse_size("64X").error().message ==
          "invalid size '64X': unknown suffix 'X' (use K, M, G, T or Ki, Mi, Gi, Ti)");
    CHECK(parse_size("64m").error().message ==
          "invalid size '64m': unknown suffix 'm' (use K, M, G, T or Ki, Mi, Gi, Ti)");
    CHECK(parse_size("1.5G").error().message ==
          "invalid size '1.5G': unknown suffix '.5G' (use K, M, G, T or Ki, Mi, Gi, Ti)");
    CHECK(parse_size("64 M").error().message ==
          "invalid size '64 M': unknown suffix ' M' (use K, M, G, T or Ki, Mi, Gi, Ti)");
    CHECK(parse_size("9000000000000000000000").error().message == "invalid size '9000000000000000000000': too large");
    CHECK(parse_size("9000000Ti").error().message == "invalid size '9000000Ti': too large");
}
