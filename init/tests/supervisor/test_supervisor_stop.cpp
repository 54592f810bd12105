// Stopping: escalation to SIGKILL, user stop/start/restart, and shutdown in reverse dependency order.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

TEST_CASE("a stop escalates to SIGKILL after stop_timeout", "[supervisor][stop]") {
    auto config = service("db");
    config.stop_signal = SIGINT;
    config.stop_timeout = 3s;
    config.restart.kind = RestartPolicy::Always;
    Harness h({config});
    h.start_all();
    h.bring_up("db");

    auto actions = *h.supervisor.user_stop("db", h.now);
    CHECK(all_of<SignalService>(actions) == std::vector<SignalService>{{"db", h.pid("db"), SIGINT}});
    CHECK(h.state("db") == ServiceState::Stopping);
    CHECK(*h.supervisor.next_deadline() == h.now + 3s);

    CHECK(h.advance(2999ms).empty());
    actions = h.advance(1ms);
    CHECK(all_of<SignalService>(actions) == std::vector<SignalService>{{"db", h.pid("db"), SIGKILL}});
    CHECK_FALSE(h.supervisor.next_deadline());  // nothing beyond SIGKILL
    CHECK(h.advance(1h).empty());

    h.exited("db", ExitStatus::signaled(SIGKILL));
    CHECK(h.state("db") == ServiceState::Stopped);  // stopped by the user: no restart despite `always`
    CHECK_FALSE(h.supervisor.next_deadline());
}

TEST_CASE("user stop, start and restart", "[supervisor][user]") {
    auto config = service("app");
    config.restart.kind = RestartPolicy::Always;
    Harness h({config, service("dependent", {}, {"app"})});
    h.start_all();
    h.bring_up("app");
    h.bring_up("dependent");

    SECTION("stop then start") {
        REQUIRE(h.supervisor.user_stop("app", h.now));
        h.exited("app", ExitStatus::signaled(SIGTERM));
        CHECK(h.state("app") == ServiceState::Stopped);
        CHECK(h.state("dependent") == ServiceState::Ready);  // running dependents are left alone
        CHECK(h.supervisor.user_stop("app", h.now)->empty());  // already down: nothing to do

        auto actions = h.supervisor.user_start("app", h.now);
        REQUIRE(actions);
        CHECK(started(*actions) == std::vector<std::string>{"app"});
        CHECK(h.supervisor.user_start("app", h.now)->empty());  // already starting
        CHECK(h.status("app").restarts == 0);  // only automatic restarts count
    }
    SECTION("restart: stop, then start at once without back-off") {
        auto actions = *h.supervisor.user_restart("app", h.now);
        CHECK(signalled(actions) == std::vector<std::string>{"app:SIGTERM"});
        CHECK(started(h.exited("app", ExitStatus::signaled(SIGTERM))) == std::vector<std::string>{"app"});
        CHECK(h.status("app").restarts == 0);
    }
    SECTION("stop while in back-off cancels the restart") {
        h.exited("app", ExitStatus::exited(1));
        REQUIRE(h.state("app") == ServiceState::Backoff);
        REQUIRE(h.supervisor.user_stop("app", h.now));
        CHECK(h.state("app") == ServiceState::Stopped);
        CHECK(started(h.advance(1h)).empty());
    }
    SECTION("start while in back-off starts now") {
        h.exited("app", ExitStatus::exited(1));
        CHECK(started(*h.supervisor.user_start("app", h.now)) == std::vector<std::string>{"app"});
    }
    SECTION("start a failed service") {
        h.supervisor.user_stop("app", h.now);
        h.exited("app", ExitStatus::exited(0));
        h.supervisor.user_start("app", h.now);
        h.supervisor.start_failed("app", "image missing", h.now);
        CHECK(h.state("app") == ServiceState::Failed);
        CHECK(started(*h.supervisor.user_start("app", h.now)) == std::vector<std::string>{"app"});
    }
    SECTION("unknown services are refused") {
        auto result = h.supervisor.user_start("nope", h.now);
        REQUIRE_FALSE(result);
        CHECK(result.error().message == "unknown service 'nope'");
        CHECK(h.supervisor.user_stop("nope", h.now).error().message == "unknown service 'nope'");
        CHECK(h.supervisor.user_restart("nope", h.now).error().message == "unknown service 'nope'");
    }
}

TEST_CASE("a stop requested while starting is carried out once the pid is known", "[supervisor][user]") {
    Harness h({service("slow")});
    h.start_all();
    auto actions = *h.supervisor.user_stop("slow", h.now);
    CHECK(all_of<SignalService>(actions).empty());  // no pid yet
    CHECK(h.state("slow") == ServiceState::Starting);
    CHECK(signalled(h.started("slow")) == std::vector<std::string>{"slow:SIGTERM"});
    h.exited("slow", ExitStatus::signaled(SIGTERM));
    CHECK(h.state("slow") == ServiceState::Stopped);
}

