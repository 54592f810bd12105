// Service manifests: the TOML files that declare berth-init's host services, one service
// per file (/etc/berth/services/*.toml, /var/lib/berth/services/*.toml). This header is
// the whole pipeline: text → ServiceManifest (strict, located errors) → start order →
// runtime::ContainerSpec. The format is documented in docs/manifests.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/paths.hpp"
#include "berth/runtime/spec.hpp"
#include "berth/service_name.hpp"

namespace berth::manifest {

using Duration = std::chrono::milliseconds;

enum class ServiceType { Service, Oneshot };
enum class NetworkMode { None, Host };
enum class PidMode { Private, Host };
enum class SeccompMode { Default, Unconfined, Profile };
enum class MountType { Bind, Tmpfs, Volume };
enum class ReadyKind { None, Exec, Tcp, File, Notify };
enum class RestartPolicy { No, OnFailure, Always };

// Where a key was written, so that errors found after parsing (an unknown user in the
// image, a missing device) still point at the line.
struct SourcePosition {
    uint32_t line = 0;
    uint32_t column = 0;
};

struct ContainerSection {
    std::string image;                      // name under the images root, or an absolute path
    std::vector<std::string> command;       // never empty after parsing
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string workdir = "/";
    std::string user;                       // name or numeric uid; empty: root
    std::string group;                      // name or numeric gid; empty: the user's primary group
    bool read_only = true;
    std::string hostname;                   // empty: the service name (or the host's, with network "host")
    std::vector<std::string> capabilities_add;   // canonical "CAP_NET_ADMIN", or "ALL"
    std::vector<std::string> capabilities_drop;
    SeccompMode seccomp = SeccompMode::Default;
    std::string seccomp_profile;            // absolute path when seccomp == Profile
    std::map<std::string, std::string> sysctls;
    std::vector<std::string> devices;       // host device paths, same path in the container
    NetworkMode network = NetworkMode::None;
    PidMode pid = PidMode::Private;
};

struct MountEntry {
    MountType type = MountType::Bind;
    std::string source;  // bind: absolute host path; volume: volume name; tmpfs: empty
    std::string target;  // absolute path in the container
    bool read_only = false;
    std::vector<std::string> options;
};

struct ResourceLimits {
    std::optional<uint64_t> memory_bytes;
    std::optional<double> cpus;          // 0.5 = half of one CPU
    std::optional<int64_t> pids;
    std::optional<uint16_t> io_weight;   // cgroup v2 io.weight scale, 1..10000
};

struct Readiness {
    ReadyKind kind = ReadyKind::None;   // None: ready as soon as it started
    std::vector<std::string> exec;      // Exec: ready when this exits 0 (run in the container)
    uint16_t tcp_port = 0;              // Tcp: ready when the port accepts connections
    std::string file;                   // File: ready when this path exists in the container
    Duration timeout = std::chrono::seconds(30);
};

struct HealthCheck {
    std::vector<std::string> exec;
    Duration interval = std::chrono::seconds(30);
    Duration timeout = std::chrono::seconds(5);
    int retries = 3;
    Duration start_period = Duration::zero();
};

struct RestartSettings {
    RestartPolicy policy = RestartPolicy::OnFailure;  // oneshot default: No
    Duration delay = std::chrono::milliseconds(100);  // first back-off, doubled per failure
    Duration max_delay = std::chrono::seconds(30);
    Duration reset_after = std::chrono::seconds(60);  // running this long resets the back-off
};

struct StopSettings {
    int signal = 15;                  // SIGTERM
    std::string signal_name = "TERM";
    Duration timeout = std::chrono::seconds(10);  // then SIGKILL
};

struct ServiceManifest {
    std::string name;       // the file's stem
    std::string file_path;  // as given to parse_manifest
    std::string description;
    ServiceType type = ServiceType::Service;
    bool critical = false;
    bool privileged = false;
    std::vector<std::string> after;              // order only
    std::vector<std::string> required_services;  // TOML "requires": order and presence
    ContainerSection container;
    std::vector<MountEntry> mounts;
    ResourceLimits resources;
    Readiness ready;
    std::optional<HealthCheck> health;
    RestartSettings restart;
    StopSettings stop;
    // Loud notes for the operator ("runs privileged: ..."), each "file:line:column: key: text".
    std::vector<std::string> warnings;
    // Key path ("container.user", "container.devices[1]") → where it was written.
    std::map<std::string, SourcePosition> positions;
};

// [a-z0-9][a-z0-9-]*, at most 63 characters: the one rule, shared with the supervisor.
using ::berth::is_valid_service_name;

// Parses one manifest. The service is named after the file's stem; a `name` key must
// match it. Never throws; every error reads "file:line:column: key: what is wrong".
Result<ServiceManifest> parse_manifest(std::string_view toml_text, const std::string& file_path);
// Reads and parses a file (errors start with the path).
Result<ServiceManifest> load_manifest(const std::string& file_path);

// "file:line:column" of a key recorded in manifest.positions, or "file" if unknown.
std::string position_of(const ServiceManifest& manifest, const std::string& key);

struct SpecContext {
    std::string images_root = paths::kImages;  // image "sshd" → <images_root>/sshd
    std::string volumes_root = paths::kVolumes;
    std::string state_dir = paths::kServiceState;     // <state_dir>/<service>/: notify socket
    std::string resolver_config = "/etc/resolv.conf";    // bound into network = "host" services
    std::string syslog_dir;  // logd's syslog socket directory ("log" in it) → /dev/log; "" = none
};

// The image's root directory for a manifest.
std::string image_root(const ServiceManifest& manifest, const SpecContext& context);
// Host directory of a named volume: <volumes_root>/<name>.
std::string volume_path(const std::string& name, const SpecContext& context);
// Host directory bound at /run/berth in services with ready.notify: <state_dir>/<service>.
std::string service_state_dir(const ServiceManifest& manifest, const SpecContext& context);
inline constexpr const char* kNotifySocketInContainer = paths::kContainerNotifySocket;

// The plan berth-init hands to the runtime: default_spec() plus everything in the manifest.
// Reads the image's /etc/passwd and /etc/group, stats devices and reads a seccomp profile;
// creates nothing.
Result<runtime::ContainerSpec> to_container_spec(const ServiceManifest& manifest, const SpecContext& context);

// Start order: dependencies first; among services that are ready together, the one with the
// longest chain of services waiting for it first, then alphabetical.
// `after` a missing service is ignored; `requires` a missing one, or a cycle, is an error:
// "service 'web' requires 'db', which does not exist", "dependency cycle: a -> b -> a"
// ("a -> b": a starts after b).
Result<std::vector<std::string>> start_order(const std::vector<ServiceManifest>& services);

struct Diagnostic {
    std::string file;     // the manifest (or directory) the problem is in
    std::string service;  // its service name (the file's stem)
    std::string message;  // a full line, starting with the file
};

struct LoadReport {
    std::vector<ServiceManifest> services;  // valid and startable, sorted by name
    std::vector<Diagnostic> errors;         // empty: everything loaded
};

// Loads *.toml from each directory; a service in a later directory replaces the same-named
// one from an earlier directory (if the later file is broken, the earlier one is kept and the
// error says so). A bad manifest is reported and skipped; so is every service that requires
// a skipped or missing one, and every service on a dependency cycle. A missing directory is
// not an error (a fresh /var/lib/berth/services).
LoadReport load_directories(const std::vector<std::string>& dirs);

// What `berthctl check` prints: errors, then warnings, then a summary line.
std::string format_diagnostics(const LoadReport& report);

}  // namespace berth::manifest
