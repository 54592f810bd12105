// The control socket protocol: strict request parsing with exact messages, round trips, responses.
#include <catch2/catch.hpp>

#include <csignal>

#include "berth/supervisor/control_protocol.hpp"
#include "berth/supervisor/wall_time.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::control;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string error_of(std::string_view line) {
    auto request = parse_request(line);
    if (request) return "(parsed)";
    return request.error().message;
}

template <typename T>
T parsed_as(std::string_view line) {
    auto request = parse_request(line);
    if (!request) FAIL(request.error().message);
    REQUIRE(std::holds_alternative<T>(*request));
    return std::get<T>(*request);
}

}  // namespace

TEST_CASE("every command parses", "[protocol]") {
    parsed_as<StatusRequest>(R"({"cmd":"status"})");
    parsed_as<ServicesRequest>("{\"cmd\":\"services\"}\r\n");
    CHECK(parsed_as<StartRequest>(R"({"cmd":"start","service":"sshd"})").service == "sshd");
    CHECK(parsed_as<StopRequest>(R"({"cmd":"stop","service":"sshd"})").service == "sshd");
    CHECK(parsed_as<RestartRequest>(R"({"cmd":"restart","service":"ntp-d"})").service == "ntp-d");
    CHECK(parsed_as<RemoveRequest>(R"({"cmd":"remove","service":"x"})").service == "x");
    CHECK(parsed_as<KillRequest>(R"({"cmd":"kill","service":"sshd","signal":"KILL"})") == KillRequest{"sshd", "KILL"});
    CHECK(parsed_as<KillRequest>(R"({"cmd":"kill","service":"sshd"})").signal == "TERM");
    parsed_as<RebootRequest>(R"({"cmd":"reboot"})");
    parsed_as<PoweroffRequest>(R"( {"cmd":"poweroff"} )");

    auto logs = parsed_as<LogsRequest>(R"({"cmd":"logs","service":"web","lines":50,"since":"2024-05-01T12:00:00Z","follow":true})");
    CHECK(logs.service == "web");
    CHECK(logs.lines == std::size_t{50});
    CHECK(logs.since == WallTime{} + 1714564800s);
    CHECK(logs.follow);
    auto bare = parsed_as<LogsRequest>(R"({"cmd":"logs","service":"web"})");
    CHECK_FALSE(bare.lines);
    CHECK_FALSE(bare.since);
    CHECK_FALSE(bare.follow);

    CHECK(parsed_as<AddRequest>(R"({"cmd":"add","manifest_path":"/etc/berth/services/web.toml"})") ==
          AddRequest{"/etc/berth/services/web.toml", "", ""});
    CHECK(parsed_as<AddRequest>(R"({"cmd":"add","manifest":"image = \"x\"\n","name":"web"})") ==
          AddRequest{"", "image = \"x\"\n", "web"});
}

TEST_CASE("since accepts RFC 3339 and unix seconds", "[protocol]") {
    auto since = [](std::string value) {
        return parsed_as<LogsRequest>(R"({"cmd":"logs","service":"s","since":)" + value + "}").since.value();
    };
    const WallTime noon = WallTime{} + 1714564800s;
    CHECK(since(R"("2024-05-01T12:00:00Z")") == noon);
    CHECK(since(R"("2024-05-01t14:00:00+02:00")") == noon);
    CHECK(since(R"("2024-05-01 11:30:00-00:30")") == noon);
    CHECK(since(R"("2024-05-01T12:00:00.250Z")") == noon + 250ms);
    CHECK(since(R"("1714564800")") == noon);
    CHECK(since(R"("1714564800.5")") == noon + 500ms);
    CHECK(since("1714564800") == noon);
    CHECK(since("1714564800.25") == noon + 250ms);
}