TEST_CASE("shutdown stops dependents before their dependencies, then reports AllStopped", "[supervisor][shutdown]") {
    // storage <- db <- app (requires), app <- web (after); clock is independent.
    Harness h({service("storage"), service("db", {"storage"}), service("app", {}, {"db"}), service("web", {"app"}),
               service("clock")});
    h.start_all();
    for (auto name : {"storage", "clock", "db", "app", "web"}) h.bring_up(name);

    auto actions = h.supervisor.shutdown(h.now);
    CHECK(signalled(actions) == std::vector<std::string>{"web:SIGTERM", "clock:SIGTERM"});
    CHECK_FALSE(has<AllStopped>(actions));
    CHECK(h.supervisor.shutting_down());
    CHECK(h.supervisor.shutdown(h.now).empty());  // idempotent

    CHECK(signalled(h.exited("clock", ExitStatus::exited(0))).empty());
    CHECK(signalled(h.exited("web", ExitStatus::exited(0))) == std::vector<std::string>{"app:SIGTERM"});
    CHECK(signalled(h.exited("app", ExitStatus::signaled(SIGTERM))) == std::vector<std::string>{"db:SIGTERM"});
    CHECK(signalled(h.exited("db", ExitStatus::exited(0))) == std::vector<std::string>{"storage:SIGTERM"});
    actions = h.exited("storage", ExitStatus::exited(0));
    CHECK(all_of<AllStopped>(actions).size() == 1);
    CHECK(h.supervisor.all_stopped());
    for (const auto& status : h.supervisor.statuses(h.now)) CHECK(status.state == ServiceState::Stopped);
}

TEST_CASE("shutdown: no restarts, SIGKILL escalation, waiting and backing-off services just stop",
          "[supervisor][shutdown]") {
    auto stubborn = service("stubborn");
    stubborn.stop_timeout = 5s;
    stubborn.restart.kind = RestartPolicy::Always;
    auto crashy = service("crashy");
    crashy.restart.kind = RestartPolicy::Always;
    auto waiter = service("waiter", {}, {"never-ready"});
    auto never_ready = service("never-ready");
    never_ready.readiness = {ReadinessKind::Notify, 1h, 1s};
    Harness h({stubborn, crashy, never_ready, waiter});
    h.start_all();
    h.bring_up("stubborn");
    h.started("crashy");
    h.exited("crashy", ExitStatus::exited(1));
    REQUIRE(h.state("crashy") == ServiceState::Backoff);
    h.started("never-ready");

    auto actions = h.supervisor.shutdown(h.now);
    CHECK(h.state("crashy") == ServiceState::Stopped);
    CHECK(h.state("waiter") == ServiceState::Stopped);
    CHECK(signalled(actions) == std::vector<std::string>{"stubborn:SIGTERM", "never-ready:SIGTERM"});
    h.exited("never-ready", ExitStatus::exited(0));

    CHECK(signalled(h.advance(5s)) == std::vector<std::string>{"stubborn:SIGKILL"});
    actions = h.exited("stubborn", ExitStatus::signaled(SIGKILL));
    CHECK(h.state("stubborn") == ServiceState::Stopped);  // not restarted despite `always`
    CHECK(has<AllStopped>(actions));
    CHECK(started(h.advance(1h)).empty());
}

TEST_CASE("shutdown waits for a starting service's pid before stopping it", "[supervisor][shutdown]") {
    Harness h({service("base"), service("top", {}, {"base"})});
    h.start_all();
    h.bring_up("base");  // top is now Starting
    auto actions = h.supervisor.shutdown(h.now);
    CHECK(signalled(actions).empty());  // base waits for top, top has no pid yet
    CHECK(signalled(h.started("top")) == std::vector<std::string>{"top:SIGTERM"});
    CHECK(signalled(h.exited("top", ExitStatus::exited(0))) == std::vector<std::string>{"base:SIGTERM"});
    CHECK(has<AllStopped>(h.exited("base", ExitStatus::exited(0))));
}

TEST_CASE("shutdown with nothing running is immediately complete, later requests are refused",
          "[supervisor][shutdown]") {
    Harness h({service("a")});
    auto actions = h.supervisor.shutdown(h.now);
    CHECK(has<AllStopped>(actions));
    CHECK(h.supervisor.user_start("a", h.now).error().message == "cannot start 'a': shutting down");
    CHECK(h.supervisor.add_service(service("b"), h.now).error().message == "cannot add service 'b': shutting down");
}
