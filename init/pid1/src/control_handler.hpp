// The control protocol's requests, answered: a request line in, a response line out. Pure apart
// from what it asks of its ControlBackend, so that a fuzzer drives it with a real Supervisor and a
// fake process table (init/fuzz/control_fuzzer.cpp). Client I/O is control_server's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/manifest/manifest.hpp"
#include "berth/pid1/init_system.hpp"
#include "berth/result.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/supervisor/supervisor.hpp"

namespace berth::pid1 {

// What answering requests needs from the rest of PID 1.
class ControlBackend {
public:
    virtual ~ControlBackend() = default;
    virtual supervisor::Supervisor& supervisor() = 0;
    virtual void perform(supervisor::Actions actions) = 0;
    // A service's log ring ("berth-init": PID 1's own), or null.
    virtual const supervisor::LogRing* log_ring(std::string_view service) = 0;
    // Manifests that failed to load, shown as "invalid" services.
    virtual const std::vector<manifest::Diagnostic>& invalid_manifests() = 0;
    // Facts about the machine and PID 1 for `status` (root, boot slot, resident memory, ...).
    virtual void add_machine_status(nlohmann::json& payload) = 0;
    // What the kernel says about a running service (pid namespace, cgroup) for `services`.
    virtual void add_kernel_view(nlohmann::json& service) = 0;
    virtual Result<void> send_signal(const std::string& service, int pid, int signal) = 0;
    // `add` takes a child process's time: the answer for `client` comes later (ControlServer::answer).
    virtual Result<void> begin_add(const supervisor::control::AddRequest& request, uint64_t client) = 0;
    // `update` runs as a job in a child process: its progress and answer reach `client` later
    // (ControlServer::progress, answer). One job at a time.
    virtual Result<void> begin_update(const supervisor::control::UpdateRequest& request, uint64_t client) = 0;
    // A service removed on request: its manifest in the runtime directory goes too.
    virtual void forget_added_manifest(const std::string& service) = 0;
    virtual void request_power(PowerAction action) = 0;
    virtual void note(const std::string& service, supervisor::LogLevel level, const std::string& text) = 0;
};

struct ControlReply {
    std::string line;    // the response line, newline included; empty while deferred
    bool deferred = false;
    // `logs` with follow: the connection streams this ring's records after this sequence number.
    std::optional<std::pair<std::string, uint64_t>> follow;
};

class ControlHandler {
public:
    explicit ControlHandler(ControlBackend& backend) : backend_(backend) {}
    // One request line (without its newline) from `client`.
    ControlReply handle(std::string_view line, uint64_t client, supervisor::TimePoint now);

private:
    ControlBackend& backend_;
};

}  // namespace berth::pid1
