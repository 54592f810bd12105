#include "berth/pid1/init_system.hpp"

#include <fcntl.h>
#include <poll.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "berth/log.hpp"
#include "berth/pid1/child_process.hpp"
#include "berth/pid1/service_config.hpp"
#include "berth/runtime/container.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/supervisor/supervisor.hpp"
#include "berth/supervisor/wall_time.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {
namespace {

using supervisor::Clock;
using supervisor::TimePoint;
namespace control = supervisor::control;

constexpr size_t kMaxClientOutput = 4 * 1024 * 1024;  // a client that reads slower is dropped

supervisor::WallTime wall_now() { return supervisor::WallClock::now(); }

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

struct Probe {
    std::string service;
    supervisor::ProbeKind kind;
};

struct Client {
    sys::UniqueFd fd;
    std::string in, out;
    std::string follow_service;  // logs -f
    uint64_t follow_seq = 0;
    bool close_after_write = false;
};

enum class Source : uint32_t {
    Signal = 1, Control = 2, Client = 3, ServiceOut = 4, ServiceErr = 5, Notify = 6, Logd = 7, Launch = 8, ReadyFile = 9
};

// A service's cgroup waiting to be removed: it goes only once the kernel has let go of its dead
// processes, which may take a moment; the loop retries from its timer instead of waiting.
struct CgroupRemoval {
    std::string service;
    TimePoint next_attempt{};
    int attempts = 0;
};
constexpr int kMaxRemovalAttempts = 20;  // ~7 s of back-off in all

uint64_t tag(Source source, int fd) { return (static_cast<uint64_t>(source) << 32) | static_cast<uint32_t>(fd); }

// berth-init's own resident memory (VmRSS), for `berthctl status`.
std::optional<long> resident_kib() {
    auto status = sys::read_file("/proc/self/status");
    if (!status) return std::nullopt;
    auto at = status->find("\nVmRSS:");
    if (at == std::string::npos) return std::nullopt;
    return std::strtol(status->c_str() + at + 7, nullptr, 10);
}

// ---- manifests, parsed in a short-lived child process ----
// TOML parsing, validation and the dependency graph run at boot and for `berthctl add` only.
// Run in a child, their code (a good part of berth-init) never becomes part of PID 1's resident
// memory; the child sends its result back in this compact binary form. Every field of a
// manifest is listed once, in fields(), for both directions.

class Encoder {
public:
    std::string out;

    void operator()(const std::string& v) {
        count(v.size());
        out += v;
    }
    template <typename T>
        requires std::is_arithmetic_v<T> || std::is_enum_v<T>
    void operator()(const T& v) {
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    template <typename R, typename P>
    void operator()(const std::chrono::duration<R, P>& v) {
        (*this)(v.count());
    }
    template <typename T>
    void operator()(const std::optional<T>& v) {
        (*this)(v.has_value());
        if (v) (*this)(*v);
    }
    template <typename T>
    void operator()(const std::vector<T>& v) {
        count(v.size());
        for (const auto& e : v) (*this)(e);
    }
    template <typename K, typename V>
    void operator()(const std::map<K, V>& v) {
        count(v.size());
        for (const auto& [k, e] : v) {
            (*this)(k);
            (*this)(e);
        }
    }
    template <typename T>
        requires std::is_class_v<T>
    void operator()(const T& v) {
        fields(*this, const_cast<T&>(v));  // fields() only reads through an Encoder
    }

private:
    void count(size_t n) { (*this)(static_cast<uint32_t>(n)); }
};

class Decoder {
public:
    explicit Decoder(std::string_view in) : in_(in) {}
    bool ok() const { return ok_ && in_.empty(); }

