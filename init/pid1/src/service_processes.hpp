// The services' processes as PID 1 runs them: launching each container (the runtime clones it;
// berth-init is its parent, no shim), its stdout/stderr into the service's log ring, sd_notify
// READY=1, ready and health probes, reaping, and removing an ended service's cgroup. What happens
// to a process is told to the Supervisor, and the Actions it answers go back through `perform`.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "berth/manifest/manifest.hpp"
#include "berth/runtime/container.hpp"
#include "berth/supervisor/actions.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/supervisor/supervisor.hpp"
#include "berth/sys.hpp"
#include "event_loop.hpp"

namespace berth::pid1 {

// What PID 1 keeps per service besides the supervisor's state.
struct ServiceRuntime {
    manifest::ServiceManifest manifest;
    std::string cgroup_path;
    int pid = 0;
    sys::UniqueFd out, err;       // read ends of the service's stdout/stderr pipes
    sys::UniqueFd notify;         // datagram socket for READY=1
    std::optional<runtime::SpawnLaunch> launch;  // while its container sets itself up
    int kernel_view_pid = 0;                     // the process pid_namespace and kernel_cgroup are of
    std::string pid_namespace, kernel_cgroup;    // for `berthctl services`
    supervisor::LogRing ring;
    explicit ServiceRuntime(size_t ring_bytes) : ring(ring_bytes) {}
};

// How the processes' part reaches the rest of PID 1.
struct ServiceHooks {
    std::function<void(supervisor::Actions)> perform;
    std::function<void(const std::string& service, supervisor::LogLevel, const std::string& text)> note;
    std::function<void(ServiceRuntime&)> output;  // new records in its ring
};

class ServiceProcesses {
public:
    ServiceProcesses(EventLoop& loop, supervisor::Supervisor& super, manifest::SpecContext context, ServiceHooks hooks);

    void add(manifest::ServiceManifest manifest, size_t ring_bytes);
    ServiceRuntime* find(std::string_view name);
    std::map<std::string, std::unique_ptr<ServiceRuntime>, std::less<>>& all() { return services_; }
    bool launching() const;

    // The supervisor's actions about processes.
    void start(const std::string& name);
    void signal(const std::string& name, int pid, int signal);
    void run_probe(const std::string& name, supervisor::ProbeKind kind);
    void removed(const std::string& name);

    // Events from the loop.
    void fd_ready(Source source, int fd);
    void ready_files_changed();
    // A reaped child; false if it was none of ours (an orphan: reaping it was the whole job).
    bool reaped(pid_t pid, int status);

    // Cgroups of ended services, removed once the kernel lets go of them.
    void retry_removals(supervisor::TimePoint now);
    std::optional<supervisor::TimePoint> next_removal() const;
    void finish_removals();  // at the end: a little time for what is still pending

    // `berthctl services`: the pid namespace and cgroup of a running service, read once per process.
    // Read once per process (neither changes while it runs), not at every request: it is polled.
    static void read_kernel_view(ServiceRuntime& s, int pid);

private:
    struct Probe {
        std::string service;
        supervisor::ProbeKind kind;
    };
    struct CgroupRemoval {
        std::string service;
        supervisor::TimePoint next_attempt{};
        int attempts = 0;
    };

    Result<void> begin_start(ServiceRuntime& s);
    void launch_readable(ServiceRuntime& s);
    void launch_failed(ServiceRuntime& s, const Error& error);
    void end_launch(ServiceRuntime& s);
    void remove_cgroup_later(const std::string& service, const std::string& path);
    Result<void> open_notify_socket(ServiceRuntime& s);
    void read_notify(ServiceRuntime& s);
    // Reads at most max_reads chunks; true if it stopped there with more to read.
    bool drain_output(ServiceRuntime& s, supervisor::LogStream stream, int max_reads);
    void close_service_pipes(ServiceRuntime& s);
    void close_service_fds(ServiceRuntime& s);
    void watch_for(ServiceRuntime& s, int fd, Source source);
    void unwatch_for(int fd);
    Result<int> start_probe(ServiceRuntime& s, supervisor::ProbeKind kind);
    Result<int> start_tcp_probe(ServiceRuntime& s);
    void watch_ready_file(const std::string& path);

    EventLoop& loop_;
    supervisor::Supervisor& super_;
    manifest::SpecContext context_;
    ServiceHooks hooks_;
    std::map<std::string, std::unique_ptr<ServiceRuntime>, std::less<>> services_;
    std::map<int, ServiceRuntime*> by_fd_;   // pipes, notify and launch sockets → their service
    std::map<int, ServiceRuntime*> by_pid_;  // first processes (also while launching) → their service
    std::map<int, Probe> probes_;            // probe process pid → what it checks
    std::map<std::string, CgroupRemoval> removals_;  // by cgroup path
    // inotify: the directories of `file` ready probes, so that a probe runs as soon as its file
    // appears. Polling stays (a missing directory cannot be watched).
    sys::UniqueFd ready_files_;

public:
    bool trim_due = false;  // memory was freed in bulk: give it back when idle
};

}  // namespace berth::pid1
