#include <catch2/catch.hpp>

#include "berth/logd/ingest.hpp"
#include "berth/supervisor/wall_time.hpp"

using namespace berth::logd;

namespace {
std::string error_of(std::string_view message) {
    auto record = parse_ingest_record(message);
    REQUIRE_FALSE(record);
    return record.error().describe();
}
}  // namespace

TEST_CASE("a good ingest record") {
    auto record = parse_ingest_record(
        R"({"service":"web","time":"2026-11-24T06:17:20.212Z","stream":"stderr","line":"oops \u00e9\n"})");
    REQUIRE(record);
    CHECK(record->service == "web");
    CHECK(berth::supervisor::format_rfc3339(record->time) == "2026-11-24T06:17:20.212Z");
    CHECK(record->stream == Stream::Stderr);
    CHECK(record->text == "oops \xc3\xa9\n");
}

TEST_CASE("key order does not matter, time offsets are normalised") {
    auto record = parse_ingest_record(R"({"line":"","stream":"stdout","time":"2026-11-24T08:17:20+02:00","service":"berth-init"})");
    REQUIRE(record);
    CHECK(record->service == "berth-init");
    CHECK(berth::supervisor::format_rfc3339(record->time) == "2026-11-24T06:17:20.000Z");
    CHECK(record->stream == Stream::Stdout);
    CHECK(record->text.empty());
}

TEST_CASE("bad ingest records fail with exact errors") {
    CHECK(error_of("") == "invalid JSON at byte 1");
    CHECK(error_of(R"({"service":"web")") == "invalid JSON at byte 17");  // the end
    CHECK(error_of("{not json") == "invalid JSON at byte 3");
    CHECK(error_of("[1,2]") == "not a JSON object");
    CHECK(error_of(R"("text")") == "not a JSON object");
    CHECK(error_of(R"({"time":"2026-11-24T06:17:20Z","stream":"stdout","line":"x"})") == "missing \"service\"");
    CHECK(error_of(R"({"service":7,"time":"2026-11-24T06:17:20Z","stream":"stdout","line":"x"})") ==
          "\"service\" is not a string");
    CHECK(error_of(R"({"service":"../x","time":"2026-11-24T06:17:20Z","stream":"stdout","line":"x"})") ==
          "invalid service name '../x'");
    CHECK(error_of(R"({"service":"web","stream":"stdout","line":"x"})") == "missing \"time\"");
    CHECK(error_of(R"({"service":"web","time":"yesterday","stream":"stdout","line":"x"})").starts_with("\"time\": "));
    CHECK(error_of(R"({"service":"web","time":"2026-11-24T06:17:20Z","stream":"kernel","line":"x"})") ==
          "\"stream\" must be \"stdout\" or \"stderr\", not 'kernel'");
    CHECK(error_of(R"({"service":"web","time":"2026-11-24T06:17:20Z","stream":"stdout"})") == "missing \"line\"");
    CHECK(error_of(R"({"service":"web","time":"2026-11-24T06:17:20Z","stream":"stdout","line":null})") ==
          "\"line\" is not a string");
    CHECK(error_of(R"({"service":"web","time":"2026-11-24T06:17:20Z","stream":"stdout","line":"x","pid":1})") ==
          "unknown key \"pid\"");
    CHECK(error_of("{\"service\":\"web\",\"line\":\"\xff\"}").starts_with("invalid JSON at byte"));
}
