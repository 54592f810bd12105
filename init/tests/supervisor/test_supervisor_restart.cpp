// Restart policies (no, on-failure, always), restart counts and what is kept for display.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

namespace {

ServiceConfig with_policy(RestartPolicy::Kind kind) {
    auto config = service("svc");
    config.restart.kind = kind;
    return config;
}

// Exits the running service with `status`; returns the state it lands in.
ServiceState exit_with(RestartPolicy::Kind kind, ExitStatus status) {
    Harness h({with_policy(kind)});
    h.start_all();
    h.started("svc");
    h.exited("svc", status);
    return h.state("svc");
}

}  // namespace

TEST_CASE("restart policy decides what an exit leads to", "[supervisor][restart]") {
    const auto ok = ExitStatus::exited(0), code = ExitStatus::exited(2), killed = ExitStatus::signaled(SIGKILL);

    CHECK(exit_with(RestartPolicy::Always, ok) == ServiceState::Backoff);
    CHECK(exit_with(RestartPolicy::Always, code) == ServiceState::Backoff);
    CHECK(exit_with(RestartPolicy::Always, killed) == ServiceState::Backoff);

    CHECK(exit_with(RestartPolicy::OnFailure, ok) == ServiceState::Exited);
    CHECK(exit_with(RestartPolicy::OnFailure, code) == ServiceState::Backoff);
    CHECK(exit_with(RestartPolicy::OnFailure, killed) == ServiceState::Backoff);

    CHECK(exit_with(RestartPolicy::No, ok) == ServiceState::Exited);
    CHECK(exit_with(RestartPolicy::No, code) == ServiceState::Failed);
    CHECK(exit_with(RestartPolicy::No, killed) == ServiceState::Failed);
}

TEST_CASE("an automatic restart is counted and keeps the last exit", "[supervisor][restart]") {
    Harness h({with_policy(RestartPolicy::OnFailure)});
    h.start_all();
    h.started("svc");
    h.now += 5s;
    auto actions = h.exited("svc", ExitStatus::signaled(SIGSEGV));

    auto status = h.status("svc");
    CHECK(status.state == ServiceState::Backoff);
    CHECK(status.pid == 0);
    CHECK_FALSE(status.uptime);
    CHECK(status.last_exit == ExitStatus::signaled(SIGSEGV));
    CHECK(status.last_error == "killed by SIGSEGV");
    CHECK(status.restarts == 0);
    REQUIRE(status.restart_at);
    CHECK(*status.restart_at == h.now + 100ms);
    const auto logs = all_of<LogEvent>(actions);
    REQUIRE_FALSE(logs.empty());
    CHECK(logs.back().text == "killed by SIGSEGV; restarting in 100ms");

    CHECK(started(h.advance(100ms)) == std::vector<std::string>{"svc"});
    CHECK(h.status("svc").restarts == 1);
    h.started("svc");
    h.now += 3s;
    status = h.status("svc");
    CHECK(status.state == ServiceState::Ready);
    CHECK(status.pid == h.pid("svc"));
    CHECK(status.uptime == std::chrono::nanoseconds(3s));
    CHECK(status.last_error == "killed by SIGSEGV");  // kept after recovery, for the operator

    h.exited("svc", ExitStatus::exited(1));
    h.advance_to_deadline();
    CHECK(h.status("svc").restarts == 2);
}

TEST_CASE("policy no: a failure is final and names its cause", "[supervisor][restart]") {
    auto config = with_policy(RestartPolicy::No);
    config.critical = true;
    Harness h({config});
    h.start_all();
    h.started("svc");
    auto actions = h.exited("svc", ExitStatus::exited(7));
    CHECK(h.state("svc") == ServiceState::Failed);
    CHECK(h.status("svc").last_error == "exited with code 7");
    CHECK(all_of<ServiceFailedCritical>(actions) ==
          std::vector<ServiceFailedCritical>{{"svc", "exited with code 7"}});
    CHECK_FALSE(h.supervisor.next_deadline());
}

TEST_CASE("a oneshot that exits 0 is done whatever the policy, a failing one is retried by policy",
          "[supervisor][restart][oneshot]") {
    auto setup = oneshot("setup");
    setup.restart.kind = RestartPolicy::Always;
    Harness h({setup});
    h.start_all();
    h.started("setup");
    h.exited("setup", ExitStatus::exited(1));
    CHECK(h.state("setup") == ServiceState::Backoff);
    CHECK(started(h.advance_to_deadline()) == std::vector<std::string>{"setup"});
    h.started("setup");
    h.exited("setup", ExitStatus::exited(0));
    CHECK(h.state("setup") == ServiceState::Exited);
    CHECK(h.status("setup").restarts == 1);
}

TEST_CASE("a restart waits for a required dependency that is itself restarting", "[supervisor][restart]") {
    auto db = with_policy(RestartPolicy::Always);
    db.name = "db";
    auto app = service("app", {}, {"db"});
    app.restart.kind = RestartPolicy::Always;
    Harness h({db, app});
    h.start_all();
    h.bring_up("db");
    h.bring_up("app");

    h.exited("db", ExitStatus::exited(1));
    h.exited("app", ExitStatus::exited(1));
    // Both back-offs are 100ms; db restarts, app waits until db is ready again.
    CHECK(started(h.advance(100ms)) == std::vector<std::string>{"db"});
    CHECK(h.state("app") == ServiceState::Waiting);
    CHECK(started(h.started("db")) == std::vector<std::string>{"app"});
}
