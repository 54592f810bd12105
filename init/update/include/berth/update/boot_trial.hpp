// When a trial boot (an entry with a boot counter) has earned its blessing: every critical
// service ready (a oneshot: exited 0), passing its health check, and no failure nor restart for
// a whole health window; or when it has failed: a critical service gave up, or the time limit
// passed without such a window. Pure: fed the supervisor's statuses and a clock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/service_state.hpp"

namespace berth::update {

using supervisor::Duration;
using supervisor::TimePoint;

struct TrialLimits {
    Duration health_window = std::chrono::seconds(30);  // healthy this long without a break
    Duration time_limit = std::chrono::minutes(5);      // from PID 1's start; then the boot has failed
};

struct TrialVerdict {
    enum Kind { Undecided, Healthy, Failed };
    Kind kind = Undecided;
    std::string step;    // Failed: "critical service", "health timeout"; Healthy: "healthy"
    std::string reason;  // in words, for the log and the record
    bool operator==(const TrialVerdict&) const = default;
};

class BootTrial {
public:
    BootTrial(TrialLimits limits, TimePoint start) : limits_(limits), start_(start) {}

    // The supervisor's statuses at `now` (every service; only the critical ones count).
    // Once decided, the verdict stays.
    const TrialVerdict& observe(const std::vector<supervisor::ServiceStatus>& services, TimePoint now);
    // A critical service gave up (the supervisor's ServiceFailedCritical).
    const TrialVerdict& critical_failed(const std::string& service, const std::string& reason);
    const TrialVerdict& verdict() const { return verdict_; }
    // When observe() may decide next without any event (the window's end, the limit).
    std::optional<TimePoint> next_deadline() const;

private:
    // Why the critical services are not healthy now; "" when they are.
    std::string unhealthy_now(const std::vector<supervisor::ServiceStatus>& services);

    TrialLimits limits_;
    TimePoint start_;
    std::optional<TimePoint> healthy_since_;
    std::vector<std::pair<std::string, int>> restarts_;  // critical service → restarts seen
    std::string last_problem_ = "no observation yet";
    TrialVerdict verdict_;
};

}  // namespace berth::update
