#include <catch2/catch.hpp>

#include "berth/logd/options.hpp"

using namespace berth::logd;

TEST_CASE("defaults match the image layout") {
    auto options = parse_options({});
    REQUIRE(options);
    CHECK(options->dir == "/var/log/berth");
    CHECK(options->ingest_socket == "/run/logd/ingest.sock");
    CHECK(options->syslog_socket == "/run/logd/log");
    CHECK(options->kmsg_path == "/dev/kmsg");
    CHECK(options->rotation.max_bytes == 1024 * 1024);
    CHECK(options->rotation.keep == 5);
}

TEST_CASE("flags with separate or attached values, empty disables kmsg and syslog") {
    auto options = parse_options({"--dir", "/tmp/l", "--ingest=/tmp/i.sock", "--syslog", "", "--kmsg=",
                                  "--max-bytes", "4096", "--keep=0"});
    REQUIRE(options);
    CHECK(options->dir == "/tmp/l");
    CHECK(options->ingest_socket == "/tmp/i.sock");
    CHECK(options->syslog_socket.empty());
    CHECK(options->kmsg_path.empty());
    CHECK(options->rotation.max_bytes == 4096);
    CHECK(options->rotation.keep == 0);
}

TEST_CASE("bad flags") {
    auto error_of = [](std::vector<std::string> args) {
        auto options = parse_options(args);
        REQUIRE_FALSE(options);
        return options.error().describe();
    };
    CHECK(error_of({"--max-bytes", "12k"}) == "--max-bytes: not a number: '12k'");
    CHECK(error_of({"--max-bytes", "100"}) == "--max-bytes: must be at least 1024");
    CHECK(error_of({"--keep"}) == "--keep: missing value");
    CHECK(error_of({"--verbose", "1"}) == "unknown option '--verbose'");
    CHECK(error_of({"--dir="}) == "--dir: must not be empty");
}
