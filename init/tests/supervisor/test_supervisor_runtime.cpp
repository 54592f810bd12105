// Services added and removed at run time (berthctl add/remove), and stale events.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

TEST_CASE("a service added at run time starts once its dependencies allow", "[supervisor][add]") {
    Harness h({service("db")});
    h.start_all();

    auto actions = h.supervisor.add_service(service("app", {}, {"db"}), h.now);
    REQUIRE(actions);
    CHECK(started(*actions).empty());  // db is not ready yet
    CHECK(started(h.started("db")) == std::vector<std::string>{"app"});

    actions = h.supervisor.add_service(service("tool"), h.now);
    REQUIRE(actions);
    CHECK(started(*actions) == std::vector<std::string>{"tool"});
    CHECK(h.supervisor.statuses(h.now).size() == 3);
}

TEST_CASE("add_service refuses duplicates, unknown requirements and cycles", "[supervisor][add]") {
    Harness h({service("a", {"later"})});
    h.start_all();
    CHECK(h.supervisor.add_service(service("a"), h.now).error().message == "service 'a' already exists");
    CHECK(h.supervisor.add_service(service("b", {}, {"ghost"}), h.now).error().message ==
          "service 'b' requires unknown service 'ghost'");
    // a is ordered after "later"; a "later" that waits for a would close a cycle.
    CHECK(h.supervisor.add_service(service("later", {"a"}), h.now).error().message ==
          "dependency cycle: a -> later -> a");
    CHECK(h.supervisor.statuses(h.now).size() == 1);
}

TEST_CASE("a service added before start_all waits for it", "[supervisor][add]") {
    Harness h({});
    auto actions = h.supervisor.add_service(service("x"), h.now);
    REQUIRE(actions);
    CHECK(started(*actions).empty());
    CHECK(started(h.start_all()) == std::vector<std::string>{"x"});
}

TEST_CASE("removing a running service stops it, then forgets it", "[supervisor][remove]") {
    Harness h({service("a"), service("b", {"a"})});
    h.start_all();
    h.bring_up("a");
    h.bring_up("b");

    auto actions = h.supervisor.remove_service("a", h.now);
    REQUIRE(actions);
    CHECK(signalled(*actions) == std::vector<std::string>{"a:SIGTERM"});
    CHECK_FALSE(has<ServiceRemoved>(*actions));
    CHECK(h.supervisor.user_start("a", h.now).error().message == "service 'a' is being removed");

    auto exit_actions = h.exited("a", ExitStatus::signaled(SIGTERM));
    CHECK(all_of<ServiceRemoved>(exit_actions) == std::vector<ServiceRemoved>{{"a"}});
    CHECK_FALSE(h.supervisor.status("a", h.now));
    CHECK(h.supervisor.statuses(h.now).size() == 1);
    CHECK(h.supervisor.user_stop("a", h.now).error().message == "unknown service 'a'");
}

TEST_CASE("removing a service that is down is immediate and releases `after` dependents", "[supervisor][remove]") {
    auto first = service("first");
    first.readiness.kind = ReadinessKind::Notify;
    Harness h({first, service("second", {"first"})});
    h.start_all();
    h.supervisor.start_failed("first", "boom", h.now);  // Failed → second (after) starts anyway
    REQUIRE(h.state("second") == ServiceState::Starting);

    auto actions = h.supervisor.remove_service("first", h.now);
    REQUIRE(actions);
    CHECK(all_of<ServiceRemoved>(*actions) == std::vector<ServiceRemoved>{{"first"}});
}

TEST_CASE("a service that another requires cannot be removed", "[supervisor][remove]") {
    Harness h({service("db"), service("app", {}, {"db"})});
    h.start_all();
    auto result = h.supervisor.remove_service("db", h.now);
    REQUIRE_FALSE(result);
    CHECK(result.error().message == "service 'db' is required by 'app'; remove 'app' first");
}

TEST_CASE("removing a service that is still starting waits for its pid", "[supervisor][remove]") {
    Harness h({service("x")});
    h.start_all();
    auto actions = *h.supervisor.remove_service("x", h.now);
    CHECK(signalled(actions).empty());
    CHECK(signalled(h.started("x")) == std::vector<std::string>{"x:SIGTERM"});
    CHECK(has<ServiceRemoved>(h.exited("x", ExitStatus::exited(0))));
}

TEST_CASE("events for unknown services or stale pids are ignored with a warning", "[supervisor][events]") {
    Harness h({service("a")});
    h.start_all();
    h.bring_up("a");
    auto actions = h.supervisor.process_exited("a", 999, ExitStatus::exited(1), h.now);
    CHECK(h.state("a") == ServiceState::Ready);
    REQUIRE(all_of<LogEvent>(actions).size() == 1);
    CHECK(all_of<LogEvent>(actions)[0].level == LogLevel::Warning);
    CHECK(h.supervisor.process_started("ghost", 5, h.now).size() == 1);
    CHECK(h.supervisor.probe_result("a", ProbeKind::Health, false, h.now).empty());
}

TEST_CASE("ExitStatus from a wait status and its texts", "[supervisor][exit]") {
    CHECK(ExitStatus::from_wait_status(3 << 8) == ExitStatus::exited(3));
    CHECK(ExitStatus::from_wait_status(SIGKILL) == ExitStatus::signaled(SIGKILL));
    CHECK(ExitStatus::exited(3).describe() == "exited with code 3");
    CHECK(ExitStatus::signaled(SIGSEGV).describe() == "killed by SIGSEGV");
    CHECK(ExitStatus::signaled(SIGKILL).short_text() == "SIGKILL");
    CHECK(ExitStatus::exited(0).short_text() == "0");
    CHECK(signal_name(42) == "42");
}
