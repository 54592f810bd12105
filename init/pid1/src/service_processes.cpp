#include "service_processes.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "berth/supervisor/wall_time.hpp"

namespace berth::pid1 {
namespace {

using supervisor::Clock;
using supervisor::TimePoint;

constexpr int kMaxRemovalAttempts = 20;  // ~7 s of back-off in all

supervisor::WallTime wall_now() { return supervisor::WallClock::now(); }

// A non-blocking connect to 127.0.0.1:port. Over loopback the handshake completes at once when
// something listens; if it has not yet, the probe's next attempt asks again.
bool loopback_accepts(uint16_t port) {
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

}  // namespace

ServiceProcesses::ServiceProcesses(EventLoop& loop, supervisor::Supervisor& super, manifest::SpecContext context,
                                   ServiceHooks hooks)
    : loop_(loop), super_(super), context_(std::move(context)), hooks_(std::move(hooks)) {
    if (int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC); inotify >= 0) {
        ready_files_.reset(inotify);
        if (!loop_.watch(inotify, Source::ReadyFile)) ready_files_.reset();  // file probes then poll only
    }
}

void ServiceProcesses::add(manifest::ServiceManifest manifest, size_t ring_bytes) {
    auto s = std::make_unique<ServiceRuntime>(ring_bytes);
    s->manifest = std::move(manifest);
    services_[s->manifest.name] = std::move(s);
}

ServiceRuntime* ServiceProcesses::find(std::string_view name) {
    auto it = services_.find(name);
    return it == services_.end() ? nullptr : it->second.get();
}

bool ServiceProcesses::launching() const {
    return std::any_of(services_.begin(), services_.end(), [](const auto& entry) { return entry.second->launch.has_value(); });
}

void ServiceProcesses::watch_for(ServiceRuntime& s, int fd, Source source) {
    if (auto watched = loop_.watch(fd, source); !watched)
        hooks_.note(s.manifest.name, supervisor::LogLevel::Error, watched.error().describe());
    by_fd_[fd] = &s;
}

void ServiceProcesses::unwatch_for(int fd) {
    loop_.unwatch(fd);
    by_fd_.erase(fd);
}

// ---- starting ----

void ServiceProcesses::start(const std::string& name) {
    ServiceRuntime* s = find(name);
    if (!s) return hooks_.perform(super_.start_failed(name, "no manifest", Clock::now()));
    if (s->launch) return;  // cannot happen: the supervisor starts a service only once at a time
    auto begun = begin_start(*s);
    if (!begun) {
        hooks_.note(name, supervisor::LogLevel::Error, "start failed: " + begun.error().describe());
        hooks_.perform(super_.start_failed(name, begun.error().describe(), Clock::now()));
    }
}

// Begins the launch and returns: the container sets itself up while the loop goes on, and the
// supervisor hears process_started (or start_failed) when it is done (launch_readable).
Result<void> ServiceProcesses::begin_start(ServiceRuntime& s) {
    for (const auto& m : s.manifest.mounts)
        if (m.type == manifest::MountType::Volume) TRY(sys::mkdir_p(manifest::volume_path(m.source, context_), 0755));
    if (s.manifest.ready.kind == manifest::ReadyKind::Notify) TRY(open_notify_socket(s));
    // Built for this start and dropped once the container is cloned (a spec is ~20 KiB, mostly
    // the seccomp profile): an exec probe builds it again.
    runtime::ContainerSpec spec = TRY(manifest::to_container_spec(s.manifest, context_));
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
    if (auto pending = removals_.find(s.cgroup_path); pending != removals_.end()) {
        (void)runtime::try_remove_cgroup(s.cgroup_path);  // kills any straggler first
        removals_.erase(pending);
    }
    auto launch = TRY(runtime::SpawnLaunch::begin(spec, spawn));
    for (int fd : {out_r.get(), err_r.get()})
        if (::fcntl(fd, F_SETFL, O_NONBLOCK) < 0) return fail_sys("service output pipe");
    close_service_pipes(s);
    s.out = std::move(out_r);
    s.err = std::move(err_r);
    watch_for(s, s.out.get(), Source::ServiceOut);
    watch_for(s, s.err.get(), Source::ServiceErr);
    watch_for(s, launch.fd(), Source::Launch);
    by_pid_[launch.pid()] = &s;
    s.launch.emplace(std::move(launch));
    return {};
}

// The launch's sync socket is readable: the container's init has something to say.
void ServiceProcesses::launch_readable(ServiceRuntime& s) {
    if (!s.launch) return;
    auto progress = s.launch->advance();
    if (progress && *progress == runtime::SpawnLaunch::Progress::Pending) return;
    if (!progress) return launch_failed(s, progress.error());
    int pid = s.launch->pid();
    s.cgroup_path = s.launch->cgroup_path();
    end_launch(s);
    s.pid = pid;
    trim_due = true;
    hooks_.perform(super_.process_started(s.manifest.name, pid, Clock::now()));
}

void ServiceProcesses::launch_failed(ServiceRuntime& s, const Error& error) {
    std::string cgroup = s.launch->cgroup_path();
    end_launch(s);  // its process is killed and reaped later like any orphan
    remove_cgroup_later(s.manifest.name, cgroup);
    hooks_.note(s.manifest.name, supervisor::LogLevel::Error, "start failed: " + error.describe());
    hooks_.perform(super_.start_failed(s.manifest.name, error.describe(), Clock::now()));
}

void ServiceProcesses::end_launch(ServiceRuntime& s) {
    unwatch_for(s.launch->fd());
    s.launch.reset();
}

Result<void> ServiceProcesses::open_notify_socket(ServiceRuntime& s) {
    if (s.notify) return {};
    std::string dir = manifest::service_state_dir(s.manifest, context_);
    TRY(sys::mkdir_p(dir, 0755));
    std::string path = dir + "/notify.sock";
    auto [addr, addr_length] = TRY_CTX(sys::unix_socket_address(path), "notify socket");
    ::unlink(path.c_str());
    sys::UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock) return fail_sys("notify socket");
    if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), addr_length) < 0) return fail_sys("bind '" + path + "'");
    if (::chmod(path.c_str(), 0666) < 0) return fail_sys("chmod '" + path + "'");  // the service may run as any user
    s.notify = std::move(sock);
    watch_for(s, s.notify.get(), Source::Notify);
    return {};
}

