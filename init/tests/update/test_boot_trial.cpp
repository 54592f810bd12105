#include <catch2/catch.hpp>

#include "berth/update/boot_trial.hpp"

using namespace berth::update;
using namespace std::chrono_literals;
using berth::supervisor::Health;
using berth::supervisor::ServiceState;
using berth::supervisor::ServiceStatus;

namespace {
ServiceStatus service(const std::string& name, ServiceState state, bool critical = true, int restarts = 0,
                      Health health = Health::None) {
    ServiceStatus s;
    s.name = name;
    s.state = state;
    s.critical = critical;
    s.restarts = restarts;
    s.health = health;
    return s;
}
const TimePoint t0{};
}  // namespace

TEST_CASE("healthy for a whole window: the boot is blessed") {
    BootTrial trial({.health_window = 3s, .time_limit = 60s}, t0);
    std::vector<ServiceStatus> up = {service("web", ServiceState::Ready), service("other", ServiceState::Backoff, false)};
    CHECK(trial.observe({service("web", ServiceState::Starting)}, t0 + 1s).kind == TrialVerdict::Undecided);
    CHECK(trial.next_deadline() == t0 + 60s);
    CHECK(trial.observe(up, t0 + 2s).kind == TrialVerdict::Undecided);
    CHECK(trial.next_deadline() == t0 + 5s);
    CHECK(trial.observe(up, t0 + 4999ms).kind == TrialVerdict::Undecided);
    auto verdict = trial.observe(up, t0 + 5s);
    CHECK(verdict.kind == TrialVerdict::Healthy);
    CHECK(verdict.step == "healthy");
    CHECK(verdict.reason == "every critical service healthy for 3s");
    CHECK_FALSE(trial.next_deadline());
    // Decided: a later failure changes nothing.
    CHECK(trial.critical_failed("web", "exited").kind == TrialVerdict::Healthy);
}

TEST_CASE("a restart or a failing health check starts the window again") {
    BootTrial trial({.health_window = 3s, .time_limit = 60s}, t0);
    trial.observe({service("web", ServiceState::Ready)}, t0 + 1s);
    CHECK(trial.observe({service("web", ServiceState::Ready, true, 1)}, t0 + 2s).kind == TrialVerdict::Undecided);
    CHECK(trial.observe({service("web", ServiceState::Ready, true, 1)}, t0 + 4500ms).kind == TrialVerdict::Undecided);
    CHECK(trial.next_deadline() == t0 + 7500ms);
    trial.observe({service("web", ServiceState::Ready, true, 1, Health::Unhealthy)}, t0 + 5s);
    CHECK(trial.next_deadline() == t0 + 60s);
    trial.observe({service("web", ServiceState::Ready, true, 1, Health::Healthy)}, t0 + 6s);
    CHECK(trial.observe({service("web", ServiceState::Ready, true, 1, Health::Healthy)}, t0 + 9s).kind ==
          TrialVerdict::Healthy);
}

TEST_CASE("a oneshot critical service counts once it exited 0") {
    BootTrial trial({.health_window = 1s, .time_limit = 60s}, t0);
    auto job = service("migrate", ServiceState::Exited);
    job.oneshot = true;
    trial.observe({job}, t0);
    CHECK(trial.observe({job}, t0 + 1s).kind == TrialVerdict::Healthy);
}

TEST_CASE("no healthy window within the limit: the boot has failed, and says why") {
    BootTrial trial({.health_window = 30s, .time_limit = 60s}, t0);
    auto web = service("web", ServiceState::Backoff);
    web.last_error = "exited with code 1";
    trial.observe({web}, t0 + 10s);
    trial.observe({service("web", ServiceState::Ready)}, t0 + 40s);  // healthy, but too late for 30 s
    auto verdict = trial.observe({service("web", ServiceState::Ready)}, t0 + 60s);
    CHECK(verdict.kind == TrialVerdict::Failed);
    CHECK(verdict.step == "health timeout");
    CHECK(verdict.reason == "not healthy for 30s within 1m0s: critical service 'web' is backoff (exited with code 1)");
}

TEST_CASE("a critical service that gives up fails the boot at once") {
    BootTrial trial({.health_window = 30s, .time_limit = 60s}, t0);
    auto verdict = trial.critical_failed("web", "exited with code 3");
    CHECK(verdict.kind == TrialVerdict::Failed);
    CHECK(verdict.step == "critical service");
    CHECK(verdict.reason == "critical service 'web' failed: exited with code 3");
    CHECK(trial.observe({service("web", ServiceState::Ready)}, t0 + 59s).kind == TrialVerdict::Failed);
}

TEST_CASE("without critical services the window starts at the first look") {
    BootTrial trial({.health_window = 2s, .time_limit = 60s}, t0);
    trial.observe({service("sshd", ServiceState::Starting, false)}, t0 + 1s);
    CHECK(trial.observe({}, t0 + 3s).kind == TrialVerdict::Healthy);
}
