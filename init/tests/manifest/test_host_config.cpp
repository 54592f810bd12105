// parse_host_config: every key reaches HostConfig; bad input is an error naming file:line:column
// and the key; the documented example parses.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "berth/manifest/host_config.hpp"

using namespace berth::manifest;

namespace {

HostConfig parse_ok(const std::string& text) {
    auto config = parse_host_config(text, "host.toml");
    INFO(text);
    REQUIRE(config);
    return *config;
}

std::string parse_error(const std::string& text) {
    auto config = parse_host_config(text, "host.toml");
    REQUIRE_FALSE(config);
    return config.error().describe();
}

}  // namespace

TEST_CASE("an empty host config changes nothing", "[unit][host-config]") {
    HostConfig c = parse_ok("");
    CHECK(c.hostname.empty());
    CHECK(c.authorized_keys.empty());
    CHECK(c.static_addresses.empty());
    CHECK(c.services.empty());
    CHECK(static_network_file(c).empty());
}

TEST_CASE("the documented host config parses into every field", "[unit][host-config]") {
    std::ifstream in(BERTH_DOCS_DIR "/host-config.md");
    std::stringstream doc;
    doc << in.rdbuf();
    std::string text = doc.str();
    auto start = text.find("# host-config.toml\n");
    REQUIRE(start != std::string::npos);
    auto end = text.find("\n```", start);
    HostConfig c = parse_ok(text.substr(start, end - start + 1));
    CHECK(c.hostname == "edge-7");
    CHECK(c.authorized_keys == std::vector<std::string>{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0 admin@laptop"});
    REQUIRE(c.static_addresses.size() == 1);
    CHECK(static_network_file(c) == "eth0 192.168.1.10/24 192.168.1.1\n");
    CHECK(dns_file(c) == "192.168.1.1\n");
    CHECK(c.ntp_servers == std::vector<std::string>{"time.example.net"});
    REQUIRE(c.services.count("web") == 1);
    CHECK(c.services.at("web").find("image = \"admin\"") != std::string::npos);
}

TEST_CASE("host config errors name the place, the key and the problem", "[unit][host-config]") {
    CHECK(parse_error("hostnme = \"x\"\n") == "host.toml:1:1: hostnme: unknown key; did you mean 'hostname'?");
    CHECK(parse_error("hostname = \"bad_name\"\n") ==
          "host.toml:1:12: hostname: invalid hostname 'bad_name' (letters, digits and '-', at most 63)");
    CHECK(parse_error("hostname = 7\n") == "host.toml:1:12: hostname: expected a string, got an integer");
    CHECK(parse_error("[network]\ndns = [\"1.2.3\"]\n") == "host.toml:2:7: network.dns: '1.2.3' is not an IP address");
    CHECK(parse_error("[[network.static]]\ninterface = \"eth0\"\naddress = \"10.0.0.5\"\n") ==
          "host.toml:3:11: network.static[0].address: '10.0.0.5' is not an address with a prefix length (192.168.1.10/24)");
    for (std::string prefix : {"33", "99999999999", "99999999999999999999999999999", "-1", "+8", ""}) {
        CHECK(parse_error("[[network.static]]\ninterface = \"eth0\"\naddress = \"10.0.0.5/" + prefix + "\"\n") ==
              "host.toml:3:11: network.static[0].address: '10.0.0.5/" + prefix +
                  "' is not an address with a prefix length (192.168.1.10/24)");
    }
    CHECK(parse_ok("[[network.static]]\ninterface = \"eth0\"\naddress = \"fd00::1/128\"\n").static_addresses.size() == 1);
    CHECK(parse_error("[[network.static]]\naddress = \"10.0.0.5/8\"\n") ==
          "host.toml:1:1: network.static[0]: 'interface' is required (e.g. interface = \"eth0\")");
    CHECK(parse_error("[[network.static]]\ninterface = \"eth0\"\naddress = \"10.0.0.5/8\"\n"
                      "[[network.static]]\ninterface = \"eth0\"\naddress = \"10.0.0.6/8\"\n") ==
          "host.toml:5:13: network.static[1].interface: interface 'eth0' is configured twice");
    CHECK(parse_error("[ssh]\nauthorized_keys = [\"nokey\"]\n") ==
          "host.toml:2:19: ssh.authorized_keys: each entry is one OpenSSH public key line (\"ssh-ed25519 AAAA... comment\")");
    CHECK(parse_error("[services]\nBad_Name = \"x\"\n") ==
          "host.toml:2:1: services.Bad_Name: invalid service name 'Bad_Name': use a-z, 0-9 and '-', not starting with '-', at most 63 characters");
    CHECK(parse_error("hostname = \n").starts_with("host.toml:1:"));
}

TEST_CASE("a bad extra manifest is not a host config error", "[unit][host-config]") {
    // It is reported (and skipped) when services load, so the host still boots with the others.
    HostConfig c = parse_ok("[services]\nbroken = \"[container]\\nimagee = 1\\n\"\n");
    CHECK(c.services.at("broken") == "[container]\nimagee = 1\n");
}

TEST_CASE("[update]: the health window and the time limit of a trial boot", "[unit][host-config]") {
    using namespace std::chrono_literals;
    HostConfig defaults = parse_ok("");
    CHECK(defaults.health_window == 30s);
    CHECK(defaults.bless_timeout == 5min);
    HostConfig c = parse_ok("[update]\nhealth_window = \"3s\"\nbless_timeout = \"2m\"\n");
    CHECK(c.health_window == 3s);
    CHECK(c.bless_timeout == 2min);
    CHECK(parse_ok("[update]\nhealth_window = \"1m\"\n").bless_timeout == 5min);
    CHECK(parse_error("[update]\nhealth_window = \"0s\"\n") ==
          "host.toml:2:17: update.health_window: '0s' is out of range (1s to 1h)");
    CHECK(parse_error("[update]\nbless_timeout = \"25h\"\n") ==
          "host.toml:2:17: update.bless_timeout: '25h' is out of range (10s to 24h)");
    CHECK(parse_error("[update]\nhealth_window = \"10m\"\n") ==
          "host.toml:2:17: update.health_window: bless_timeout (5m) must be longer than health_window (10m)");
    CHECK(parse_error("[update]\nhealth_window = \"30s\"\nbless_timeout = \"20s\"\n") ==
          "host.toml:3:17: update.bless_timeout: bless_timeout (20s) must be longer than health_window (30s)");
    CHECK(parse_error("[update]\nhealth_windw = \"3s\"\n").find("did you mean 'health_window'") != std::string::npos);
    CHECK(parse_error("[update]\nhealth_window = 3\n").starts_with("host.toml:2:17: update.health_window:"));
}
