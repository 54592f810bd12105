#include <catch2/catch.hpp>

#include "berth/logd/kmsg.hpp"

using namespace berth::logd;

TEST_CASE("a kmsg record: priority, sequence, timestamp, text") {
    auto record = parse_kmsg_record("6,339,5140900,-;NET: Registered PF_INET6 protocol family\n");
    REQUIRE(record);
    CHECK(record->priority.facility == 0);
    CHECK(record->priority.severity == 6);
    CHECK(priority_name(record->priority) == "kern.info");
    CHECK(record->seq == 339);
    CHECK(record->usec == 5140900);
    CHECK(record->text == "NET: Registered PF_INET6 protocol family");
    CHECK(record->properties.empty());
}

TEST_CASE("kmsg continuation lines become properties") {
    auto record = parse_kmsg_record(
        "3,1234,99,c,caller=T1;usb 1-1: device descriptor read/64, error -71\n SUBSYSTEM=usb\n DEVICE=c189:1\n");
    REQUIRE(record);
    CHECK(record->priority.severity == 3);
    CHECK(record->seq == 1234);
    CHECK(record->text == "usb 1-1: device descriptor read/64, error -71");
    REQUIRE(record->properties.size() == 2);
    CHECK(record->properties[0] == std::pair<std::string, std::string>{"SUBSYSTEM", "usb"});
    CHECK(record->properties[1] == std::pair<std::string, std::string>{"DEVICE", "c189:1"});
}

TEST_CASE("kmsg escapes are decoded") {
    auto record = parse_kmsg_record("14,2,3,-;first\\x0asecond \\x5c path\\x09tab \\xZZ \\x4\n");
    REQUIRE(record);
    CHECK(priority_name(record->priority) == "user.info");  // written by userspace into /dev/kmsg
    CHECK(record->text == "first\nsecond \\ path\ttab \\xZZ \\x4");
    CHECK(unescape_kmsg("\\x41\\x42") == "AB");
    CHECK(unescape_kmsg("end\\x") == "end\\x");
}

TEST_CASE("a kmsg record without a trailing newline or text") {
    auto record = parse_kmsg_record("4,7,8,-;");
    REQUIRE(record);
    CHECK(record->text.empty());
}

TEST_CASE("bad kmsg records fail with exact errors") {
    auto error_of = [](std::string_view text) {
        auto record = parse_kmsg_record(text);
        REQUIRE_FALSE(record);
        return record.error().describe();
    };
    CHECK(error_of("no header here\n") == "missing ';' after the header");
    CHECK(error_of("x,1,2,-;text") == "bad priority 'x'");
    CHECK(error_of("6;text") == "missing sequence number");
    CHECK(error_of("6,1;text") == "missing timestamp");
    CHECK(error_of("6,-1,2,-;text") == "bad sequence number '-1'");
    CHECK(error_of("6,1,2x,-;text") == "bad timestamp '2x'");
    CHECK(error_of("99999999,1,2,-;text") == "bad priority '99999999'");
}