    void operator()(std::string& v) {
        size_t n = count();
        if (n > in_.size()) return broken();
        v.assign(in_.substr(0, n));
        in_.remove_prefix(n);
    }
    template <typename T>
        requires std::is_arithmetic_v<T> || std::is_enum_v<T>
    void operator()(T& v) {
        if (in_.size() < sizeof v) return broken();
        std::memcpy(&v, in_.data(), sizeof v);
        in_.remove_prefix(sizeof v);
    }
    template <typename R, typename P>
    void operator()(std::chrono::duration<R, P>& v) {
        R ticks{};
        (*this)(ticks);
        v = std::chrono::duration<R, P>(ticks);
    }
    template <typename T>
    void operator()(std::optional<T>& v) {
        bool present = false;
        (*this)(present);
        v.reset();
        if (present) (*this)(v.emplace());
    }
    template <typename T>
    void operator()(std::vector<T>& v) {
        size_t n = count();
        v.clear();
        for (size_t i = 0; i < n && ok_; ++i) (*this)(v.emplace_back());
    }
    template <typename K, typename V>
    void operator()(std::map<K, V>& v) {
        size_t n = count();
        v.clear();
        for (size_t i = 0; i < n && ok_; ++i) {
            K key{};
            (*this)(key);
            (*this)(v[std::move(key)]);
        }
    }
    template <typename T>
        requires std::is_class_v<T>
    void operator()(T& v) {
        fields(*this, v);
    }

private:
    size_t count() {
        uint32_t n = 0;
        (*this)(n);
        return ok_ ? n : 0;
    }
    void broken() {
        ok_ = false;
        in_ = {};
    }
    std::string_view in_;
    bool ok_ = true;
};

// A new field in these structs must be added below too; the sizes make the compiler say so.
static_assert(sizeof(manifest::ServiceManifest) == 960 && sizeof(manifest::ContainerSection) == 432 &&
                  sizeof(manifest::MountEntry) == 104 && sizeof(manifest::ResourceLimits) == 56 &&
                  sizeof(manifest::Readiness) == 80 && sizeof(manifest::HealthCheck) == 56 &&
                  sizeof(manifest::RestartSettings) == 32 && sizeof(manifest::StopSettings) == 48 &&
                  sizeof(manifest::SourcePosition) == 8 && sizeof(manifest::Diagnostic) == 96,
              "a manifest struct changed: update fields() for the child's result (init_system.cpp)");

template <typename Io> void fields(Io& io, manifest::SourcePosition& p) { io(p.line), io(p.column); }
template <typename Io> void fields(Io& io, manifest::MountEntry& m) {
    io(m.type), io(m.source), io(m.target), io(m.read_only), io(m.options);
}
template <typename Io> void fields(Io& io, manifest::ResourceLimits& r) {
    io(r.memory_bytes), io(r.cpus), io(r.pids), io(r.io_weight);
}
template <typename Io> void fields(Io& io, manifest::Readiness& r) {
    io(r.kind), io(r.exec), io(r.tcp_port), io(r.file), io(r.timeout);
}
template <typename Io> void fields(Io& io, manifest::HealthCheck& h) {
    io(h.exec), io(h.interval), io(h.timeout), io(h.retries), io(h.start_period);
}
template <typename Io> void fields(Io& io, manifest::RestartSettings& r) {
    io(r.policy), io(r.delay), io(r.max_delay), io(r.reset_after);
}
template <typename Io> void fields(Io& io, manifest::StopSettings& s) { io(s.signal), io(s.signal_name), io(s.timeout); }
template <typename Io> void fields(Io& io, manifest::ContainerSection& c) {
    io(c.image), io(c.command), io(c.args), io(c.env), io(c.workdir), io(c.user), io(c.group), io(c.read_only);
    io(c.hostname), io(c.capabilities_add), io(c.capabilities_drop), io(c.seccomp), io(c.seccomp_profile);
    io(c.sysctls), io(c.devices), io(c.network), io(c.pid);
}
template <typename Io> void fields(Io& io, manifest::ServiceManifest& m) {
    io(m.name), io(m.file_path), io(m.description), io(m.type), io(m.critical), io(m.privileged), io(m.after);
    io(m.required_services), io(m.container), io(m.mounts), io(m.resources), io(m.ready), io(m.health);
    io(m.restart), io(m.stop), io(m.warnings), io(m.positions);
}
template <typename Io> void fields(Io& io, manifest::Diagnostic& d) { io(d.file), io(d.service), io(d.message); }

// Runs `produce` in a child process and hands what it encoded to `consume`. Fails only if the
// child could not run or its answer did not decode; the caller then does the work itself.
Result<void> decode_answer(const std::string& answer, const std::function<void(Decoder&)>& consume) {
    Decoder decoder(answer);
    consume(decoder);
    if (!decoder.ok()) return fail("manifest helper process: malformed answer");
    return {};
}

Result<void> in_child(const std::function<void(Encoder&)>& produce, const std::function<void(Decoder&)>& consume) {
    auto answer = TRY(run_in_child([&] {
        Encoder encoder;
        produce(encoder);
        return std::move(encoder.out);
    }));
    return decode_answer(answer, consume);
}

// The services of the manifest directories in start order, and what failed to load.
struct LoadedManifests {
    std::vector<manifest::ServiceManifest> services;
    std::vector<manifest::Diagnostic> errors;
    std::string order_error;  // start_order() refused the set
};
template <typename Io> void fields(Io& io, LoadedManifests& l) { io(l.services), io(l.errors), io(l.order_error); }

LoadedManifests load_manifests_here(const std::vector<std::string>& dirs) {
    auto report = manifest::load_directories(dirs);
    LoadedManifests loaded;
    loaded.errors = std::move(report.errors);
    auto order = manifest::start_order(report.services);
    if (!order) {
        loaded.order_error = order.error().describe();
        return loaded;
    }
    for (const auto& name : *order)
        for (auto& m : report.services)
            if (m.name == name) loaded.services.push_back(std::move(m));
    return loaded;
}

// One manifest for `berthctl add`, parsed and checked against its image; or why not.
struct ParsedManifest {
    std::optional<manifest::ServiceManifest> manifest;
    std::string error;
};
template <typename Io> void fields(Io& io, ParsedManifest& p) { io(p.manifest), io(p.error); }

ParsedManifest parse_manifest_here(const std::string& text, const std::string& path, const manifest::SpecContext& context) {
    ParsedManifest parsed;
    auto m = manifest::parse_manifest(text, path);
    if (!m) parsed.error = m.error().describe();
    else if (auto spec = manifest::to_container_spec(*m, context); !spec) parsed.error = spec.error().describe();
    else parsed.manifest = std::move(*m);
    return parsed;
}

// Runs `here` in a child process; falls back to running it in this one (with a warning).
template <typename T>
T via_child(const std::function<T()>& here) {
    T result;
    auto done = in_child([&](Encoder& e) { e(here()); }, [&](Decoder& d) { d(result); });
    if (done) return result;
    log::warning("parsing manifests in-process: " + done.error().describe());
    return here();
}

}  // namespace

ManifestPreload preload_manifests(const std::vector<std::string>& dirs) {
    return {dirs, start_in_child([dirs] {
                Encoder encoder;
                encoder(load_manifests_here(dirs));
                return std::move(encoder.out);
            })};
}

struct InitSystem::Impl {
    InitOptions options;
    sys::UniqueFd epoll, signals, control_listener;
    std::optional<supervisor::Supervisor> super;
    std::map<std::string, std::unique_ptr<ServiceRuntime>> services;
    std::map<int, ServiceRuntime*> by_fd;   // pipes, notify and launch sockets → their service
    std::map<int, ServiceRuntime*> by_pid;  // first processes (also while launching) → their service
    std::map<std::string, CgroupRemoval> removals;  // by cgroup path
    bool trim_due = false;                  // memory was freed in bulk: give it back when idle
    std::vector<manifest::Diagnostic> invalid;  // manifests that failed to load
    std::map<int, Probe> probes;                // probe process pid → what it checks
    std::map<int, Client> clients;
    supervisor::LogRing system_log{64 * 1024};  // berth-init's own events
    PowerAction power = PowerAction::None;
    bool done = false;
    bool boot_settled = false;                  // the "boot: all services ready" line is written once
    std::optional<double> boot_ready_seconds;   // CLOCK_BOOTTIME when every service was first ready
    // Forwarding to logd: the connection, and per ring the last record logd has.
    sys::UniqueFd logd;
    std::map<std::string, uint64_t> forwarded;
    TimePoint next_logd_attempt{};
    // inotify: the directories of `file` ready probes, so that a probe runs as soon as its file
    // appears. Polling stays (a missing directory cannot be watched).
    sys::UniqueFd ready_files;

