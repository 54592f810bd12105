// The control request handler against a real Supervisor and a fake process table (the control
// fuzzer's harness): hostile requests get an error line, and the handler goes on answering.
// Every input the fuzzer ever crashed on is kept in init/fuzz/corpus-control/ and replayed here.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../fuzz/control_harness.hpp"

using berth::pid1::testing::FakeMachine;
using nlohmann::json;

namespace {

json answer(FakeMachine& machine, std::string_view line) {
    std::string response = machine.handle(line);
    REQUIRE(!response.empty());
    REQUIRE(response.back() == '\n');
    REQUIRE(response.find('\n') == response.size() - 1);
    json parsed = json::parse(response);
    REQUIRE(parsed["ok"].is_boolean());
    return parsed;
}

std::string error_of(FakeMachine& machine, std::string_view line) {
    json r = answer(machine, line);
    REQUIRE(r["ok"] == false);
    return r["error"].get<std::string>();
}

}  // namespace

TEST_CASE("control handler: every corpus input gets one response line per request line") {
    for (const auto& entry : std::filesystem::directory_iterator(BERTH_CONTROL_CORPUS)) {
        INFO(entry.path());
        FakeMachine machine;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        std::string line;
        while (std::getline(text, line)) answer(machine, line);
        CHECK(answer(machine, R"({"cmd":"status"})")["ok"] == true);
    }
}

TEST_CASE("control handler: signals out of range are refused, naming the field") {
    FakeMachine machine;
    for (const char* signal : {"99999999999", "2147483648", "RTMIN+99999999999", "123456789012345678901234567890", "-1",
                               "65", "NOPE"}) {
        INFO(signal);
        std::string error = error_of(machine, R"({"cmd":"kill","service":"web","signal":")" + std::string(signal) + "\"}");
        CHECK(error.find("request.signal") != std::string::npos);
    }
    CHECK(answer(machine, R"({"cmd":"services"})")["services"][1]["state"] == "ready");
}

TEST_CASE("control handler: numbers too large for a double are an error, not an exception") {
    FakeMachine machine;
    CHECK_FALSE(error_of(machine, R"({"cmd":1e999})").empty());
    CHECK_FALSE(error_of(machine, R"({"cmd":"logs","service":"web","lines":1e999})").empty());
    CHECK_FALSE(error_of(machine, R"({"cmd":"logs","service":"web","lines":123456789012345678901234567890})").empty());
    CHECK(answer(machine, R"({"cmd":"status"})")["ok"] == true);
}

TEST_CASE("control handler: requests reach the supervisor and the machine") {
    FakeMachine machine;
    CHECK(answer(machine, R"({"cmd":"stop","service":"web"})")["ok"] == true);
    json services = answer(machine, R"({"cmd":"services"})");
    CHECK(services["services"][1]["state"] == "stopped");
    CHECK(services["services"].back()["state"] == "invalid");  // the fake's broken manifest
    CHECK(answer(machine, R"({"cmd":"logs","service":"web"})")["records"][0]["line"] == "hello from web");
    CHECK(error_of(machine, R"({"cmd":"logs","service":"nope"})") == "no service named 'nope'");
    CHECK(error_of(machine, R"({"cmd":"kill","service":"web","signal":"TERM"})") == "service 'web' is not running");
    CHECK(answer(machine, R"({"cmd":"status"})")["init_resident_kib"] == 1400);
    CHECK(answer(machine, R"({"cmd":"reboot"})")["ok"] == true);
    CHECK(machine.power() == berth::pid1::PowerAction::Reboot);
}