void ServiceProcesses::close_service_pipes(ServiceRuntime& s) {
    for (auto* fd : {&s.out, &s.err})
        if (*fd) {
            unwatch_for(fd->get());
            fd->reset();
        }
}

void ServiceProcesses::close_service_fds(ServiceRuntime& s) {
    close_service_pipes(s);
    if (s.notify) {
        unwatch_for(s.notify.get());
        s.notify.reset();
    }
    if (s.launch) end_launch(s);
}

void ServiceProcesses::signal(const std::string& name, int pid, int signal) {
    ServiceRuntime* s = find(name);
    if (signal == SIGKILL && s && !s->cgroup_path.empty()) (void)runtime::signal_cgroup(s->cgroup_path, SIGKILL);
    if (pid > 0) ::kill(pid, signal);
}

void ServiceProcesses::removed(const std::string& name) {
    if (ServiceRuntime* s = find(name)) {
        close_service_fds(*s);
        std::erase_if(by_pid_, [s](const auto& entry) { return entry.second == s; });
    }
    services_.erase(name);
}

// ---- output and notify ----

void ServiceProcesses::fd_ready(Source source, int fd) {
    auto owner = by_fd_.find(fd);
    if (owner == by_fd_.end()) return;  // closed while this event waited in the batch
    ServiceRuntime& s = *owner->second;
    // A bounded drain: a service that writes without pause must not keep the loop to itself.
    if (source == Source::ServiceOut) drain_output(s, supervisor::LogStream::Stdout, 16);
    else if (source == Source::ServiceErr) drain_output(s, supervisor::LogStream::Stderr, 16);
    else if (source == Source::Notify) read_notify(s);
    else if (source == Source::Launch) launch_readable(s);
}