    // ---- plumbing ----
    void watch(int fd, Source source, uint32_t events = EPOLLIN) {
        struct epoll_event ev{};
        ev.events = events;
        ev.data.u64 = tag(source, fd);
        ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    void modify(int fd, Source source, uint32_t events) {
        struct epoll_event ev{};
        ev.events = events;
        ev.data.u64 = tag(source, fd);
        ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &ev);
    }
    void unwatch(int fd) { ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr); }
    // A service's fds: watched, and found again by fd when they are ready.
    void watch_for(ServiceRuntime& s, int fd, Source source) {
        watch(fd, source);
        by_fd[fd] = &s;
    }
    void unwatch_for(int fd) {
        unwatch(fd);
        by_fd.erase(fd);
    }

    void note(const std::string& service, supervisor::LogLevel level, const std::string& text) {
        std::string line = (service.empty() ? "" : service + ": ") + text;
        system_log.append(supervisor::LogStream::Stdout, line + "\n", wall_now());
        forward_ring("berth-init", system_log);
        log::write(level == supervisor::LogLevel::Error     ? log::Level::Error
                   : level == supervisor::LogLevel::Warning ? log::Level::Warning
                                                            : log::Level::Info,
                   line);
    }

    ServiceRuntime* find(const std::string& name) {
        auto it = services.find(name);
        return it == services.end() ? nullptr : it->second.get();
    }

    // ---- actions ----
    void perform(supervisor::Actions actions) {
        for (size_t i = 0; i < actions.size(); ++i) {
            supervisor::Actions more = std::visit([this](auto& a) { return perform_one(a); }, actions[i]);
            actions.insert(actions.end(), more.begin(), more.end());
        }
    }

    // Begins the launch and returns: the container sets itself up while the loop goes on, and
    // the supervisor hears process_started (or start_failed) when it is done (launch_readable).
    supervisor::Actions perform_one(const supervisor::StartService& a) {
        ServiceRuntime* s = find(a.name);
        if (!s) return super->start_failed(a.name, "no manifest", Clock::now());
        if (s->launch) return {};  // cannot happen: the supervisor starts a service only once at a time
        auto begun = begin_start(*s);
        if (!begun) {
            note(a.name, supervisor::LogLevel::Error, "start failed: " + begun.error().describe());
            return super->start_failed(a.name, begun.error().describe(), Clock::now());
        }
        return {};
    }

    supervisor::Actions perform_one(const supervisor::SignalService& a) {
        ServiceRuntime* s = find(a.name);
        if (a.signal == SIGKILL && s && !s->cgroup_path.empty()) (void)runtime::signal_cgroup(s->cgroup_path, SIGKILL);
        if (a.pid > 0) ::kill(a.pid, a.signal);
        return {};
    }

    supervisor::Actions perform_one(const supervisor::RunProbe& a) {
        ServiceRuntime* s = find(a.name);
        if (!s || s->pid <= 0) return super->probe_result(a.name, a.kind, false, Clock::now());
        auto started = start_probe(*s, a.kind);
        if (!started) {
            note(a.name, supervisor::LogLevel::Warning,
                 std::string(supervisor::probe_kind_name(a.kind)) + " probe: " + started.error().describe());
            return super->probe_result(a.name, a.kind, false, Clock::now());
        }
        if (*started == 0) return super->probe_result(a.name, a.kind, true, Clock::now());   // answered at once
        if (*started < 0) return super->probe_result(a.name, a.kind, false, Clock::now());
        probes[*started] = Probe{a.name, a.kind};
        return {};
    }

    supervisor::Actions perform_one(const supervisor::LogEvent& a) {
        note(a.name, a.level, a.text);
        return {};
    }

    supervisor::Actions perform_one(const supervisor::AllStopped&) {
        done = true;
        return {};
    }

    supervisor::Actions perform_one(const supervisor::ServiceFailedCritical& a) {
        note(a.name, supervisor::LogLevel::Error, "critical service failed: " + a.reason);
        return {};
    }

    supervisor::Actions perform_one(const supervisor::ServiceRemoved& a) {
        if (ServiceRuntime* s = find(a.name)) {
            close_service_fds(*s);
            std::erase_if(by_pid, [s](const auto& entry) { return entry.second == s; });
        }
        services.erase(a.name);
        return {};
    }

