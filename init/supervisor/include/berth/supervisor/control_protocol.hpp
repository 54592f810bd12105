// The control socket protocol (/run/berth/control.sock): one JSON object per line each way.
// The full description, with examples, is docs/control-protocol.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/result.hpp"
#include "berth/paths.hpp"
#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/supervisor/service_state.hpp"

namespace berth::supervisor::control {

inline constexpr const char* kSocketPath = paths::kControlSocket;
inline constexpr std::size_t kMaxLineBytes = 1024 * 1024;  // an inline manifest must fit; the newline not counted
inline constexpr std::size_t kMaxNestingDepth = 64;         // brackets and braces; requests are flat

// ---- requests ----

struct StatusRequest {
    bool operator==(const StatusRequest&) const = default;
};
struct ServicesRequest {
    bool operator==(const ServicesRequest&) const = default;
};
struct LogsRequest {
    std::string service;
    std::optional<std::size_t> lines;  // the last N; all retained lines when absent
    std::optional<WallTime> since;     // only lines at or after this time
    bool follow = false;               // keep the connection and stream new lines
    bool operator==(const LogsRequest&) const = default;
};
struct StartRequest {
    std::string service;
    bool operator==(const StartRequest&) const = default;
};
struct StopRequest {
    std::string service;
    bool operator==(const StopRequest&) const = default;
};
struct RestartRequest {
    std::string service;
    bool operator==(const RestartRequest&) const = default;
};
// Exactly one form: manifest_path (an absolute path on the host), or manifest (TOML text) + name.
struct AddRequest {
    std::string manifest_path;
    std::string manifest;
    std::string name;
    bool operator==(const AddRequest&) const = default;
};
struct RemoveRequest {
    std::string service;
    bool operator==(const RemoveRequest&) const = default;
};
// Sends a signal to the service's main process (as `kill`; the supervisor then sees the exit
// and applies the restart policy). signal: a name ("KILL", "SIGTERM") or a number.
struct KillRequest {
    std::string service;
    std::string signal = "TERM";
    bool operator==(const KillRequest&) const = default;
};
struct RebootRequest {
    bool operator==(const RebootRequest&) const = default;
};
struct PoweroffRequest {
    bool operator==(const PoweroffRequest&) const = default;
};

// Host updates (docs/updates.md), carried out by an update job berth-init runs in a child process.
// "apply" reads the bundle from the file descriptor sent with the request line (SCM_RIGHTS); its
// answer is a stream of {"ok":true,"progress":{...}} lines ending in one with "done": true, or an
// error. reboot: once applied, berth-init reboots.
struct UpdateRequest {
    std::string action;  // "apply", "status", "rollback"
    bool allow_downgrade = false;
    bool force = false;
    bool stream = false;  // write the root as it arrives, even when it would fit in memory
    bool reboot = false;
    std::string pause_at;  // test hook: the job stops at this step of an apply (docs/updates.md, "Power cuts")
    bool operator==(const UpdateRequest&) const = default;
};

using Request = std::variant<StatusRequest, ServicesRequest, LogsRequest, StartRequest, StopRequest, RestartRequest,
                             AddRequest, RemoveRequest, KillRequest, RebootRequest, PoweroffRequest, UpdateRequest>;

// Server side: strict. Unknown cmd, a missing, extra or mistyped field is an error naming the
// field ("request.lines: expected a positive integer").
Result<Request> parse_request(std::string_view line);

// Client side: the request as one line, newline included (parse_request reads it back).
std::string request_line(const Request& request);

// ---- responses ----

// {"ok":true, ...payload fields}\n — payload must be a JSON object (or null for none).
std::string ok_response(const nlohmann::json& payload = nullptr);
// {"ok":false,"error":message}\n
std::string error_response(std::string_view message);
// Client side: the response's fields when ok, else its error message as the Error.
Result<nlohmann::json> parse_response(std::string_view line);

// Payloads. A service: {"name","state","pid"|null,"uptime_seconds"|null,"restarts","health",
// "last_exit":{"code":N}|{"signal":"SIGKILL"}|null,"last_error"|null,"oneshot","critical"}.
nlohmann::json service_json(const ServiceStatus& status);
// {"services":[service...]}
nlohmann::json services_payload(const std::vector<ServiceStatus>& statuses);
// {"state":"starting"|"running"|"degraded"|"shutting-down","services":N,
//  "counts":{"ready":N,...},"failed":[names]}
nlohmann::json status_payload(const std::vector<ServiceStatus>& statuses, bool shutting_down);
// A record: {"seq","time":RFC 3339,"stream":"stdout"|"stderr","line"}.
nlohmann::json log_record_json(const LogRecord& record);
// {"service":S,"records":[record...],"dropped":N} (dropped: records the ring has evicted so far).
nlohmann::json logs_payload(std::string_view service, const std::vector<LogRecord>& records, std::uint64_t dropped);

}  // namespace berth::supervisor::control
