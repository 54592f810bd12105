// `berthctl services`: the table rendered from the services payload.
#include <catch2/catch.hpp>

#include "berth/supervisor/control_protocol.hpp"
#include "berth/supervisor/services_table.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::control;
using nlohmann::json;

TEST_CASE("uptime is short and human", "[table]") {
    CHECK(format_uptime(0) == "0s");
    CHECK(format_uptime(3) == "3s");
    CHECK(format_uptime(59) == "59s");
    CHECK(format_uptime(60) == "1m0s");
    CHECK(format_uptime(312) == "5m12s");
    CHECK(format_uptime(7380) == "2h3m");
    CHECK(format_uptime(86399) == "23h59m");
    CHECK(format_uptime(93600) == "1d2h");
}

TEST_CASE("the services table", "[table]") {
    const json services = json::parse(R"([
        {"name":"sshd","state":"ready","pid":812,"uptime_seconds":312,"restarts":0,"health":"healthy",
         "last_exit":null,"last_error":null},
        {"name":"ntp","state":"backoff","pid":null,"uptime_seconds":null,"restarts":12,"health":"none",
         "last_exit":{"signal":"SIGSEGV"},"last_error":"killed by SIGSEGV"},
        {"name":"migrate-db","state":"exited","pid":null,"uptime_seconds":null,"restarts":0,"health":"none",
         "last_exit":{"code":0}},
        {"name":"web","state":"running","pid":1234,"uptime_seconds":7380,"restarts":1,"health":"unknown",
         "last_exit":{"code":137}}
    ])");
    const std::string expected =
        "NAME        STATE    PID   UPTIME  RESTARTS  HEALTH   LAST-EXIT\n"
        "sshd        ready    812   5m12s   0         healthy  -\n"
        "ntp         backoff  -     -       12        -        SIGSEGV\n"
        "migrate-db  exited   -     -       0         -        0\n"
        "web         running  1234  2h3m    1         unknown  137\n";
    CHECK(render_services_table(services) == expected);
    // The whole payload (or response) works too.
    CHECK(render_services_table(json{{"ok", true}, {"services", services}}) == expected);
}

TEST_CASE("the table from real statuses, and with no services", "[table]") {
    ServiceStatus status;
    status.name = "log";
    status.state = ServiceState::Ready;
    status.pid = 7;
    status.uptime = std::chrono::seconds(3);
    CHECK(render_services_table(services_payload({status})) ==
          "NAME  STATE  PID  UPTIME  RESTARTS  HEALTH  LAST-EXIT\n"
          "log   ready  7    3s      0         -       -\n");
    CHECK(render_services_table(json::array()) == "NAME  STATE  PID  UPTIME  RESTARTS  HEALTH  LAST-EXIT\n");
}
