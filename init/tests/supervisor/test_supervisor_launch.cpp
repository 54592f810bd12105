// Asynchronous starts: berth-init begins a container's launch for each StartService and reports
// process_started (or start_failed) only once the container has set itself up, so several
// services are Starting at once and their starts complete in any order.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

TEST_CASE("starts under way overlap and complete in any order", "[supervisor][launch]") {
    Harness h({service("a"), service("b"), service("c"), service("d", {}, {"a"})});
    CHECK(started(h.start_all()) == std::vector<std::string>{"a", "b", "c"});
    for (const char* name : {"a", "b", "c"}) CHECK(h.state(name) == ServiceState::Starting);
    CHECK(h.status("a").pid == 0);  // no pid until the launch is done
    CHECK_FALSE(h.supervisor.next_deadline());  // a start under way has no timer of its own

    // c finishes first: nothing depends on it.
    CHECK(started(h.started("c")).empty());
    CHECK(h.state("c") == ServiceState::Ready);
    // d requires a, which was asked to start but is not up yet.
    CHECK(h.state("d") == ServiceState::Waiting);
    CHECK(started(h.started("a")) == std::vector<std::string>{"d"});
    CHECK(h.state("b") == ServiceState::Starting);
    CHECK(started(h.started("b")).empty());
    CHECK(h.state("b") == ServiceState::Ready);
}

TEST_CASE("a launch that fails while others are under way fails only its own dependents",
          "[supervisor][launch]") {
    Harness h({service("a"), service("b"), service("needs-a", {}, {"a"}), service("after-a", {"a"})});
    CHECK(started(h.start_all()) == std::vector<std::string>{"a", "b"});
    auto actions = h.supervisor.start_failed("a", "container process exited during setup", h.now);
    CHECK(h.state("a") == ServiceState::Failed);
    CHECK(h.status("a").last_error == "start failed: container process exited during setup");
    CHECK(h.state("needs-a") == ServiceState::Failed);
    CHECK(started(actions) == std::vector<std::string>{"after-a"});  // `after` only orders
    CHECK(h.state("b") == ServiceState::Starting);                   // untouched
    CHECK(started(h.started("b")).empty());
    CHECK(h.state("b") == ServiceState::Ready);
}

TEST_CASE("readiness is timed from the end of the launch, not from StartService", "[supervisor][launch]") {
    auto web = service("web");
    web.readiness = {ReadinessKind::Tcp, 5s, 1s};
    Harness h({web});
    h.start_all();
    h.now += 4s;  // a slow launch (a busy host setting up many containers)
    auto actions = h.started("web");
    auto probes = all_of<RunProbe>(actions);
    REQUIRE(probes.size() == 1);
    CHECK(probes[0].deadline == h.now + 5s);
    CHECK(h.state("web") == ServiceState::Running);
}

TEST_CASE("a restart during a launch stops the new process once it is there, then starts again",
          "[supervisor][launch]") {
    Harness h({service("a")});
    h.start_all();
    auto restart = h.supervisor.user_restart("a", h.now);
    REQUIRE(restart);
    CHECK(all_of<SignalService>(*restart).empty());  // nothing to signal before the pid is known
    auto actions = h.started("a");
    CHECK(signalled(actions) == std::vector<std::string>{"a:SIGTERM"});
    CHECK(h.state("a") == ServiceState::Stopping);
    CHECK(started(h.exited("a", ExitStatus::signaled(SIGTERM))) == std::vector<std::string>{"a"});
    CHECK(h.state("a") == ServiceState::Starting);
}