    // ---- services ----
    Result<void> begin_start(ServiceRuntime& s) {
        const auto& ctx = options.spec_context;
        for (const auto& m : s.manifest.mounts)
            if (m.type == manifest::MountType::Volume) TRY(sys::mkdir_p(manifest::volume_path(m.source, ctx), 0755));
        if (s.manifest.ready.kind == manifest::ReadyKind::Notify) TRY(open_notify_socket(s));
        // Built for this start and dropped once the container is cloned (a spec is ~20 KiB, mostly
        // the seccomp profile): an exec probe builds it again.
        runtime::ContainerSpec spec = TRY(manifest::to_container_spec(s.manifest, ctx));
        int out[2], err[2];
        if (::pipe2(out, O_CLOEXEC) < 0) return fail_sys("pipe");
        sys::UniqueFd out_r(out[0]), out_w(out[1]);
        if (::pipe2(err, O_CLOEXEC) < 0) return fail_sys("pipe");
        sys::UniqueFd err_r(err[0]), err_w(err[1]);
        auto devnull = TRY(sys::open("/dev/null", O_RDONLY));
        runtime::SpawnOptions spawn;
        spawn.id = s.manifest.name;
        spawn.stdio[0] = devnull.get();
        spawn.stdio[1] = out_w.get();
        spawn.stdio[2] = err_w.get();
        // The previous instance's cgroup may still be on its way out: the new one reuses it.
        if (auto pending = removals.find(s.cgroup_path); pending != removals.end()) {
            (void)runtime::try_remove_cgroup(s.cgroup_path);  // kills any straggler first
            removals.erase(pending);
        }
        auto launch = TRY(runtime::SpawnLaunch::begin(spec, spawn));
        for (int fd : {out_r.get(), err_r.get()}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
        close_service_pipes(s);
        s.out = std::move(out_r);
        s.err = std::move(err_r);
        watch_for(s, s.out.get(), Source::ServiceOut);
        watch_for(s, s.err.get(), Source::ServiceErr);
        watch_for(s, launch.fd(), Source::Launch);
        by_pid[launch.pid()] = &s;
        s.launch.emplace(std::move(launch));
        return {};
    }

    // The launch's sync socket is readable: the container's init has something to say.
    void launch_readable(ServiceRuntime& s) {
        if (!s.launch) return;
        auto progress = s.launch->advance();
        if (progress && *progress == runtime::SpawnLaunch::Progress::Pending) return;
        if (!progress) return launch_failed(s, progress.error());
        int pid = s.launch->pid();
        s.cgroup_path = s.launch->cgroup_path();
        end_launch(s);
        s.pid = pid;
        trim_due = true;
        perform(super->process_started(s.manifest.name, pid, Clock::now()));
    }

    void launch_failed(ServiceRuntime& s, const Error& error) {
        std::string cgroup = s.launch->cgroup_path();
        end_launch(s);  // its process is killed and reaped later like any orphan
        remove_cgroup_later(s.manifest.name, cgroup);
        note(s.manifest.name, supervisor::LogLevel::Error, "start failed: " + error.describe());
        perform(super->start_failed(s.manifest.name, error.describe(), Clock::now()));
    }

    void end_launch(ServiceRuntime& s) {
        unwatch_for(s.launch->fd());
        s.launch.reset();
    }

    // ---- cgroups of ended services ----
    void remove_cgroup_later(const std::string& service, const std::string& path) {
        if (path.empty()) return;
        removals[path] = CgroupRemoval{service, Clock::now(), 0};
        retry_removals(Clock::now());  // usually done at the first attempt
    }

    void retry_removals(TimePoint now) {
        for (auto it = removals.begin(); it != removals.end();) {
            CgroupRemoval& r = it->second;
            if (r.next_attempt > now) {
                ++it;
                continue;
            }
            auto removed = runtime::try_remove_cgroup(it->first);
            ++r.attempts;
            if (removed && *removed) {
                it = removals.erase(it);
                continue;
            }
            if (!removed || r.attempts >= kMaxRemovalAttempts) {
                note(r.service, supervisor::LogLevel::Warning,
                     removed ? "cgroup '" + it->first + "' still busy; left behind" : removed.error().describe());
                it = removals.erase(it);
                continue;
            }
            r.next_attempt = now + std::chrono::milliseconds(std::min(10 << std::min(r.attempts - 1, 6), 500));
            ++it;
        }
    }

    std::optional<TimePoint> next_removal() const {
        std::optional<TimePoint> earliest;
        for (const auto& [path, r] : removals)
            if (!earliest || r.next_attempt < *earliest) earliest = r.next_attempt;
        return earliest;
    }

    // At the end: what is still pending gets a little time (nothing else is left to do).
    void finish_removals() {
        auto give_up = Clock::now() + std::chrono::seconds(3);
        while (!removals.empty() && Clock::now() < give_up) {
            if (auto next = next_removal(); next && *next > Clock::now()) ::usleep(5000);
            retry_removals(Clock::now());
        }
    }

    Result<void> open_notify_socket(ServiceRuntime& s) {
        if (s.notify) return {};
        std::string dir = manifest::service_state_dir(s.manifest, options.spec_context);
        TRY(sys::mkdir_p(dir, 0755));
        std::string path = dir + "/notify.sock";
        ::unlink(path.c_str());
        int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return fail_sys("notify socket");
        sys::UniqueFd sock(fd);
        struct sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) return fail_sys("bind '" + path + "'");
        ::chmod(path.c_str(), 0666);  // the service may run as any user
        s.notify = std::move(sock);
        watch_for(s, s.notify.get(), Source::Notify);
        return {};
    }

    void close_service_pipes(ServiceRuntime& s) {
        for (auto* fd : {&s.out, &s.err})
            if (*fd) {
                unwatch_for(fd->get());
                fd->reset();
            }
    }

    void close_service_fds(ServiceRuntime& s) {
        close_service_pipes(s);
        if (s.notify) {
            unwatch_for(s.notify.get());
            s.notify.reset();
        }
        if (s.launch) end_launch(s);
    }

    // Starts a probe; returns its pid (to reap), 0 for "passed now", -1 for "failed now".
    Result<int> start_probe(ServiceRuntime& s, supervisor::ProbeKind kind) {
        const auto& m = s.manifest;
        std::vector<std::string> command;
        if (kind == supervisor::ProbeKind::Health) {
            if (!m.health) return -1;
            command = m.health->exec;
        } else if (m.ready.kind == manifest::ReadyKind::Exec) {
            command = m.ready.exec;
        } else if (m.ready.kind == manifest::ReadyKind::File) {
            // The container's root as seen from here, without entering its mount namespace.
            std::string path = "/proc/" + std::to_string(s.pid) + "/root" + m.ready.file;
            if (sys::exists(path)) return 0;
            watch_ready_file(path);
            return -1;
        } else if (m.ready.kind == manifest::ReadyKind::Tcp) {
            return start_tcp_probe(s);
        } else {
            return -1;
        }
        runtime::ContainerSpec spec = TRY(manifest::to_container_spec(m, options.spec_context));
        runtime::Process process = spec.process;
        process.args = command;
        process.terminal = false;
        auto devnull = TRY(sys::open("/dev/null", O_RDWR));
        return TRY(runtime::exec_in_process(spec, s.pid, s.cgroup_path, process,
                                            {devnull.get(), devnull.get(), devnull.get()}));
    }

