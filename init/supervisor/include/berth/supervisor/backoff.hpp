// Restart policy and the exponential back-off between automatic restarts.
#pragma once

#include <chrono>
#include <optional>

#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

struct RestartPolicy {
    enum Kind { No, OnFailure, Always };
    Kind kind = OnFailure;
    Duration initial_delay{100ms};
    Duration max_delay{30s};    // the cap the doubling stops at
    Duration reset_after{60s};  // a run this long counts as stable: the next delay starts over
};

const char* restart_policy_name(RestartPolicy::Kind kind);  // "no", "on-failure", "always"

// Delays initial, 2*initial, 4*initial, ... up to max_delay. A service that ran for reset_after
// without exiting proved it can run, so its next crash starts the sequence over.
class Backoff {
public:
    explicit Backoff(RestartPolicy policy = {});

    void on_started(TimePoint now);
    void on_exited(TimePoint now);
    // The delay before the next restart; each call doubles the following one (up to the cap).
    Duration next_delay(TimePoint now);
    // What next_delay would return now, without advancing.
    Duration peek() const { return next_; }
    void reset();

private:
    bool ran_stably(TimePoint now) const;

    RestartPolicy policy_;
    Duration next_;
    std::optional<TimePoint> running_since_;
};

}  // namespace berth::supervisor
