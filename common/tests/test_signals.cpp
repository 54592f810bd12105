// The one signal table: names both ways, numbers range-checked.
#include <catch2/catch.hpp>

#include <csignal>

#include "berth/signals.hpp"

TEST_CASE("signal_name names the table's signals and numbers the others", "[unit][common][signals]") {
    CHECK(berth::signal_name(SIGTERM) == "SIGTERM");
    CHECK(berth::signal_name(SIGABRT) == "SIGABRT");  // not its alias IOT
    CHECK(berth::signal_name(SIGSEGV) == "SIGSEGV");
    CHECK(berth::signal_name(42) == "42");
    CHECK(berth::signal_name(0) == "0");
}

TEST_CASE("every name in the table parses back to its number", "[unit][common][signals]") {
    for (const auto& known : berth::signal_names()) {
        CHECK(berth::parse_signal(known.name) == known.number);
        CHECK(berth::parse_signal("SIG" + std::string(known.name)) == known.number);
    }
}