    // The same directory watched again gets the same watch: nothing piles up. A watch ends with
    // its directory (a container's tmpfs goes with the container).
    void watch_ready_file(const std::string& path) {
        if (!ready_files) return;
        std::string dir = path.substr(0, path.rfind('/'));
        (void)::inotify_add_watch(ready_files.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    }

    // Something was created in a watched directory: every service waiting on a file probes again
    // at once (a stat each; which file it was does not matter).
    void ready_files_changed() {
        alignas(struct inotify_event) char events[4096];
        while (::read(ready_files.get(), events, sizeof events) > 0) {
        }
        for (const auto& [name, s] : services)
            if (s->manifest.ready.kind == manifest::ReadyKind::File) perform(super->ready_probe_soon(name, Clock::now()));
    }

    // A non-blocking connect to 127.0.0.1:port. Over loopback the handshake completes at once when
    // something listens; if it has not yet, the probe's next attempt asks again.
    static bool loopback_accepts(uint16_t port) {
        sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (fd.get() < 0) return false;
        struct sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0) return true;
        if (errno != EINPROGRESS) return false;
        struct pollfd ready{fd.get(), POLLOUT, 0};
        int error = 0;
        socklen_t length = sizeof error;
        return ::poll(&ready, 1, 0) == 1 && ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }

    // Connects to the port from inside the service's network namespace: for a service in PID 1's
    // own (network = "host") right here, without a process (boot probes it every few ms); for
    // another, in a child process that joins it.
    Result<int> start_tcp_probe(ServiceRuntime& s) {
        std::string netns_path = "/proc/" + std::to_string(s.pid) + "/ns/net";
        uint16_t port = s.manifest.ready.tcp_port;
        struct stat mine{}, theirs{};
        if (::stat("/proc/self/ns/net", &mine) == 0 && ::stat(netns_path.c_str(), &theirs) == 0 &&
            mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino)
            return loopback_accepts(port) ? 0 : -1;
        auto netns = TRY(sys::open(netns_path, O_RDONLY));
        pid_t pid = ::fork();
        if (pid < 0) return fail_sys("fork");
        if (pid == 0) {
            if (::setns(netns.get(), CLONE_NEWNET) < 0) ::_exit(2);
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_port = htons(port);
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ::_exit(::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0 ? 0 : 1);
        }
        return pid;
    }