TEST_CASE("malformed requests are refused with a message naming the field", "[protocol]") {
    CHECK(error_of("") == "request: empty line");
    CHECK(error_of("{\"cmd\":") == "request: invalid JSON at byte 8");
    CHECK(error_of("[1,2]") == "request: expected a JSON object");
    CHECK(error_of("{}") ==
          "request.cmd: missing (one of: status, services, logs, start, stop, restart, add, remove, kill, reboot, poweroff, update)");
    CHECK(error_of(R"({"cmd":7})") == "request.cmd: expected a string");
    CHECK(error_of(R"({"cmd":"halt"})") ==
          "request.cmd: unknown command 'halt' (one of: status, services, logs, start, stop, restart, add, remove, kill, "
          "reboot, poweroff, update)");
    CHECK(error_of(R"({"cmd":"kill","service":"a","signal":9})") ==
          "request.signal: expected a signal name or number as a string (\"KILL\", \"9\")");
    CHECK(error_of(R"({"cmd":"status","verbose":true})") == "request.verbose: unknown field for cmd 'status'");
    CHECK(error_of(R"({"cmd":"start","service":"a","lines":3})") == "request.lines: unknown field for cmd 'start'");

    CHECK(error_of(R"({"cmd":"start"})") == "request.service: missing");
    CHECK(error_of(R"({"cmd":"stop","service":5})") == "request.service: expected a string");
    CHECK(error_of(R"({"cmd":"restart","service":"../etc"})") ==
          "request.service: '../etc' is not a service name ([a-z0-9][a-z0-9-]*, at most 63 characters)");

    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":0})") == "request.lines: expected a positive integer");
    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":-3})") == "request.lines: expected a positive integer");
    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":2.5})") == "request.lines: expected a positive integer");
    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":"10"})") == "request.lines: expected a positive integer");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":"yesterday"})") ==
          "request.since: 'yesterday' is not an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":"2024-02-30T00:00:00Z"})") ==
          "request.since: '2024-02-30T00:00:00Z' is not an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":"2024-05-01T12:00:00"})") ==
          "request.since: '2024-05-01T12:00:00' is not an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":"9999-01-01T00:00:00Z"})") ==
          "request.since: '9999-01-01T00:00:00Z' is not an RFC 3339 time or unix seconds");  // beyond 2262
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":99999999999})") ==
          "request.since: '99999999999' is not an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":-5})") ==
          "request.since: expected an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","follow":"yes"})") == "request.follow: expected true or false");

    CHECK(error_of(R"({"cmd":"add"})") == "request.manifest_path: missing (or give manifest and name)");
    CHECK(error_of(R"({"cmd":"add","manifest_path":"/a.toml","manifest":"x"})") ==
          "request: give either manifest_path or manifest, not both");
    CHECK(error_of(R"({"cmd":"add","manifest_path":"web.toml"})") == "request.manifest_path: expected an absolute path");
    CHECK(error_of(R"({"cmd":"add","manifest_path":"/web.toml","name":"web"})") ==
          "request.name: only allowed with manifest");
    CHECK(error_of(R"({"cmd":"add","manifest":"x = 1"})") == "request.name: missing (required with manifest)");
    CHECK(error_of(R"({"cmd":"add","manifest":"","name":"w"})") ==
          "request.manifest: expected a non-empty string (TOML text)");

    CHECK(error_of(std::string(kMaxLineBytes + 1, ' ')) == "request: longer than 1048576 bytes");

    CHECK(error_of(R"({"cmd":"update"})") == "request.action: expected \"apply\", \"status\" or \"rollback\"");
    CHECK(error_of(R"({"cmd":"update","action":"install"})") == "request.action: 'install' is not apply, status or rollback");
    CHECK(error_of(R"({"cmd":"update","action":"apply","force":1})") == "request.force: expected true or false");
    CHECK(error_of(R"({"cmd":"update","action":"status","reboot":true})") == "request.reboot: only for action \"apply\"");
    CHECK(error_of(R"({"cmd":"update","action":"apply","file":"/x"})") == "request.file: unknown field for cmd 'update'");
}

TEST_CASE("numbers JSON cannot hold are refused, not thrown", "[protocol]") {
    CHECK(error_of(R"({"cmd":1e999})") == "request: invalid JSON at byte 8: number overflow parsing '1e999'");
    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":-1e999})") ==
          "request: invalid JSON at byte 37: number overflow parsing '-1e999'");
    CHECK(error_of(R"({"cmd":"logs","service":"a","since":1e308})") ==
          "request.since: '1e+308' is not an RFC 3339 time or unix seconds");
    CHECK(error_of(R"({"cmd":"logs","service":"a","lines":99999999999999999999999})") ==
          "request.lines: expected a positive integer");
    CHECK(parsed_as<LogsRequest>(R"({"cmd":"logs","service":"a","lines":18446744073709551615})").lines ==
          std::size_t{18446744073709551615u});
}

