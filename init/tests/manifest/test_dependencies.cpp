// start_order: dependencies first, the critical path first among peers, then alphabetical; clear
// errors otherwise.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace berth::manifest;
using Strings = std::vector<std::string>;

namespace {

ServiceManifest service(const std::string& name, Strings after = {}, Strings requires_services = {}) {
    ServiceManifest m;
    m.name = name;
    m.file_path = name + ".toml";
    m.after = std::move(after);
    m.required_services = std::move(requires_services);
    return m;
}

std::string order_of(const std::vector<ServiceManifest>& services) {
    auto order = start_order(services);
    if (!order) return "error: " + order.error().describe();
    std::string out;
    for (const auto& name : *order) out += (out.empty() ? "" : " ") + name;
    return out;
}

}  // namespace

TEST_CASE("independent services start alphabetically", "[unit][manifest][deps]") {
    CHECK(order_of({service("c"), service("a"), service("b")}) == "a b c");
    CHECK(order_of({}) == "");
}

TEST_CASE("dependencies start first, and among peers the longest chain of waiting services", "[unit][manifest][deps]") {
    // web requires db, after syslog; db after syslog; cron stands alone.
    CHECK(order_of({service("web", {"syslog"}, {"db"}), service("db", {"syslog"}), service("syslog"),
                    service("cron")}) == "syslog db cron web");
    // A diamond: d after b and c, both after a; b and c are peers.
    CHECK(order_of({service("d", {"c", "b"}), service("c", {"a"}), service("b", {"a"}), service("a")}) ==
          "a b c d");
    // A later name goes first when something waits for it (the image: netd before logd, for ntpd).
    CHECK(order_of({service("z"), service("b", {"z"}), service("a")}) == "z a b");
    CHECK(order_of({service("logd"), service("netd"), service("ntpd", {"netd"}), service("sshd")}) ==
          "netd logd ntpd sshd");
    // Longer chains first: y (x waits, w waits for x), then x, before z (only v waits).
    CHECK(order_of({service("z"), service("y"), service("x", {"y"}), service("w", {"x"}), service("v", {"z"})}) ==
          "y x z v w");
}

TEST_CASE("after a missing service only orders, requires a missing one is an error", "[unit][manifest][deps]") {
    CHECK(order_of({service("web", {"nonexistent"})}) == "web");
    CHECK(order_of({service("web", {}, {"db"})}) == "error: service 'web' requires 'db', which does not exist");
}

TEST_CASE("cycles are named in order", "[unit][manifest][deps]") {
    CHECK(order_of({service("a", {"b"}), service("b", {}, {"c"}), service("c", {"a"})}) ==
          "error: dependency cycle: a -> b -> c -> a");
    // Written from any member, reported from the alphabetically first.
    CHECK(order_of({service("c", {"b"}), service("b", {"a"}), service("a", {"c"}), service("x", {"a"})}) ==
          "error: dependency cycle: a -> c -> b -> a");
    CHECK(order_of({service("a", {"b"}), service("b", {"a"})}) == "error: dependency cycle: a -> b -> a");
    CHECK(order_of({service("solo", {"solo"})}) == "error: dependency cycle: solo -> solo");
    // Two cycles in one component: the shortest way back is reported.
    CHECK(order_of({service("a", {"b", "c"}), service("b", {"a"}), service("c", {"b"})}) ==
          "error: dependency cycle: a -> b -> a");
}

TEST_CASE("a service defined twice is an error", "[unit][manifest][deps]") {
    CHECK(order_of({service("a"), service("a")}) == "error: service 'a' is defined twice (a.toml, a.toml)");
}

TEST_CASE("a long chain does not exhaust the stack", "[unit][manifest][deps]") {
    std::vector<ServiceManifest> chain;
    for (int i = 0; i < 10000; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "s%05d", i);
        char next[16];
        std::snprintf(next, sizeof next, "s%05d", i + 1);
        chain.push_back(service(name, i + 1 < 10000 ? Strings{next} : Strings{}));
    }
    auto order = start_order(chain);
    REQUIRE(order);
    CHECK(order->front() == "s09999");
    CHECK(order->back() == "s00000");
}