    void drain_output(ServiceRuntime& s, supervisor::LogStream stream) {
        sys::UniqueFd& fd = stream == supervisor::LogStream::Stdout ? s.out : s.err;
        if (!fd) return;
        char buf[16384];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n > 0) {
                s.ring.append(stream, std::string_view(buf, static_cast<size_t>(n)), wall_now());
                continue;
            }
            if (n == 0) {  // every writer closed: the service and all its processes are gone
                unwatch_for(fd.get());
                fd.reset();
            }
            break;
        }
        push_follow(s);
        forward_ring(s.manifest.name, s.ring);
    }

    // ---- forwarding to logd ----
    void connect_logd() {
        if (logd || Clock::now() < next_logd_attempt || !sys::exists(options.logd_socket)) return;
        next_logd_attempt = Clock::now() + std::chrono::milliseconds(500);
        int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return;
        sys::UniqueFd sock(fd);
        struct sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, options.logd_socket.c_str(), sizeof addr.sun_path - 1);
        if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) return;
        logd = std::move(sock);
        watch(logd.get(), Source::Logd, EPOLLIN);  // EPOLLIN/HUP: logd went away
        note("", supervisor::LogLevel::Info, "forwarding logs to logd");
        forward_all();
    }

    void forward_all() {
        forward_ring("berth-init", system_log);
        for (auto& [name, s] : services) forward_ring(name, s->ring);
    }

    void forward_ring(const std::string& service, const supervisor::LogRing& ring) {
        if (!logd) return;
        uint64_t& last = forwarded[service];
        for (const auto& r : ring.after(last)) {
            nlohmann::json record{{"service", service}, {"time", supervisor::format_rfc3339(r.time)},
                                  {"stream", supervisor::log_stream_name(r.stream)}, {"line", r.line}};
            std::string message = record.dump();
            if (::send(logd.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                if (errno == EAGAIN) modify(logd.get(), Source::Logd, EPOLLIN | EPOLLOUT);
                else drop_logd();
                return;  // the rest stays in the ring and goes out when logd can take it
            }
            last = r.seq;
        }
    }

    void drop_logd() {
        if (!logd) return;
        unwatch(logd.get());
        logd.reset();
    }

    void read_notify(ServiceRuntime& s) {
        char buf[4096];
        for (;;) {
            ssize_t n = ::recv(s.notify.get(), buf, sizeof buf, 0);
            if (n <= 0) break;
            std::string message(buf, static_cast<size_t>(n));
            // sd_notify: newline-separated assignments; READY=1 is the one that matters.
            if (("\n" + message + "\n").find("\nREADY=1\n") != std::string::npos)
                perform(super->became_ready(s.manifest.name, Clock::now()));
        }
    }

    // ---- reaping ----
    void reap() {
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) return;
            if (auto probe = probes.find(pid); probe != probes.end()) {
                Probe p = probe->second;
                probes.erase(probe);
                bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                perform(super->probe_result(p.service, p.kind, ok, Clock::now()));
                continue;
            }
            auto owner = by_pid.find(pid);
            if (owner == by_pid.end()) continue;  // an orphan re-parented to us: reaping it was the whole job
            ServiceRuntime* s = owner->second;
            by_pid.erase(owner);
            if (s->launch && s->launch->pid() == pid) {  // died while setting up
                Error why = s->launch->exited(status);
                launch_failed(*s, why);
                continue;
            }
            if (s->pid != pid) continue;  // the process of a launch that had already failed
            const std::string& name = s->manifest.name;
            drain_output(*s, supervisor::LogStream::Stdout);
            drain_output(*s, supervisor::LogStream::Stderr);
            s->ring.flush(wall_now());
            s->pid = 0;
            s->kernel_view_pid = 0;
            remove_cgroup_later(name, s->cgroup_path);
            trim_due = true;
            perform(super->process_exited(name, pid, supervisor::ExitStatus::from_wait_status(status), Clock::now()));
        }
    }

    // ---- control socket ----
    Result<void> listen_control() {
        const std::string& path = options.control_socket;
        TRY(sys::mkdir_p(path.substr(0, path.rfind('/')), 0755));
        ::unlink(path.c_str());
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return fail_sys("control socket");
        control_listener.reset(fd);
        struct sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path.size() >= sizeof addr.sun_path) return fail("control socket path '" + path + "' is too long");
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) return fail_sys("bind '" + path + "'");
        // Root, and the admin group when configured; SO_PEERCRED checks each client again.
        ::chmod(path.c_str(), options.admin_gid >= 0 ? 0660 : 0600);
        if (options.admin_gid >= 0) (void)!::chown(path.c_str(), 0, static_cast<gid_t>(options.admin_gid));
        if (::listen(fd, 64) < 0) return fail_sys("listen on '" + path + "'");
        watch(fd, Source::Control);
        return {};
    }

    void accept_clients() {
        for (;;) {
            int fd = ::accept4(control_listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) return;
            struct ucred cred{};
            socklen_t len = sizeof cred;
            bool allowed = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                           (cred.uid == 0 || (options.admin_gid >= 0 && cred.gid == static_cast<gid_t>(options.admin_gid)));
            if (!allowed) {
                std::string refusal = control::error_response("permission denied: root or the admin group only");
                (void)!::write(fd, refusal.data(), refusal.size());
                ::close(fd);
                continue;
            }
            Client& c = clients[fd];
            c.fd.reset(fd);
            watch(fd, Source::Client);
        }
    }

    void drop_client(int fd) {
        unwatch(fd);
        clients.erase(fd);
        trim_due = true;  // its buffers, and the JSON of its requests, are free now
    }

    void client_readable(int fd) {
        Client& c = clients[fd];
        char buf[8192];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n > 0) {
                c.in.append(buf, static_cast<size_t>(n));
                if (c.in.size() > control::kMaxLineBytes) {
                    c.out += control::error_response("request longer than " + std::to_string(control::kMaxLineBytes) + " bytes");
                    c.close_after_write = true;
                    c.in.clear();
                    break;
                }
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (c.out.empty()) return drop_client(fd);
                c.close_after_write = true;
            }
            break;
        }
        for (size_t nl; (nl = c.in.find('\n')) != std::string::npos;) {
            std::string line = c.in.substr(0, nl);
            c.in.erase(0, nl + 1);
            c.out += handle_request(c, line);
        }
        flush_client(fd);
    }

    void flush_client(int fd) {
        auto it = clients.find(fd);
        if (it == clients.end()) return;
        Client& c = it->second;
        while (!c.out.empty()) {
            ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n > 0) {
                c.out.erase(0, static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EAGAIN) break;
            return drop_client(fd);
        }
        if (c.out.size() > kMaxClientOutput) return drop_client(fd);  // never let a slow client hold memory
        if (c.out.empty() && c.close_after_write) return drop_client(fd);
        modify(fd, Source::Client, EPOLLIN | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT)));
    }

    void push_follow(ServiceRuntime& s) {
        for (auto& [fd, c] : clients) {
            if (c.follow_service != s.manifest.name) continue;
            for (const auto& r : s.ring.after(c.follow_seq)) {
                c.out += control::ok_response(control::log_record_json(r));
                c.follow_seq = r.seq;
            }
        }
        std::vector<int> fds;
        for (auto& [fd, c] : clients)
            if (!c.out.empty()) fds.push_back(fd);
        for (int fd : fds) flush_client(fd);
    }

    nlohmann::json services_payload_with_invalid() {
        nlohmann::json payload = control::services_payload(super->statuses(Clock::now()));
        // What the kernel says about each running service: its pid namespace and cgroup. Read once
        // per process (neither changes while it runs), not at every request: `services` is polled.
        for (auto& service : payload["services"]) {
            if (!service["pid"].is_number()) continue;
            ServiceRuntime* s = find(service["name"].get<std::string>());
            if (!s) continue;
            int pid = service["pid"].get<int>();
            if (s->kernel_view_pid != pid) {
                s->kernel_view_pid = pid;
                s->pid_namespace.clear();
                s->kernel_cgroup.clear();
                std::string proc = "/proc/" + std::to_string(pid);
                char link[64] = {};
                if (::readlink((proc + "/ns/pid").c_str(), link, sizeof link - 1) > 0) s->pid_namespace = link;
                if (auto cgroup = sys::read_file(proc + "/cgroup")) {
                    auto at = cgroup->rfind("0::");
                    if (at != std::string::npos) s->kernel_cgroup = cgroup->substr(at + 3, cgroup->find('\n', at) - at - 3);
                }
            }
            if (!s->pid_namespace.empty()) service["pid_namespace"] = s->pid_namespace;
            if (!s->kernel_cgroup.empty()) service["cgroup"] = s->kernel_cgroup;
        }
        for (const auto& d : invalid)
            payload["services"].push_back({{"name", d.service}, {"state", "invalid"}, {"pid", nullptr},
                                           {"uptime_seconds", nullptr}, {"restarts", 0}, {"health", "none"},
                                           {"last_exit", nullptr}, {"last_error", d.message}, {"oneshot", false},
                                           {"critical", false}});
        return payload;
    }

    std::string handle_request(Client& c, const std::string& line) {
        auto request = control::parse_request(line);
        if (!request) return control::error_response(request.error().describe());
        auto now = Clock::now();
        auto user_result = [this](Result<supervisor::Actions> r) {
            if (!r) return control::error_response(r.error().describe());
            perform(std::move(*r));
            return control::ok_response();
        };
        return std::visit(
            [&](auto& req) -> std::string {
                using T = std::decay_t<decltype(req)>;
                if constexpr (std::is_same_v<T, control::StatusRequest>) {
                    auto payload = control::status_payload(super->statuses(now), super->shutting_down());
                    payload["invalid"] = invalid.size();
                    struct statvfs root{};
                    if (::statvfs("/", &root) == 0) payload["root"] = {{"read_only", (root.f_flag & ST_RDONLY) != 0}};
                    if (auto slot = sys::read_file(options.run_dir + "/berth/boot-slot"))
                        payload["boot_slot"] = slot->substr(0, slot->find('\n'));
                    if (boot_ready_seconds) payload["boot_ready_seconds"] = *boot_ready_seconds;
                    if (auto rss = resident_kib()) payload["init_resident_kib"] = *rss;
                    return control::ok_response(payload);
                } else if constexpr (std::is_same_v<T, control::ServicesRequest>) {
                    return control::ok_response(services_payload_with_invalid());
                } else if constexpr (std::is_same_v<T, control::LogsRequest>) {
                    const supervisor::LogRing* ring = req.service == "berth-init" ? &system_log : nullptr;
                    if (ServiceRuntime* s = find(req.service)) ring = &s->ring;
                    if (!ring) return control::error_response("no service named '" + req.service + "'");
                    auto records = ring->lines(req.lines.value_or(supervisor::LogRing::kAll), req.since);
                    if (req.follow) {
                        c.follow_service = req.service;
                        c.follow_seq = ring->last_seq();
                    }
                    return control::ok_response(control::logs_payload(req.service, records, ring->dropped()));
                } else if constexpr (std::is_same_v<T, control::StartRequest>) {
                    return user_result(super->user_start(req.service, now));
                } else if constexpr (std::is_same_v<T, control::StopRequest>) {
                    return user_result(super->user_stop(req.service, now));
                } else if constexpr (std::is_same_v<T, control::RestartRequest>) {
                    return user_result(super->user_restart(req.service, now));
                } else if constexpr (std::is_same_v<T, control::AddRequest>) {
                    return add_service(req);
                } else if constexpr (std::is_same_v<T, control::RemoveRequest>) {
                    auto r = super->remove_service(req.service, now);
                    if (r) ::unlink((options.runtime_services_dir + "/" + req.service + ".toml").c_str());
                    return user_result(std::move(r));
                } else if constexpr (std::is_same_v<T, control::KillRequest>) {
                    return kill_service(req);
                } else if constexpr (std::is_same_v<T, control::RebootRequest>) {
                    begin_shutdown(PowerAction::Reboot);
                    return control::ok_response();
                } else {
                    begin_shutdown(PowerAction::Poweroff);
                    return control::ok_response();
                }
            },
            *request);
    }

    std::string kill_service(const control::KillRequest& req) {
        ServiceRuntime* s = find(req.service);
        if (!s) return control::error_response("no service named '" + req.service + "'");
        auto signal = runtime::parse_signal(req.signal);
        if (!signal) return control::error_response("request.signal: " + signal.error().describe());
        if (s->pid <= 0) return control::error_response("service '" + req.service + "' is not running");
        if (::kill(s->pid, *signal) < 0) return control::error_response("kill '" + req.service + "': " + error_text(errno));
        note(req.service, supervisor::LogLevel::Info, "sent signal " + req.signal + " on request");
        return control::ok_response();
    }

    std::string add_service(const control::AddRequest& req) {
        std::string text = req.manifest, path = req.manifest_path;
        std::string name = req.name;
        if (!path.empty()) {
            auto read = sys::read_file(path);
            if (!read) return control::error_response(read.error().describe());
            text = *read;
            name = path.substr(path.rfind('/') + 1);
            name = name.substr(0, name.rfind(".toml"));
        }
        std::string target = options.runtime_services_dir + "/" + name + ".toml";
        auto checked = via_child<ParsedManifest>(
            [&] { return parse_manifest_here(text, path.empty() ? target : path, options.spec_context); });
        if (!checked.manifest) return control::error_response(checked.error);
        auto& parsed = checked.manifest;
        if (find(parsed->name)) return control::error_response("service '" + parsed->name + "' already exists");
        auto added = super->add_service(service_config_from(*parsed), Clock::now());
        if (!added) return control::error_response(added.error().describe());
        // Persist so the service comes back after a reboot.
        if (auto dir = sys::mkdir_p(options.runtime_services_dir, 0755); dir) (void)sys::write_file(target, text);
        auto s = std::make_unique<ServiceRuntime>(options.log_ring_bytes);
        s->manifest = std::move(*parsed);
        services[s->manifest.name] = std::move(s);
        perform(std::move(*added));
        return control::ok_response({{"service", name}});
    }

    void begin_shutdown(PowerAction action) {
        if (power == PowerAction::None) power = action;
        if (!super->shutting_down()) perform(super->shutdown(Clock::now()));
        if (super->all_stopped()) done = true;
    }

    // ---- loop ----
    PowerAction run() {
        perform(super->start_all(Clock::now()));
        while (!done) {
            int timeout = -1;
            auto deadline = super->next_deadline();
            if (auto removal = next_removal(); removal && (!deadline || *removal < *deadline)) deadline = removal;
            if (deadline) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
                timeout = static_cast<int>(std::clamp<long long>(ms + 1, 0, 60'000));
            }
            // While a logd service exists but is not connected yet, look for its socket.
            if (!logd && services.count("logd") && (timeout < 0 || timeout > 500)) timeout = 500;
            if (timeout != 0) release_memory();
            struct epoll_event events[32];
            int n = ::epoll_wait(epoll.get(), events, 32, timeout);
            for (int i = 0; i < n; ++i) dispatch(events[i]);
            perform(super->tick(Clock::now()));
            retry_removals(Clock::now());
            connect_logd();
            if (!boot_settled) note_boot_settled();
        }
        finish_removals();
        return power == PowerAction::None ? PowerAction::Poweroff : power;
    }

    // About to sleep after a burst of work (starts, exits): hand the heap's free pages back to
    // the kernel. PID 1 lives as long as the machine; its idle footprint is what counts.
    void release_memory() {
        if (!trim_due) return;
        bool launching = std::any_of(services.begin(), services.end(),
                                     [](const auto& entry) { return entry.second->launch.has_value(); });
        if (launching) return;  // more is on its way: trim once the burst is over
        trim_due = false;
        ::malloc_trim(0);
    }

    // Once, when every service has come up (or given up) after boot: the boot-time figure, read
    // from CLOCK_BOOTTIME (since the kernel started) and the initramfs's start mark.
    void note_boot_settled() {
        auto statuses = super->statuses(Clock::now());
        std::vector<std::string> not_ready;
        for (const auto& st : statuses) {
            using S = supervisor::ServiceState;
            if (st.state == S::Waiting || st.state == S::Starting || st.state == S::Running)
                return;  // still coming up (a service in back-off has failed once: settled, not ready)
            if (st.state != S::Ready && st.state != S::Exited) not_ready.push_back(st.name);
        }
        boot_settled = true;
        struct timespec now{};
        ::clock_gettime(CLOCK_BOOTTIME, &now);
        double at = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
        double userspace = at;
        if (auto mark = sys::read_file(options.run_dir + "/berth/userspace-start")) userspace = at - std::atof(mark->c_str());
        char figures[96];
        std::snprintf(figures, sizeof figures, " at %.3f s (userspace %.3f s)", at, userspace);
        if (not_ready.empty()) {
            boot_ready_seconds = at;
            note("", supervisor::LogLevel::Info, "boot: all " + std::to_string(statuses.size()) + " services ready" + figures);
        } else {
            std::string names;
            for (const auto& n : not_ready) names += (names.empty() ? "" : ", ") + n;
            note("", supervisor::LogLevel::Warning, "boot: settled" + std::string(figures) + " with services not ready: " + names);
        }
        if (options.on_boot_settled) options.on_boot_settled();
    }

    void dispatch(const struct epoll_event& ev) {
        auto source = static_cast<Source>(ev.data.u64 >> 32);
        int fd = static_cast<int>(ev.data.u64 & 0xffffffff);
        switch (source) {
            case Source::Signal: return handle_signals();
            case Source::Logd:
                if (ev.events & (EPOLLHUP | EPOLLERR | EPOLLIN)) return drop_logd();
                modify(fd, Source::Logd, EPOLLIN);
                return forward_all();
            case Source::Control: return accept_clients();
            case Source::ReadyFile: return ready_files_changed();
            case Source::Client:
                if (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) client_readable(fd);
                if (ev.events & EPOLLOUT) flush_client(fd);
                return;
            case Source::ServiceOut:
            case Source::ServiceErr:
            case Source::Notify:
            case Source::Launch: {
                auto owner = by_fd.find(fd);
                if (owner == by_fd.end()) return;  // closed while this event waited in the batch
                ServiceRuntime& s = *owner->second;
                if (source == Source::ServiceOut) drain_output(s, supervisor::LogStream::Stdout);
                else if (source == Source::ServiceErr) drain_output(s, supervisor::LogStream::Stderr);
                else if (source == Source::Notify) read_notify(s);
                else launch_readable(s);
                return;
            }
        }
    }

    void handle_signals() {
        struct signalfd_siginfo info;
        while (::read(signals.get(), &info, sizeof info) == sizeof info) {
            switch (info.ssi_signo) {
                case SIGCHLD: reap(); break;
                case SIGTERM: case SIGUSR2: begin_shutdown(PowerAction::Poweroff); break;
                case SIGINT: case SIGUSR1: begin_shutdown(PowerAction::Reboot); break;  // Ctrl-Alt-Del sends SIGINT
                default: break;
            }
        }
    }
};