bool ServiceProcesses::drain_output(ServiceRuntime& s, supervisor::LogStream stream, int max_reads) {
    sys::UniqueFd& fd = stream == supervisor::LogStream::Stdout ? s.out : s.err;
    if (!fd) return false;
    char buf[16384];
    bool more = true;
    for (int reads = 0; reads < max_reads; ++reads) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n > 0) {
            s.ring.append(stream, std::string_view(buf, static_cast<size_t>(n)), wall_now());
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {  // every writer closed: the service and all its processes are gone
            unwatch_for(fd.get());
            fd.reset();
        }
        more = false;
        break;
    }
    hooks_.output(s);
    return more;
}

void ServiceProcesses::read_notify(ServiceRuntime& s) {
    char buf[4096];
    for (int messages = 0; messages < 64; ++messages) {
        ssize_t n = ::recv(s.notify.get(), buf, sizeof buf, 0);
        if (n <= 0) break;
        // sd_notify: newline-separated assignments; READY=1 is the one that matters.
        std::string_view message(buf, static_cast<size_t>(n));
        bool ready = false;
        while (!message.empty() && !ready) {
            size_t nl = message.find('\n');
            ready = message.substr(0, nl) == "READY=1";
            message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
        }
        if (ready) hooks_.perform(super_.became_ready(s.manifest.name, Clock::now()));
    }
}

// ---- probes ----

void ServiceProcesses::run_probe(const std::string& name, supervisor::ProbeKind kind) {
    ServiceRuntime* s = find(name);
    if (!s || s->pid <= 0) return hooks_.perform(super_.probe_result(name, kind, false, Clock::now()));
    auto started = start_probe(*s, kind);
    if (!started) {
        hooks_.note(name, supervisor::LogLevel::Warning,
                    std::string(supervisor::probe_kind_name(kind)) + " probe: " + started.error().describe());
        return hooks_.perform(super_.probe_result(name, kind, false, Clock::now()));
    }
    if (*started == 0) return hooks_.perform(super_.probe_result(name, kind, true, Clock::now()));  // answered at once
    if (*started < 0) return hooks_.perform(super_.probe_result(name, kind, false, Clock::now()));
    probes_[*started] = Probe{name, kind};
}

// Starts a probe; returns its pid (to reap), 0 for "passed now", -1 for "failed now".
Result<int> ServiceProcesses::start_probe(ServiceRuntime& s, supervisor::ProbeKind kind) {
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
    runtime::ContainerSpec spec = TRY(manifest::to_container_spec(m, context_));
    runtime::Process process = spec.process;
    process.args = command;
    process.terminal = false;
    auto devnull = TRY(sys::open("/dev/null", O_RDWR));
    return TRY(runtime::exec_in_process(spec, s.pid, s.cgroup_path, process, {devnull.get(), devnull.get(), devnull.get()}));
}

