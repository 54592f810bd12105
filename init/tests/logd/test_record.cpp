#include <catch2/catch.hpp>

#include "berth/logd/record.hpp"
#include "berth/supervisor/wall_time.hpp"

using namespace berth::logd;

namespace {
berth::supervisor::WallTime at(const char* text) { return *berth::supervisor::parse_rfc3339(text); }
}  // namespace

TEST_CASE("disk lines: time, service, stream, text") {
    CHECK(format_disk_line({"web", at("2026-11-24T06:17:20.212Z"), Stream::Stdout, "GET / 200"}) ==
          "2026-11-24T06:17:20.212Z web stdout GET / 200\n");
    CHECK(format_disk_line({"kernel", at("2026-11-24T06:17:20Z"), Stream::Kernel, "kern.info hi"}) ==
          "2026-11-24T06:17:20.000Z kernel kernel kern.info hi\n");
    CHECK(format_disk_line({"syslog", at("2026-11-24T06:17:20Z"), Stream::Syslog, ""}) ==
          "2026-11-24T06:17:20.000Z syslog syslog \n");
}

TEST_CASE("disk lines escape control characters so one record stays one line") {
    CHECK(format_disk_line({"db", at("2026-01-01T00:00:00Z"), Stream::Stderr, "a\nb\rc\td\x1b[0m\x7f\\"}) ==
          "2026-01-01T00:00:00.000Z db stderr a\\nb\\rc\td\\x1b[0m\\x7f\\\n");
}