InitSystem::InitSystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InitSystem::~InitSystem() = default;

Result<std::unique_ptr<InitSystem>> InitSystem::create(const InitOptions& options, ManifestPreload* preload) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return fail_sys("epoll");
    impl->epoll.reset(ep);

    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGPIPE}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return fail_sys("signalfd");
    impl->signals.reset(sfd);
    impl->watch(sfd, Source::Signal);
    if (int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC); inotify >= 0) {
        impl->ready_files.reset(inotify);
        impl->watch(inotify, Source::ReadyFile);
    }

    LoadedManifests loaded;
    Result<void> preloaded = fail("no preload of these directories");
    if (preload && preload->parser && preload->dirs == options.service_dirs)
        preloaded = preload->parser->answer().and_then(
            [&](const std::string& answer) { return decode_answer(answer, [&](Decoder& d) { d(loaded); }); });
    if (preload && preload->parser) preload->parser->abandon();  // reaped before the loop reaps any child
    if (!preloaded) loaded = via_child<LoadedManifests>([&] { return load_manifests_here(options.service_dirs); });
    if (!loaded.order_error.empty()) return fail(loaded.order_error);
    impl->invalid = std::move(loaded.errors);
    for (const auto& d : impl->invalid) impl->note(d.service, supervisor::LogLevel::Error, d.message);
    // In start order: a service's dependencies come before it (load_directories checked the graph).
    std::vector<supervisor::ServiceConfig> ordered;
    for (auto& m : loaded.services) {
        for (const auto& w : m.warnings) impl->note(m.name, supervisor::LogLevel::Warning, w);
        ordered.push_back(service_config_from(m));
        auto s = std::make_unique<ServiceRuntime>(options.log_ring_bytes);
        s->manifest = std::move(m);
        impl->services[s->manifest.name] = std::move(s);
    }
    impl->super.emplace(TRY(supervisor::Supervisor::create(std::move(ordered))));
    TRY(impl->listen_control());
    return std::unique_ptr<InitSystem>(new InitSystem(std::move(impl)));
}

PowerAction InitSystem::run() { return impl_->run(); }

void finish_shutdown(const InitOptions& options, PowerAction action) {
    // Whatever is left (orphans, stragglers of services): TERM, a short grace, then KILL.
    ::kill(-1, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        if (::kill(-1, 0) < 0 && errno == ESRCH) break;
        ::usleep(20000);
    }
    ::kill(-1, SIGKILL);
    while (::waitpid(-1, nullptr, 0) > 0) {
    }
    ::sync();
    if (!options.machine) return;
    // Remount read-only what we cannot unmount (the root), so the next boot finds it clean.
    for (const char* target : {"/sys/fs/cgroup", "/dev/shm", "/dev/pts", "/run"}) ::umount2(target, MNT_DETACH);
    // The state partition: unmounted when nothing holds it, else read-only; either way its
    // filesystem is marked clean for the next boot.
    ::umount2("/efi", 0);
    if (::umount2("/var", 0) != 0) ::mount(nullptr, "/var", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
    ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
    ::sync();
    ::reboot(action == PowerAction::Reboot ? RB_AUTOBOOT : RB_POWER_OFF);
}

}  // namespace berth::pid1
