// Readiness timeouts and health checks: probes are scheduled by the supervisor, run by the loop.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

TEST_CASE("a readiness timeout stops the service and counts as a failure", "[supervisor][readiness]") {
    auto web = service("web");
    web.readiness = {ReadinessKind::Tcp, 5s, 1s, 1s};  // every second from the first retry on
    web.restart.kind = RestartPolicy::OnFailure;
    Harness h({web, service("proxy", {}, {"web"})});
    h.start_all();
    h.started("web");
    const TimePoint started_at = h.now;

    // Probes fail every second...
    int probes = 1;  // the first ran at start
    h.probe("web", ProbeKind::Ready, false);
    while (h.now + 1s < started_at + 5s) {
        probes += static_cast<int>(all_of<RunProbe>(h.advance(1s)).size());
        h.probe("web", ProbeKind::Ready, false);
    }
    CHECK(probes == 5);  // at 0, 1, 2, 3, 4 s
    CHECK(h.state("web") == ServiceState::Running);

    // ...until the deadline: stop it with its stop signal.
    h.now = started_at + 5s - 1ms;
    CHECK(h.supervisor.tick(h.now).empty());
    auto actions = h.advance(1ms);
    CHECK(signalled(actions) == std::vector<std::string>{"web:SIGTERM"});
    CHECK(h.state("web") == ServiceState::Stopping);
    CHECK(h.status("web").last_error == "not ready within 5s");

    // A late success changes nothing.
    CHECK(h.probe("web", ProbeKind::Ready, true).empty());

    // It exits from SIGTERM, but that was our doing: restart as a failure (on-failure policy).
    h.exited("web", ExitStatus::signaled(SIGTERM));
    CHECK(h.state("web") == ServiceState::Backoff);
    CHECK(h.status("web").last_error == "not ready within 5s");
    CHECK(h.state("proxy") == ServiceState::Waiting);
}

TEST_CASE("a readiness timeout under policy no fails the service and its dependents", "[supervisor][readiness]") {
    auto net = service("net");
    net.readiness = {ReadinessKind::Notify, 2s, 250ms};
    net.restart.kind = RestartPolicy::No;
    Harness h({net, service("sshd", {}, {"net"})});
    h.start_all();
    h.started("net");
    CHECK(*h.supervisor.next_deadline() == h.now + 2s);
    CHECK(signalled(h.advance_to_deadline()) == std::vector<std::string>{"net:SIGTERM"});
    h.exited("net", ExitStatus::exited(0));  // even a clean exit: it never became ready
    CHECK(h.state("net") == ServiceState::Failed);
    CHECK(h.status("net").last_error == "not ready within 2s");
    CHECK(h.status("sshd").last_error == "required service 'net' failed");
}

namespace {

ServiceConfig checked_service() {
    auto api = service("api");
    api.restart = {RestartPolicy::OnFailure, 100ms, 30s, 60s};
    api.health = HealthConfig{10s, 2s, 3, 15s};  // interval, timeout, retries, start_period
    return api;
}

}  // namespace

TEST_CASE("health checks start after the start period and repeat every interval", "[supervisor][health]") {
    Harness h({checked_service()});
    h.start_all();
    h.started("api");
    const TimePoint started_at = h.now;
    CHECK(h.status("api").health == Health::Unknown);

    // First probe at max(ready + interval, start + start_period) = start + 15s.
    CHECK(*h.supervisor.next_deadline() == started_at + 15s);
    auto actions = h.advance_to_deadline();
    auto probes = all_of<RunProbe>(actions);
    REQUIRE(probes.size() == 1);
    CHECK(probes[0] == RunProbe{"api", ProbeKind::Health, h.pid("api"), started_at + 17s});
    CHECK(*h.supervisor.next_deadline() == started_at + 17s);  // the probe's own deadline

    h.now += 500ms;
    h.probe("api", ProbeKind::Health, true);
    CHECK(h.status("api").health == Health::Healthy);
    CHECK(*h.supervisor.next_deadline() == started_at + 25s);
}

TEST_CASE("`retries` consecutive health failures restart the service", "[supervisor][health]") {
    Harness h({checked_service()});
    h.start_all();
    h.started("api");

    for (int failure = 1; failure <= 2; ++failure) {
        REQUIRE(all_of<RunProbe>(h.advance_to_deadline()).size() == 1);
        CHECK(signalled(h.probe("api", ProbeKind::Health, false)).empty());
        CHECK(h.state("api") == ServiceState::Ready);
    }
    REQUIRE(all_of<RunProbe>(h.advance_to_deadline()).size() == 1);
    auto actions = h.probe("api", ProbeKind::Health, false);
    CHECK(signalled(actions) == std::vector<std::string>{"api:SIGTERM"});
    CHECK(h.status("api").health == Health::Unhealthy);
    CHECK(h.status("api").last_error == "unhealthy: 3 consecutive health checks failed");

    h.exited("api", ExitStatus::exited(0));  // a clean exit after our SIGTERM is still a failure
    CHECK(h.state("api") == ServiceState::Backoff);
    CHECK(started(h.advance_to_deadline()) == std::vector<std::string>{"api"});
    CHECK(h.status("api").restarts == 1);
    CHECK(h.status("api").health == Health::Unknown);  // a new process: not checked yet
}

TEST_CASE("a successful health check resets the consecutive failure count", "[supervisor][health]") {
    Harness h({checked_service()});
    h.start_all();
    h.started("api");
    for (bool ok : {false, false, true, false, false}) {
        h.advance_to_deadline();
        CHECK(signalled(h.probe("api", ProbeKind::Health, ok)).empty());
    }
    CHECK(h.state("api") == ServiceState::Ready);
}

TEST_CASE("an unanswered health probe counts as failed at its deadline", "[supervisor][health]") {
    Harness h({checked_service()});
    h.start_all();
    h.started("api");
    h.advance_to_deadline();           // probe 1 runs...
    h.advance_to_deadline();           // ...and times out: failure 1
    h.advance_to_deadline();           // probe 2 (next interval)
    h.advance_to_deadline();           // timeout: failure 2
    h.advance_to_deadline();           // probe 3
    auto actions = h.advance_to_deadline();  // timeout: failure 3 → stop
    CHECK(signalled(actions) == std::vector<std::string>{"api:SIGTERM"});
    // The answer to a probe that already timed out is ignored.
    CHECK(h.probe("api", ProbeKind::Health, true).empty());
    CHECK(h.status("api").health == Health::Unhealthy);
}
