// A service's place in its life cycle, and the per-service facts shown by `berthctl services`.
#pragma once

#include <optional>
#include <string>

#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/exit_status.hpp"

namespace berth::supervisor {

// Long-running service:  Waiting → Starting → [Running →] Ready → Stopping → Stopped/Backoff/...
// Oneshot:               Waiting → Starting → Running → Exited (code 0) or Backoff/Failed.
enum class ServiceState {
    Waiting,   // for its dependencies (or for start_all)
    Starting,  // StartService was emitted; no pid yet
    Running,   // the process is up but not ready: readiness pending, or a oneshot still running.
               // A service without a readiness check skips this and is Ready once its pid is known.
    Ready,     // up and ready: dependents may start
    Stopping,  // stop signal sent, waiting for the exit (SIGKILL after stop_timeout)
    Backoff,   // exited or failed; restarts when the back-off delay expires
    Exited,    // ended and stays down: oneshot done (code 0), or exit 0 under policy no/on-failure
    Failed,    // gave up: start error, failure under policy no, or a required service failed
    Stopped,   // stopped on request (user, shutdown)
};
const char* service_state_name(ServiceState state);  // "waiting", "starting", ...

enum class Health { None /*no check configured*/, Unknown, Healthy, Unhealthy };
const char* health_name(Health health);  // "none", "unknown", "healthy", "unhealthy"

struct ServiceStatus {
    std::string name;
    ServiceState state = ServiceState::Waiting;
    bool oneshot = false;
    bool critical = false;
    int pid = 0;  // 0 when no process
    std::optional<TimePoint> started_at;  // while a process is up
    std::optional<std::chrono::nanoseconds> uptime;
    int restarts = 0;  // automatic restarts (not user restarts)
    std::optional<ExitStatus> last_exit;
    Health health = Health::None;
    std::string last_error;  // most recent failure reason; kept after recovery
    std::optional<TimePoint> restart_at;  // in Backoff
};

}  // namespace berth::supervisor
