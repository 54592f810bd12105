#include "berth/update/boot_trial.hpp"

#include <algorithm>

namespace berth::update {

using supervisor::Health;
using supervisor::ServiceState;

std::string BootTrial::unhealthy_now(const std::vector<supervisor::ServiceStatus>& services) {
    std::string problem;
    auto add = [&](const std::string& text) { problem += (problem.empty() ? "" : "; ") + text; };
    for (const auto& s : services) {
        if (!s.critical) continue;
        auto seen = std::find_if(restarts_.begin(), restarts_.end(), [&](const auto& p) { return p.first == s.name; });
        if (seen == restarts_.end()) {
            restarts_.emplace_back(s.name, s.restarts);
        } else if (seen->second != s.restarts) {
            seen->second = s.restarts;
            add("critical service '" + s.name + "' restarted" + (s.last_error.empty() ? "" : " (" + s.last_error + ")"));
            continue;
        }
        bool up = s.state == ServiceState::Ready || (s.oneshot && s.state == ServiceState::Exited);
        if (!up) {
            add("critical service '" + s.name + "' is " + supervisor::service_state_name(s.state) +
                (s.last_error.empty() ? "" : " (" + s.last_error + ")"));
        } else if (s.health == Health::Unhealthy || s.health == Health::Unknown) {
            add("critical service '" + s.name + "' health is " + supervisor::health_name(s.health));
        }
    }
    return problem;
}

const TrialVerdict& BootTrial::observe(const std::vector<supervisor::ServiceStatus>& services, TimePoint now) {
    if (verdict_.kind != TrialVerdict::Undecided) return verdict_;
    std::string problem = unhealthy_now(services);
    if (!problem.empty()) {
        healthy_since_.reset();
        last_problem_ = problem;
    } else if (!healthy_since_) {
        healthy_since_ = now;
    }
    if (healthy_since_ && now - *healthy_since_ >= limits_.health_window) {
        verdict_ = {TrialVerdict::Healthy, "healthy",
                    "every critical service healthy for " + supervisor::format_duration(limits_.health_window)};
    } else if (now - start_ >= limits_.time_limit) {
        verdict_ = {TrialVerdict::Failed, "health timeout",
                    "not healthy for " + supervisor::format_duration(limits_.health_window) + " within " +
                        supervisor::format_duration(limits_.time_limit) + ": " + last_problem_};
    }
    return verdict_;
}

const TrialVerdict& BootTrial::critical_failed(const std::string& service, const std::string& reason) {
    if (verdict_.kind == TrialVerdict::Undecided)
        verdict_ = {TrialVerdict::Failed, "critical service", "critical service '" + service + "' failed: " + reason};
    return verdict_;
}

std::optional<TimePoint> BootTrial::next_deadline() const {
    if (verdict_.kind != TrialVerdict::Undecided) return std::nullopt;
    TimePoint limit = start_ + limits_.time_limit;
    if (healthy_since_) return std::min(limit, *healthy_since_ + limits_.health_window);
    return limit;
}

}  // namespace berth::update
