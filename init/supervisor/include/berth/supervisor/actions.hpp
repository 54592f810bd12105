// What the supervisor asks the PID 1 loop to do. The loop executes them in order and reports
// back through Supervisor's event methods (process_started, process_exited, probe_result, ...).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

// Create and start the service's container; report process_started or start_failed.
struct StartService {
    std::string name;
    bool operator==(const StartService&) const = default;
};

// kill(pid, signal): the pid is the container's first process, a child of PID 1.
struct SignalService {
    std::string name;
    int pid = 0;
    int signal = 0;
    bool operator==(const SignalService&) const = default;
};

enum class ProbeKind { Ready, Health };
const char* probe_kind_name(ProbeKind kind);  // "ready", "health"

// Run the service's readiness (exec/tcp/file) or health (exec) probe against process `pid`;
// report probe_result before `deadline` (the supervisor counts an unanswered probe as failed).
struct RunProbe {
    std::string name;
    ProbeKind kind = ProbeKind::Ready;
    int pid = 0;
    TimePoint deadline{};
    bool operator==(const RunProbe&) const = default;
};

enum class LogLevel { Info, Warning, Error };

// A line for the system log: what happened to a service and why.
struct LogEvent {
    std::string name;
    LogLevel level = LogLevel::Info;
    std::string text;
    bool operator==(const LogEvent&) const = default;
};

// Shutdown finished: every service is down; the loop may reboot or power off.
struct AllStopped {
    bool operator==(const AllStopped&) const = default;
};

// A critical service gave up (Failed): input for the A/B update and rollback logic.
struct ServiceFailedCritical {
    std::string name;
    std::string reason;
    bool operator==(const ServiceFailedCritical&) const = default;
};

// remove_service finished: the loop drops the service's manifest, log ring and container state.
struct ServiceRemoved {
    std::string name;
    bool operator==(const ServiceRemoved&) const = default;
};

using Action = std::variant<StartService, SignalService, RunProbe, LogEvent, AllStopped,
                            ServiceFailedCritical, ServiceRemoved>;
using Actions = std::vector<Action>;

// One line per action, for debug logs and test failure messages.
std::string describe_action(const Action& action);

}  // namespace berth::supervisor