TEST_CASE("the kill signal is checked against the signal table", "[protocol]") {
    CHECK(parsed_as<KillRequest>(R"({"cmd":"kill","service":"a","signal":"SEGV"})").signal == "SEGV");
    CHECK(parsed_as<KillRequest>(R"({"cmd":"kill","service":"a","signal":"RTMIN+2"})").signal == "RTMIN+2");
    CHECK(error_of(R"({"cmd":"kill","service":"a","signal":"99999999999"})") ==
          "request.signal: invalid signal number 99999999999 (expected 1-64)");
    CHECK(error_of(R"({"cmd":"kill","service":"a","signal":"RTMIN+99999999999"})") ==
          "request.signal: invalid signal 'RTMIN+99999999999': outside the real-time signals RTMIN..RTMAX (34-64)");
    CHECK(error_of(R"({"cmd":"kill","service":"a","signal":"NOPE"})") == "request.signal: unknown signal 'NOPE'");
}

namespace {

// An add request of exactly `bytes` bytes (without the newline).
std::string add_request_of_size(std::size_t bytes) {
    const std::string head = R"({"cmd":"add","name":"web","manifest":")", tail = R"("})";
    return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

std::string nested(std::size_t depth, char open, char close) {
    return std::string(depth, open) + std::string(depth, close);
}

}  // namespace

TEST_CASE("a line of up to 1 MiB is accepted, the newline not counted", "[protocol]") {
    CHECK(parsed_as<AddRequest>(add_request_of_size(kMaxLineBytes)).manifest.size() > 1000000);
    CHECK(parsed_as<AddRequest>(add_request_of_size(kMaxLineBytes) + "\n").name == "web");
    CHECK(parsed_as<AddRequest>(add_request_of_size(kMaxLineBytes) + "\r\n").name == "web");
    CHECK(error_of(add_request_of_size(kMaxLineBytes + 1)) == "request: longer than 1048576 bytes");
    CHECK(error_of(add_request_of_size(kMaxLineBytes + 1) + "\n") == "request: longer than 1048576 bytes");
    CHECK(error_of(add_request_of_size(kMaxLineBytes) + "\n\n") == "request: longer than 1048576 bytes");
}

TEST_CASE("nesting deeper than 64 levels is refused before parsing", "[protocol]") {
    CHECK(error_of(R"({"cmd":"status","x":)" + nested(63, '[', ']') + "}") ==
          "request.x: unknown field for cmd 'status'");
    CHECK(error_of(R"({"cmd":"status","x":)" + nested(64, '[', ']') + "}") ==
          "request: nested deeper than 64 levels at byte 84");
    CHECK(error_of(nested(10000, '[', ']')) == "request: nested deeper than 64 levels at byte 65");
    CHECK(error_of(std::string(300000, '[')) == "request: nested deeper than 64 levels at byte 65");
    std::string objects;
    for (int i = 0; i < 10000; ++i) objects += R"({"a":)";
    CHECK(error_of(objects) == "request: nested deeper than 64 levels at byte 321");
    // Brackets inside strings are text.
    CHECK(error_of(R"({"cmd":"kill","service":"a","signal":")" + std::string(100, '[') + R"(\"{"})") ==
          "request.signal: unknown signal '" + std::string(100, '[') + "\"{'");
}

TEST_CASE("request_line writes what parse_request reads", "[protocol]") {
    const std::vector<Request> requests = {
        StatusRequest{},
        ServicesRequest{},
        LogsRequest{"web", 20, WallTime{} + 1714564800s + 125ms, true},
        LogsRequest{"web", std::nullopt, std::nullopt, false},
        StartRequest{"a"},
        StopRequest{"b"},
        RestartRequest{"c"},
        AddRequest{"/srv/x.toml", "", ""},
        AddRequest{"", "image = \"busybox\"\n", "x"},
        RemoveRequest{"d"},
        KillRequest{"e", "9"},
        RebootRequest{},
        PoweroffRequest{},
        UpdateRequest{"status"},
        UpdateRequest{"apply", true, true, true, true},
        UpdateRequest{"apply", false, true, false, false},
    };
    for (const auto& request : requests) {
        const std::string line = request_line(request);
        INFO(line);
        CHECK(line.back() == '\n');
        CHECK(line.find('\n') == line.size() - 1);  // one line, even with newlines in a manifest
        auto parsed = parse_request(line);
        REQUIRE(parsed);
        CHECK(*parsed == request);
    }
    CHECK(request_line(StartRequest{"sshd"}) == "{\"cmd\":\"start\",\"service\":\"sshd\"}\n");
}

