// What the supervisor needs to know about one service; built by berth-init from the TOML manifest
// (the probe commands, ports and paths stay there: the loop runs probes, the supervisor times them).
#pragma once

#include <csignal>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/service_name.hpp"
#include "berth/supervisor/backoff.hpp"
#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

enum class ReadinessKind { None, Exec, Tcp, File, Notify };
const char* readiness_kind_name(ReadinessKind kind);  // "none", "exec", "tcp", "file", "notify"

struct ReadinessConfig {
    ReadinessKind kind = ReadinessKind::None;
    Duration timeout{30s};          // from process start to ready, else the start counts as failed
    Duration retry_interval{250ms};  // between attempts of a polled probe (exec, tcp, file), at most
    // A service is usually ready soon after its start: the first retry comes after this, each next
    // one twice as late, up to retry_interval (10, 20, 40, ... ms: a boot is not held up 250 ms).
    Duration first_retry{10ms};
};

// An exec health check: run every `interval` once the service is ready.
struct HealthConfig {
    Duration interval{30s};
    Duration timeout{5s};  // one probe; an overdue probe counts as failed
    int retries = 3;       // consecutive failures that make the service unhealthy → restart
    Duration start_period{0s};  // grace after process start before the first probe
};

struct ServiceConfig {
    std::string name;
    bool oneshot = false;   // runs to completion; "done" (Exited) when it exits 0
    bool critical = false;  // its failure is reported as ServiceFailedCritical (A/B rollback)
    RestartPolicy restart;
    ReadinessConfig readiness;  // ignored for oneshots: they are done when they exit 0
    std::optional<HealthConfig> health;  // ignored for oneshots
    int stop_signal = SIGTERM;
    Duration stop_timeout{10s};  // then SIGKILL
    std::vector<std::string> dependencies;  // after ∪ requires: started only once these are up
    std::vector<std::string> requirements;  // requires: if one of these fails, so does this service
};

// [a-z0-9][a-z0-9-]*, at most 63 characters: the one rule, shared with the manifests.
using ::berth::is_valid_service_name;

// Field-level checks of one config (not cross-service ones); errors name the service and field.
Result<void> validate_service_config(const ServiceConfig& config);

}  // namespace berth::supervisor
