// Start ordering: dependencies first, oneshot dependencies, `after` versus `requires`, failure
// cascades, and what create() refuses.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

TEST_CASE("independent services start together, in the given order", "[supervisor][order]") {
    Harness h({service("log"), service("ntp"), service("sshd")});
    CHECK(started(h.start_all()) == std::vector<std::string>{"log", "ntp", "sshd"});
    CHECK(h.state("log") == ServiceState::Starting);
    CHECK(h.supervisor.start_all(h.now).empty());  // a second call does nothing
}

TEST_CASE("nothing starts before start_all", "[supervisor][order]") {
    Harness h({service("a")});
    CHECK(h.state("a") == ServiceState::Waiting);
    CHECK(started(h.advance(1s)).empty());
}

TEST_CASE("dependents start only once their dependencies are ready", "[supervisor][order]") {
    auto db = service("db");
    db.readiness = {ReadinessKind::Tcp, 10s, 500ms};
    Harness h({service("web", {"app"}), service("app", {}, {"db"}), db});

    CHECK(started(h.start_all()) == std::vector<std::string>{"db"});

    // db runs but is not ready: its probe runs, app keeps waiting.
    auto actions = h.started("db");
    CHECK(h.state("db") == ServiceState::Running);
    auto probes = all_of<RunProbe>(actions);
    REQUIRE(probes.size() == 1);
    CHECK(probes[0].kind == ProbeKind::Ready);
    CHECK(probes[0].pid == h.pid("db"));
    CHECK(probes[0].deadline == h.now + 10s);
    CHECK(started(h.probe("db", ProbeKind::Ready, false)).empty());
    CHECK(h.state("app") == ServiceState::Waiting);

    // The next attempts come 10 ms later, then twice as late each time, up to retry_interval.
    for (auto wait : {10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 500ms, 500ms}) {
        CHECK(*h.supervisor.next_deadline() == h.now + wait);
        CHECK(all_of<RunProbe>(h.advance(wait - 1ms)).empty());
        CHECK(all_of<RunProbe>(h.advance(1ms)).size() == 1);
        CHECK(started(h.probe("db", ProbeKind::Ready, false)).empty());
    }
    CHECK(all_of<RunProbe>(h.advance(500ms)).size() == 1);

    // Ready: app starts, web (after app) still waits.
    CHECK(started(h.probe("db", ProbeKind::Ready, true)) == std::vector<std::string>{"app"});
    CHECK(h.state("db") == ServiceState::Ready);
    CHECK(h.state("web") == ServiceState::Waiting);

    // app has no readiness check: ready as soon as its process runs, then web starts.
    CHECK(started(h.started("app")) == std::vector<std::string>{"web"});
    CHECK(h.state("app") == ServiceState::Ready);
}

TEST_CASE("a notify service is ready on READY=1", "[supervisor][order]") {
    auto net = service("net");
    net.readiness.kind = ReadinessKind::Notify;
    Harness h({net, service("sshd", {}, {"net"})});
    h.start_all();
    auto actions = h.started("net");
    CHECK(all_of<RunProbe>(actions).empty());  // nothing to poll: the service says so itself
    CHECK(h.state("net") == ServiceState::Running);
    CHECK(started(h.ready("net")) == std::vector<std::string>{"sshd"});
    CHECK(h.state("net") == ServiceState::Ready);
    CHECK(h.ready("net").empty());  // a repeated READY=1 changes nothing
}

TEST_CASE("a oneshot dependency is up once it exits 0", "[supervisor][order][oneshot]") {
    Harness h({oneshot("migrate"), service("app", {}, {"migrate"}), service("report", {"migrate"})});
    CHECK(started(h.start_all()) == std::vector<std::string>{"migrate"});
    CHECK(started(h.started("migrate")).empty());
    CHECK(h.state("migrate") == ServiceState::Running);  // running, never "ready"

    auto actions = h.exited("migrate", ExitStatus::exited(0));
    CHECK(h.state("migrate") == ServiceState::Exited);
    CHECK(started(actions) == std::vector<std::string>{"app", "report"});
}

TEST_CASE("a failed oneshot fails its `requires` dependents and releases its `after` dependents",
          "[supervisor][order][oneshot]") {
    auto migrate = oneshot("migrate");
    migrate.restart.kind = RestartPolicy::No;
    Harness h({migrate, service("app", {}, {"migrate"}), service("report", {"migrate"})});
    h.start_all();
    h.started("migrate");
    auto actions = h.exited("migrate", ExitStatus::exited(3));
    CHECK(h.state("migrate") == ServiceState::Failed);
    CHECK(h.status("migrate").last_error == "exited with code 3");
    CHECK(h.state("app") == ServiceState::Failed);
    CHECK(h.status("app").last_error == "required service 'migrate' failed");
    CHECK(started(actions) == std::vector<std::string>{"report"});  // `after` only orders
}

