#include <catch2/catch.hpp>

#include "berth/logd/syslog.hpp"

using namespace berth::logd;
using namespace std::literals;

TEST_CASE("syslog(3)'s format: priority, timestamp, tag, pid") {
    auto message = parse_syslog_message("<30>Nov 24 06:17:20 crond[42]: job started\n");
    CHECK(priority_name(message.priority) == "daemon.info");
    CHECK(message.tag == "crond");
    CHECK(message.pid == 42);
    CHECK(message.text == "job started");
    CHECK(syslog_disk_text(message) == "daemon.info crond[42]: job started");
}

TEST_CASE("syslog parts may be missing") {
    auto no_pid = parse_syslog_message("<11>myapp: hello");
    CHECK(priority_name(no_pid.priority) == "user.err");
    CHECK(no_pid.tag == "myapp");
    CHECK_FALSE(no_pid.pid);
    CHECK(syslog_disk_text(no_pid) == "user.err myapp: hello");

    auto no_priority = parse_syslog_message("Nov  4 06:17:20 app: hi");  // space-padded day
    CHECK(priority_name(no_priority.priority) == "user.notice");
    CHECK(no_priority.tag == "app");
    CHECK(no_priority.text == "hi");

    auto bare = parse_syslog_message("<13>just some text: with a colon");
    CHECK(bare.tag.empty());
    CHECK(bare.text == "just some text: with a colon");
    CHECK(syslog_disk_text(bare) == "user.notice just some text: with a colon");

    auto empty = parse_syslog_message("");
    CHECK(empty.text.empty());
    CHECK(syslog_disk_text(empty) == "user.notice ");
}

TEST_CASE("malformed syslog parts are kept as text") {
    CHECK(parse_syslog_message("<999>x: y").text == "<999>x: y");   // priority out of range
    CHECK(parse_syslog_message("<1a>x: y").text == "<1a>x: y");
    CHECK(parse_syslog_message("app[4x]: y").text == "app[4x]: y");  // pid not a number
    CHECK(parse_syslog_message("app[4: y").text == "app[4: y");
    CHECK(parse_syslog_message("Foo 24 06:17:20 app: y").tag == "");  // not a month: no timestamp
    auto local = parse_syslog_message("<191>app[1]:no space\0\n"sv);
    CHECK(priority_name(local.priority) == "local7.debug");
    CHECK(local.text == "no space");
}