// The same directory watched again gets the same watch: nothing piles up. A watch ends with its
// directory (a container's tmpfs goes with the container).
void ServiceProcesses::watch_ready_file(const std::string& path) {
    if (!ready_files_) return;
    std::string dir = path.substr(0, path.rfind('/'));
    (void)::inotify_add_watch(ready_files_.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
}

// Something was created in a watched directory: every service waiting on a file probes again at
// once (a stat each; which file it was does not matter).
void ServiceProcesses::ready_files_changed() {
    alignas(struct inotify_event) char events[4096];
    while (::read(ready_files_.get(), events, sizeof events) > 0) {
    }
    for (const auto& [name, s] : services_)
        if (s->manifest.ready.kind == manifest::ReadyKind::File) hooks_.perform(super_.ready_probe_soon(name, Clock::now()));
}

// Connects to the port from inside the service's network namespace: for a service in PID 1's own
// (network = "host") right here, without a process (boot probes it every few ms); for another, in
// a child process that joins it.
Result<int> ServiceProcesses::start_tcp_probe(ServiceRuntime& s) {
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

// ---- reaping ----

bool ServiceProcesses::reaped(pid_t pid, int status) {
    if (auto probe = probes_.find(pid); probe != probes_.end()) {
        Probe p = probe->second;
        probes_.erase(probe);
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        hooks_.perform(super_.probe_result(p.service, p.kind, ok, Clock::now()));
        return true;
    }
    auto owner = by_pid_.find(pid);
    if (owner == by_pid_.end()) return false;
    ServiceRuntime* s = owner->second;
    by_pid_.erase(owner);
    if (s->launch && s->launch->pid() == pid) {  // died while setting up
        Error why = s->launch->exited(status);
        launch_failed(*s, why);
        return true;
    }
    if (s->pid != pid) return true;  // the process of a launch that had already failed
    std::string name = s->manifest.name;
    // What it wrote before it ended, up to 4 MiB now (more, or what processes it left behind
    // write, comes with the next events).
    drain_output(*s, supervisor::LogStream::Stdout, 256);
    drain_output(*s, supervisor::LogStream::Stderr, 256);
    s->ring.flush(wall_now());
    s->pid = 0;
    s->kernel_view_pid = 0;
    remove_cgroup_later(name, s->cgroup_path);
    trim_due = true;
    hooks_.perform(super_.process_exited(name, pid, supervisor::ExitStatus::from_wait_status(status), Clock::now()));
    return true;
}

void ServiceProcesses::read_kernel_view(ServiceRuntime& s, int pid) {
    if (s.kernel_view_pid == pid) return;
    s.kernel_view_pid = pid;
    s.pid_namespace.clear();
    s.kernel_cgroup.clear();
    std::string proc = "/proc/" + std::to_string(pid);
    char link[64] = {};
    if (::readlink((proc + "/ns/pid").c_str(), link, sizeof link - 1) > 0) s.pid_namespace = link;
    if (auto cgroup = sys::read_file(proc + "/cgroup")) {
        auto at = cgroup->rfind("0::");
        if (at != std::string::npos) s.kernel_cgroup = cgroup->substr(at + 3, cgroup->find('\n', at) - at - 3);
    }
}

// ---- cgroups of ended services ----
// A service's cgroup goes only once the kernel has let go of its dead processes, which may take a
// moment; the loop retries from its timer instead of waiting.

void ServiceProcesses::remove_cgroup_later(const std::string& service, const std::string& path) {
    if (path.empty()) return;
    removals_[path] = CgroupRemoval{service, Clock::now(), 0};
    retry_removals(Clock::now());  // usually done at the first attempt
}

void ServiceProcesses::retry_removals(TimePoint now) {
    for (auto it = removals_.begin(); it != removals_.end();) {
        CgroupRemoval& r = it->second;
        if (r.next_attempt > now) {
            ++it;
            continue;
        }
        auto removed = runtime::try_remove_cgroup(it->first);
        ++r.attempts;
        if (removed && *removed) {
            it = removals_.erase(it);
            continue;
        }
        if (!removed || r.attempts >= kMaxRemovalAttempts) {
            hooks_.note(r.service, supervisor::LogLevel::Warning,
                        removed ? "cgroup '" + it->first + "' still busy; left behind" : removed.error().describe());
            it = removals_.erase(it);
            continue;
        }
        r.next_attempt = now + std::chrono::milliseconds(std::min(10 << std::min(r.attempts - 1, 6), 500));
        ++it;
    }
}

std::optional<TimePoint> ServiceProcesses::next_removal() const {
    std::optional<TimePoint> earliest;
    for (const auto& [path, r] : removals_)
        if (!earliest || r.next_attempt < *earliest) earliest = r.next_attempt;
    return earliest;
}

void ServiceProcesses::finish_removals() {
    auto give_up = Clock::now() + std::chrono::seconds(3);
    while (!removals_.empty() && Clock::now() < give_up) {
        if (auto next = next_removal(); next && *next > Clock::now()) ::usleep(5000);
        retry_removals(Clock::now());
    }
}

}  // namespace berth::pid1