TEST_CASE("responses: ok with payload, error with message", "[protocol]") {
    CHECK(ok_response() == "{\"ok\":true}\n");
    CHECK(ok_response(json{{"services", json::array()}}) == "{\"ok\":true,\"services\":[]}\n");
    CHECK(ok_response(json{{"ok", false}, {"x", 1}}) == "{\"ok\":true,\"x\":1}\n");
    CHECK(error_response("unknown service 'x'") == "{\"error\":\"unknown service 'x'\",\"ok\":false}\n");

    auto ok = parse_response(ok_response(json{{"x", 1}}));
    REQUIRE(ok);
    CHECK((*ok)["x"] == 1);
    auto error = parse_response(error_response("unknown service 'x'"));
    REQUIRE_FALSE(error);
    CHECK(error.error().message == "unknown service 'x'");
    CHECK(parse_response("{\"x\":1}").error().message == "response: expected a JSON object with a boolean \"ok\"");
    CHECK(parse_response("nope").error().message == "response: invalid JSON at byte 2");
}

TEST_CASE("service statuses as JSON", "[protocol]") {
    ServiceStatus ready;
    ready.name = "sshd";
    ready.state = ServiceState::Ready;
    ready.pid = 42;
    ready.uptime = std::chrono::nanoseconds(312'700ms);
    ready.restarts = 2;
    ready.health = Health::Healthy;
    ready.last_exit = ExitStatus::signaled(SIGKILL);
    ready.last_error = "unhealthy: 3 consecutive health checks failed";
    ServiceStatus failed;
    failed.name = "ntp";
    failed.state = ServiceState::Failed;
    failed.last_exit = ExitStatus::exited(1);
    failed.critical = true;

    const json payload = services_payload({ready, failed});
    CHECK(payload == json::parse(R"({"services":[
        {"name":"sshd","state":"ready","pid":42,"uptime_seconds":312,"restarts":2,"health":"healthy",
         "last_exit":{"signal":"SIGKILL"},"last_error":"unhealthy: 3 consecutive health checks failed",
         "oneshot":false,"critical":false},
        {"name":"ntp","state":"failed","pid":null,"uptime_seconds":null,"restarts":0,"health":"none",
         "last_exit":{"code":1},"last_error":null,"oneshot":false,"critical":true}]})"));

    CHECK(status_payload({ready, failed}, false) ==
          json::parse(R"({"state":"degraded","services":2,"counts":{"ready":1,"failed":1},"failed":["ntp"]})"));
    CHECK(status_payload({ready}, false)["state"] == "running");
    CHECK(status_payload({ready}, true)["state"] == "shutting-down");
}

TEST_CASE("log records as JSON survive invalid UTF-8", "[protocol]") {
    LogRecord record{7, WallTime{} + 1714564800s + 5ms, LogStream::Stderr, "bad \xff byte"};
    const json payload = logs_payload("web", {record}, 3);
    CHECK(payload["service"] == "web");
    CHECK(payload["dropped"] == 3);
    CHECK(payload["records"][0]["seq"] == 7);
    CHECK(payload["records"][0]["time"] == "2024-05-01T12:00:00.005Z");
    CHECK(payload["records"][0]["stream"] == "stderr");
    const std::string line = ok_response(payload);  // must not throw
    CHECK(line.find("bad \xef\xbf\xbd byte") != std::string::npos);  // U+FFFD in place of the bad byte
}

TEST_CASE("RFC 3339 formatting", "[protocol][time]") {
    CHECK(format_rfc3339(WallTime{}) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339(WallTime{} + 951782400s + 1h + 2min + 3s + 4ms) == "2000-02-29T01:02:03.004Z");
    auto round_trip = parse_rfc3339(format_rfc3339(WallTime{} + 1714564800s + 999ms));
    REQUIRE(round_trip);
    CHECK(*round_trip == WallTime{} + 1714564800s + 999ms);
    CHECK(parse_rfc3339("9999-12-31T23:59:59Z").error().message == "'9999-12-31T23:59:59Z' is out of range (years 1678-2261)");
    CHECK(parse_unix_seconds("12abc").error().message == "'12abc' is not a number of seconds since 1970");
}
