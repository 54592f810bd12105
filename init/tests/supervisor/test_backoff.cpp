// Back-off: exact delay sequences and the reset after a stable run, with an injected clock.
#include "supervisor_harness.hpp"

using namespace berth::supervisor;
using namespace berth::supervisor::testing;

namespace {

std::vector<long long> delays_ms(Backoff& backoff, TimePoint now, int count) {
    std::vector<long long> delays;
    for (int i = 0; i < count; ++i) delays.push_back(backoff.next_delay(now).count());
    return delays;
}

}  // namespace

TEST_CASE("back-off doubles from the initial delay up to the cap", "[backoff]") {
    Backoff backoff(RestartPolicy{RestartPolicy::Always, 100ms, 30s, 60s});
    const TimePoint now{};
    CHECK(delays_ms(backoff, now, 12) ==
          std::vector<long long>{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000});
}

TEST_CASE("back-off with a cap that is not a power-of-two multiple", "[backoff]") {
    Backoff backoff(RestartPolicy{RestartPolicy::Always, 250ms, 1500ms, 60s});
    CHECK(delays_ms(backoff, TimePoint{}, 5) == std::vector<long long>{250, 500, 1000, 1500, 1500});
}

TEST_CASE("back-off starts at the cap when the initial delay exceeds it", "[backoff]") {
    Backoff backoff(RestartPolicy{RestartPolicy::Always, 10s, 2s, 60s});
    CHECK(delays_ms(backoff, TimePoint{}, 2) == std::vector<long long>{2000, 2000});
}

TEST_CASE("back-off resets after a run of reset_after, not before", "[backoff]") {
    Backoff backoff(RestartPolicy{RestartPolicy::Always, 100ms, 30s, 60s});
    TimePoint now = TimePoint{} + 1h;
    CHECK(delays_ms(backoff, now, 3) == std::vector<long long>{100, 200, 400});

    // Ran 59.999s: not stable, the sequence goes on.
    backoff.on_started(now);
    now += 59999ms;
    backoff.on_exited(now);
    CHECK(backoff.next_delay(now) == 800ms);

    // Ran exactly 60s: stable, start over.
    backoff.on_started(now);
    now += 60s;
    backoff.on_exited(now);
    CHECK(delays_ms(backoff, now, 3) == std::vector<long long>{100, 200, 400});
}

TEST_CASE("back-off resets when still running after reset_after even without on_exited", "[backoff]") {
    Backoff backoff(RestartPolicy{RestartPolicy::Always, 100ms, 30s, 60s});
    TimePoint now = TimePoint{} + 1h;
    delays_ms(backoff, now, 4);
    backoff.on_started(now);
    CHECK(backoff.next_delay(now + 61s) == 100ms);
    CHECK(backoff.peek() == 200ms);
    backoff.reset();
    CHECK(backoff.peek() == 100ms);
}

TEST_CASE("supervisor restarts a crash loop with the back-off sequence and resets after a stable run",
          "[backoff][supervisor]") {
    auto config = service("crashy");
    config.restart = RestartPolicy{RestartPolicy::Always, 100ms, 1s, 60s};
    Harness h({config});
    h.start_all();

    std::vector<long long> observed;
    for (int i = 0; i < 6; ++i) {
        h.started("crashy");
        h.now += 1s;  // runs a second, then crashes
        h.exited("crashy", ExitStatus::exited(1));
        REQUIRE(h.state("crashy") == ServiceState::Backoff);
        const TimePoint crashed_at = h.now;
        observed.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*h.supervisor.next_deadline() - crashed_at).count());
        // Nothing happens a millisecond early; the restart comes exactly at the deadline.
        h.now = *h.supervisor.next_deadline() - 1ms;
        CHECK(started(h.supervisor.tick(h.now)).empty());
        CHECK(started(h.advance(1ms)) == std::vector<std::string>{"crashy"});
    }
    CHECK(observed == std::vector<long long>{100, 200, 400, 800, 1000, 1000});
    CHECK(h.status("crashy").restarts == 6);

    // A stable run (60s) then a crash: back to the initial delay.
    h.started("crashy");
    h.now += 60s;
    h.exited("crashy", ExitStatus::signaled(SIGSEGV));
    CHECK(*h.supervisor.next_deadline() - h.now == 100ms);
}