TEST_CASE("a requires-failure cascades through the chain with reasons naming each cause",
          "[supervisor][order][cascade]") {
    auto top = service("top", {}, {"mid"});
    top.critical = true;
    Harness h({service("base"), service("mid", {}, {"base"}), top, service("side", {"base"})});
    h.start_all();
    auto actions = h.supervisor.start_failed("base", "rootfs '/srv/base' does not exist", h.now);

    CHECK(h.state("base") == ServiceState::Failed);
    CHECK(h.status("base").last_error == "start failed: rootfs '/srv/base' does not exist");
    CHECK(h.state("mid") == ServiceState::Failed);
    CHECK(h.status("mid").last_error == "required service 'base' failed");
    CHECK(h.state("top") == ServiceState::Failed);
    CHECK(h.status("top").last_error == "required service 'mid' failed");
    CHECK(started(actions) == std::vector<std::string>{"side"});

    const auto critical = all_of<ServiceFailedCritical>(actions);
    REQUIRE(critical.size() == 1);
    CHECK(critical[0].name == "top");
    CHECK(critical[0].reason == "required service 'mid' failed");

    // The failures are logged as errors naming the cause.
    bool logged = false;
    for (const auto& event : all_of<LogEvent>(actions))
        logged = logged || (event.name == "mid" && event.level == LogLevel::Error &&
                            event.text == "failed: required service 'base' failed");
    CHECK(logged);
}

TEST_CASE("a start error is not retried", "[supervisor][order]") {
    auto config = service("a");
    config.restart.kind = RestartPolicy::Always;
    Harness h({config});
    h.start_all();
    h.supervisor.start_failed("a", "no such image", h.now);
    CHECK(h.state("a") == ServiceState::Failed);
    CHECK_FALSE(h.supervisor.next_deadline());
}

TEST_CASE("create refuses bad service sets with clear messages", "[supervisor][config]") {
    auto error_of = [](std::vector<ServiceConfig> configs) {
        auto result = Supervisor::create(std::move(configs));
        REQUIRE_FALSE(result);
        return result.error().message;
    };
    CHECK(error_of({service("a"), service("a")}) == "service 'a' is defined twice");
    CHECK(error_of({service("a", {}, {"ghost"})}) == "service 'a' requires unknown service 'ghost'");
    CHECK(error_of({service("a", {"b"}), service("b", {"c"}), service("c", {"a"})}) ==
          "dependency cycle: a -> b -> c -> a");
    CHECK(error_of({service("a", {"a"})}) == "service 'a': depends on itself");
    CHECK(error_of({service("bad name")}) ==
          "service name 'bad name': expected [a-z0-9][a-z0-9-]*, at most 63 characters");
    auto zero_retries = service("h");
    zero_retries.health = HealthConfig{};
    zero_retries.health->retries = 0;
    CHECK(error_of({zero_retries}) == "service 'h': health.retries: must be at least 1");

    CHECK(is_valid_service_name("ntp-2"));
    CHECK(is_valid_service_name(std::string(63, 'a')));
    CHECK_FALSE(is_valid_service_name(std::string(64, 'a')));
    CHECK_FALSE(is_valid_service_name("-ntp"));
    CHECK_FALSE(is_valid_service_name("NTP"));
    CHECK_FALSE(is_valid_service_name("ntp.d"));
    CHECK_FALSE(is_valid_service_name(""));

    // An `after` naming an absent service is fine: it orders against nothing.
    CHECK(Supervisor::create({service("a", {"not-installed"})}));
}

TEST_CASE("a change the ready probe looks at brings its next attempt forward", "[supervisor][order]") {
    auto net = service("net");
    net.readiness = {ReadinessKind::File, 30s, 500ms};
    Harness h({net, service("ntp", {}, {"net"})});
    h.start_all();
    REQUIRE(all_of<RunProbe>(h.started("net")).size() == 1);
    h.probe("net", ProbeKind::Ready, false);
    for (auto wait : {10ms, 20ms, 40ms, 80ms, 160ms}) {
        h.advance(wait);
        h.probe("net", ProbeKind::Ready, false);
    }
    // Next attempt due in 320 ms; the file appears 5 ms from now: the probe runs at the next tick.
    REQUIRE(*h.supervisor.next_deadline() == h.now + 320ms);
    h.advance(5ms);
    CHECK(h.supervisor.ready_probe_soon("net", h.now).empty());
    CHECK(*h.supervisor.next_deadline() == h.now);
    CHECK(all_of<RunProbe>(h.advance(0ms)).size() == 1);
    CHECK(started(h.probe("net", ProbeKind::Ready, true)) == std::vector<std::string>{"ntp"});

    // Once ready (or while a probe is in flight) there is nothing to bring forward.
    CHECK(h.supervisor.ready_probe_soon("net", h.now).empty());
    CHECK(all_of<RunProbe>(h.advance(0ms)).empty());
    CHECK(h.supervisor.ready_probe_soon("no-such-service", h.now).empty());
}
