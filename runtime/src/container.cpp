#include "berth/runtime/container.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>

#include "berth/log.hpp"
#include "berth/parse_integer.hpp"
#include "berth/runtime/cgroups.hpp"
#include "berth/runtime/hooks.hpp"
#include "berth/runtime/oci_config.hpp"
#include "berth/runtime/seccomp.hpp"
#include "container_init.hpp"

namespace berth::runtime {
namespace {

using detail::receive_message;
using detail::send_message;


std::string mapping_text(const std::vector<IdMapping>& mappings) {
    std::string out;
    for (const auto& m : mappings)
        out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return out;
}

Result<sys::UniqueFd> connect_console_socket(const std::string& path) {
    if (path.empty()) return sys::UniqueFd();
    return TRY_CTX(sys::connect_unix(path, SOCK_STREAM), "console socket");
}

Result<void> write_pid_file(const std::string& path, pid_t pid) {
    if (path.empty()) return {};
    std::string tmp = path + ".berth-tmp";
    TRY(sys::write_file(tmp, std::to_string(pid)));
    if (::rename(tmp.c_str(), path.c_str()) < 0) return fail_sys("write pid file '" + path + "'");
    return {};
}

struct LaunchParams {
    std::string id;
    int state_dir_fd = -1;         // exec FIFO directory; -1: start by message
    int console_socket_fd = -1;
    int preserve_fds = 0;
    const cgroups::Cgroup* cgroup = nullptr;
    std::function<std::string(pid_t, Status)> state_for_hooks;
    int stdio[3] = {-1, -1, -1};
    std::string seccomp_cache_dir;
    bool nonblocking = false;      // the caller polls the sync socket (berth-init's event loop)
};

Result<std::optional<seccomp::Program>> seccomp_program(const ContainerSpec& spec, const std::string& cache_dir) {
    if (!spec.seccomp) return std::optional<seccomp::Program>{};
    return std::optional<seccomp::Program>{TRY_CTX(seccomp::compile_cached(*spec.seccomp, cache_dir), "linux.seccomp")};
}

bool has_setup_hooks(const Hooks& hooks) {
    return !hooks.prestart.empty() || !hooks.create_runtime.empty() || !hooks.create_container.empty() ||
           !hooks.start_container.empty();
}

// The parent's half of the launch protocol, as steps: begin() clones the container's init and
// sends it `go`; step() handles one message from it (running prestart/createRuntime hooks when
// asked) until the init reports `created`. Nothing here waits for the init, so a caller with an
// event loop can have many launches in flight; launch() below drives one to the end, blocking.
class LaunchSession {
public:
    enum class Step { Pending, Created };

    // Fails only before the clone. A failure after it (uid/gid maps, joining the cgroup) kills
    // the new process and is reported by the first step(), so the caller always learns the pid.
    static Result<LaunchSession> begin(const ContainerSpec& spec, const LaunchParams& params) {
        auto [parent_end, child_end] = TRY(sys::socket_pair());
        // Only what must exist from the first instruction is made by clone(): the pid and time
        // namespaces (unshare would place only later children in them) and the user namespace
        // (the uid/gid maps are written before `go`). The init unshares the rest itself; the
        // cgroup namespace comes last, once the process is in its cgroup.
        unsigned long flags = 0;
        int unshare_flags = 0;
        for (const auto& ns : spec.namespaces) {
            if (!ns.path.empty() || ns.type == NamespaceType::Cgroup) continue;
            bool at_clone =
                ns.type == NamespaceType::Pid || ns.type == NamespaceType::User || ns.type == NamespaceType::Time;
            if (at_clone) flags |= static_cast<unsigned long>(namespace_clone_flag(ns.type));
            else unshare_flags |= namespace_clone_flag(ns.type);
        }
        const Namespace* pid_ns = spec.find_namespace(NamespaceType::Pid);
        if (pid_ns && !pid_ns->path.empty()) {
            // Affects only this process's future children, i.e. the container's init.
            auto fd = TRY_CTX(sys::open(pid_ns->path, O_RDONLY), "linux.namespaces pid '" + pid_ns->path + "'");
            TRY(sys::setns(fd.get(), CLONE_NEWPID, "linux.namespaces pid '" + pid_ns->path + "'"));
        }
        bool runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
        auto program = TRY(seccomp_program(spec, params.seccomp_cache_dir));

        // The init joins its cgroup itself, unless it starts in a new user namespace, where it
        // has no right to: then the parent moves it (start()).
        const cgroups::Cgroup* child_joins = (flags & CLONE_NEWUSER) ? nullptr : params.cgroup;
        pid_t pid = TRY_CTX(sys::clone_process(flags), "create container process");
        if (pid == 0) {
            parent_end.reset();
            detail::InitContext ctx{&spec, child_end.get(), params.state_dir_fd, params.console_socket_fd,
                                    params.preserve_fds, runtime_hooks, {params.stdio[0], params.stdio[1], params.stdio[2]},
                                    program ? &*program : nullptr, unshare_flags, child_joins};
            detail::container_init(ctx);
        }
        child_end.reset();
        LaunchSession session;
        session.pid_ = pid;
        session.channel_ = std::move(parent_end);
        if (params.nonblocking) ::fcntl(session.channel_.get(), F_SETFL, O_NONBLOCK);
        if (auto sent = session.start(spec, params, /*join_cgroup=*/!child_joins); !sent) {
            ::kill(pid, SIGKILL);
            session.failure_ = std::move(sent).error();
        }
        return session;
    }

    Result<Step> step() {
        if (failure_) {
            Error error = std::move(*failure_);
            failure_.reset();
            return fail(std::move(error));
        }
        std::string message;
        switch (detail::receive_message(channel_.get(), message)) {
            case detail::Receive::Again: return Step::Pending;
            case detail::Receive::Closed: return fail("container process exited during setup");
            case detail::Receive::Message: break;
        }
        if (message == detail::kCreated) return Step::Created;
        if (message == detail::kRunHooks) {
            TRY(run_hooks(prestart_, state_, "prestart"));
            TRY(run_hooks(create_runtime_, state_, "createRuntime"));
            if (!send_message(channel_.get(), detail::kHooksDone)) return fail_sys("container process: send");
            return Step::Pending;
        }
        if (message.rfind(detail::kErrorPrefix, 0) == 0) return fail(message.substr(std::strlen(detail::kErrorPrefix)));
        return fail("container process: unexpected message during setup");
    }

    pid_t pid() const { return pid_; }
    int fd() const { return channel_.get(); }
    sys::UniqueFd take_channel() { return std::move(channel_); }

private:
    // Writes the uid/gid maps, moves the process into its cgroup (unless it does so itself) and
    // lets it go.
    Result<void> start(const ContainerSpec& spec, const LaunchParams& params, bool join_cgroup) {
        const Namespace* user_ns = spec.find_namespace(NamespaceType::User);
        if (user_ns && user_ns->path.empty()) {
            std::string proc = "/proc/" + std::to_string(pid_);
            TRY_CTX(sys::write_existing(proc + "/uid_map", mapping_text(spec.uid_mappings)), "linux.uidMappings");
            TRY_CTX(sys::write_existing(proc + "/gid_map", mapping_text(spec.gid_mappings)), "linux.gidMappings");
        }
        if (params.cgroup && join_cgroup) TRY_CTX(params.cgroup->add_process(pid_), "join cgroup");
        // The state JSON is only for hooks; without any, the init needs none.
        if (has_setup_hooks(spec.hooks)) state_ = params.state_for_hooks(pid_, Status::Creating);
        prestart_ = spec.hooks.prestart;
        create_runtime_ = spec.hooks.create_runtime;
        if (!send_message(channel_.get(), std::string(detail::kGo) + state_)) return fail_sys("start container process");
        return {};
    }

    pid_t pid_ = 0;
    sys::UniqueFd channel_;
    std::optional<Error> failure_;
    std::string state_;
    std::vector<Hook> prestart_, create_runtime_;
};

// Clones the container's init and walks it through setup until it waits for start (blocking).
Result<Launched> launch(const ContainerSpec& spec, const LaunchParams& params) {
    LaunchSession session = TRY(LaunchSession::begin(spec, params));
    for (;;) {
        auto step = session.step();
        if (!step) {
            ::kill(session.pid(), SIGKILL);
            ::waitpid(session.pid(), nullptr, 0);
            return fail(std::move(step).error());
        }
        if (*step == LaunchSession::Step::Created) break;
    }
    Launched launched;
    launched.pid = session.pid();
    if (params.state_dir_fd < 0) launched.start_channel = session.take_channel();
    return launched;
}

Result<cgroups::HostCgroups> host_cgroups() {
    static std::optional<cgroups::HostCgroups> cached;
    if (!cached) cached = TRY(cgroups::detect_host());
    return *cached;
}

// A cgroup's directory in each hierarchy it was created in: the cgroup2 one and one per
// mounted v1 hierarchy (co-mounted controllers share one; named hierarchies hold no
// containers), as cgroups::Cgroup creates them.
std::vector<std::string> cgroup_dirs(const cgroups::HostCgroups& host, const std::string& relative) {
    std::vector<std::string> roots;
    if (!host.unified_root.empty()) roots.push_back(host.unified_root);
    for (const auto& [controller, root] : host.v1_roots)
        if (controller.rfind("name=", 0) != 0 && std::find(roots.begin(), roots.end(), root) == roots.end())
            roots.push_back(root);
    for (auto& root : roots) root += relative;
    return roots;
}

// `dir` and the cgroups nested below it (a container managing its own), deepest first.
Result<void> add_tree_bottom_up(const std::string& dir, std::vector<std::string>& out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return {};
        return fail_sys("read cgroup '" + dir + "'");
    }
    std::vector<std::string> children;
    while (struct dirent* entry = ::readdir(d))
        if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
            children.push_back(dir + "/" + entry->d_name);
    ::closedir(d);
    for (const auto& child : children) TRY(add_tree_bottom_up(child, out));
    out.push_back(dir);
    return {};
}

// Whether any process is still in this one cgroup (not counting nested ones).
Result<bool> cgroup_populated(const std::string& dir) {
    auto procs = sys::read_file(dir + "/cgroup.procs");
    if (!procs && procs.error().errnum == ENOENT) return false;  // removed meanwhile
    if (!procs) return fail(std::move(procs).error());
    return procs->find_first_of("0123456789") != std::string::npos;
}

Status status_of(const StateStore& store, const ContainerState& state) {
    if (!process_alive(state)) return Status::Stopped;
    if (sys::exists(store.fifo_path(state.id))) return Status::Created;
    if (!state.cgroup_path.empty()) {
        if (auto host = host_cgroups(); host) {
            auto cg = cgroups::Cgroup::open(*host, state.cgroup_path);
            if (auto frozen = cg.frozen(); frozen && *frozen) return Status::Paused;
        }
    }
    return Status::Running;
}

// Everything create needs besides the process: state dir, cgroup, FIFO. Undone on failure.
class CreateTransaction {
public:
    CreateTransaction(const Runtime& rt, std::string id) : rt_(rt), id_(std::move(id)) {}
    ~CreateTransaction() {
        if (committed_) return;
        if (cgroup_) (void)cgroup_->destroy();
        if (reserved_) (void)rt_.store.remove(id_);
    }
    void reserved() { reserved_ = true; }
    void set_cgroup(cgroups::Cgroup cg) { cgroup_ = std::move(cg); }
    const cgroups::Cgroup* cgroup() const { return cgroup_ ? &*cgroup_ : nullptr; }
    void commit() { committed_ = true; }

private:
    const Runtime& rt_;
    std::string id_;
    bool reserved_ = false;
    bool committed_ = false;
    std::optional<cgroups::Cgroup> cgroup_;
};

Result<Launched> create_impl(const Runtime& rt, const CreateOptions& opts, bool use_fifo, int console_socket_override,
                             ContainerState& state_out, ContainerSpec& spec_out) {
    std::string config_path = opts.bundle + "/config.json";
    auto text = TRY(sys::read_file(config_path));
    ContainerSpec spec = TRY_CTX(parse_config(text, opts.bundle), config_path);

    CreateTransaction tx(rt, opts.id);
    TRY(rt.store.reserve(opts.id));
    tx.reserved();
    std::string dir = rt.store.dir(opts.id);
    TRY(sys::write_file(dir + "/config.json", text, 0, 0600));
    if (!sys::exists(spec.root_path)) return fail_errno(ENOENT, config_path + ": root.path '" + spec.root_path + "'");

    ContainerState state;
    state.id = opts.id;
    state.bundle = opts.bundle;
    state.rootfs = spec.root_path;
    state.created = now_rfc3339();
    state.annotations = spec.annotations;

    auto host = TRY(host_cgroups());
    if (host.layout != cgroups::Layout::None) {
        state.cgroup_path = TRY_CTX(cgroups::resolve_path(spec.cgroups_path, opts.id), "linux.cgroupsPath");
        auto cg = TRY(cgroups::Cgroup::create(host, state.cgroup_path, spec.resources));
        for (const auto& w : cg.warnings()) log::warning(w);
        tx.set_cgroup(std::move(cg));
    } else if (spec.resources) {
        return fail("linux.resources: no cgroup filesystem is mounted, so limits cannot be applied");
    }

    sys::UniqueFd dir_fd;
    if (use_fifo) {
        if (::mkfifo(rt.store.fifo_path(opts.id).c_str(), 0622) < 0) return fail_sys("create exec FIFO");
        ::chmod(rt.store.fifo_path(opts.id).c_str(), 0622);
        dir_fd = TRY(sys::open(dir, O_PATH | O_DIRECTORY));
    }
    sys::UniqueFd console = TRY(connect_console_socket(opts.console_socket));
    int console_fd = console_socket_override >= 0 ? console_socket_override : console.get();
    if (spec.process.terminal && console_fd < 0)
        return fail("process.terminal is true: a --console-socket is needed");

    LaunchParams params;
    params.id = opts.id;
    params.state_dir_fd = dir_fd.get();
    params.console_socket_fd = console_fd;
    params.preserve_fds = opts.preserve_fds;
    params.cgroup = tx.cgroup();
    params.seccomp_cache_dir = rt.store.root() + "/.seccomp-cache";
    params.state_for_hooks = [&state](pid_t pid, Status status) {
        ContainerState s = state;
        s.pid = pid;
        return state_json(s, status);
    };
    Launched launched = TRY(launch(spec, params));
    state.pid = launched.pid;
    state.start_time = sys::process_start_time(launched.pid).value_or(0);
    if (auto saved = rt.store.save(state); !saved) {
        ::kill(launched.pid, SIGKILL);
        return fail(saved.error());
    }
    if (auto written = write_pid_file(opts.pid_file, launched.pid); !written) {
        ::kill(launched.pid, SIGKILL);
        return fail(written.error());
    }
    tx.commit();
    state_out = state;
    spec_out = std::move(spec);
    return launched;
}

Result<ContainerSpec> saved_config(const Runtime& rt, const ContainerState& state) {
    std::string path = rt.store.dir(state.id) + "/config.json";
    auto text = TRY(sys::read_file(path));
    return TRY_CTX(parse_config(text, state.bundle), path);
}

void run_poststart(const ContainerSpec& spec, const ContainerState& state) {
    // The spec wants a failing poststart hook logged, not fatal.
    if (auto r = run_hooks(spec.hooks.poststart, state_json(state, Status::Running), "poststart"); !r)
        log::warning(r.error().describe());
}

// Waits for `pid` (a child of this process), forwarding signals to it and, with a pty,
// relaying the terminal. Returns the exit code, 128+N for a signal.
Result<int> wait_forwarding(pid_t pid, int pty_master) {
    sigset_t mask;
    sigfillset(&mask);
    for (int s : {SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP, SIGSYS}) sigdelset(&mask, s);
    sigset_t old;
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) return fail_sys("signalfd");
    sys::UniqueFd signals(sfd);

    struct termios saved_tio{};
    bool raw = pty_master >= 0 && ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_tio) == 0;
    if (raw) {
        struct termios tio = saved_tio;
        ::cfmakeraw(&tio);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &tio);
    }
    int status = 0;
    // The process may have exited before SIGCHLD was blocked; that signal is lost.
    bool exited = ::waitpid(pid, &status, WNOHANG) == pid;
    bool stdin_open = pty_master >= 0;
    while (!exited) {
        struct pollfd fds[3] = {{sfd, POLLIN, 0}, {pty_master, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, pty_master >= 0 ? 3 : 1, -1) < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (::read(sfd, &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGCHLD) {
                    // Reap every child; only the container's process ends the wait.
                    for (;;) {
                        int st = 0;
                        pid_t r = ::waitpid(-1, &st, WNOHANG);
                        if (r <= 0) break;
                        if (r == pid) { status = st; exited = true; }
                    }
                } else if (info.ssi_signo != SIGPIPE) {
                    ::kill(pid, static_cast<int>(info.ssi_signo));
                }
            }
        }
        char buf[4096];
        if (pty_master >= 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = ::read(pty_master, buf, sizeof buf);
            if (n > 0) (void)sys::write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(n)));
        }
        if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP))) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) (void)sys::write_all(pty_master, std::string_view(buf, static_cast<size_t>(n)));
            else stdin_open = false;
        }
    }
    if (pty_master >= 0) {  // drain what the process wrote just before exiting
        char buf[4096];
        ::fcntl(pty_master, F_SETFL, O_NONBLOCK);
        for (ssize_t n; (n = ::read(pty_master, buf, sizeof buf)) > 0;)
            (void)sys::write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(n)));
    }
    if (raw) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// Waits (bounded) for a process that is not our child to go away.
bool wait_gone(const ContainerState& state, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        if (!process_alive(state)) return true;
        ::waitpid(state.pid, nullptr, WNOHANG);  // in case it is our child after all
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !process_alive(state);
}

Result<void> cleanup_stopped(const Runtime& rt, const ContainerState& state) {
    auto spec = saved_config(rt, state);
    if (!state.cgroup_path.empty()) {
        auto host = TRY(host_cgroups());
        TRY_CTX(cgroups::Cgroup::open(host, state.cgroup_path).destroy(), "remove cgroup");
    }
    if (spec) {
        if (auto r = run_hooks(spec->hooks.poststop, state_json(state, Status::Stopped), "poststop"); !r)
            log::warning(r.error().describe());
    } else {
        log::warning("poststop hooks skipped: " + spec.error().describe());
    }
    return rt.store.remove(state.id);
}

// Starts `process` inside the namespaces and cgroup of the container whose first process is
// `target_pid`. Returns once execve succeeded; the new process is the caller's child.
Result<pid_t> start_exec(const ContainerSpec& spec, pid_t target_pid, const std::string& cgroup_path,
                         const Process& process, const std::array<int, 3>& stdio, int console_fd, int preserve_fds,
                         const std::string& seccomp_cache_dir) {
    // Open every namespace of the container before joining any: after joining the mount
    // namespace, /proc/PID may no longer be reachable.
    static const std::pair<NamespaceType, const char*> order[] = {
        {NamespaceType::User, "user"}, {NamespaceType::Ipc, "ipc"},     {NamespaceType::Uts, "uts"},
        {NamespaceType::Network, "net"}, {NamespaceType::Pid, "pid"},   {NamespaceType::Cgroup, "cgroup"},
        {NamespaceType::Time, "time"}, {NamespaceType::Mount, "mnt"}};
    std::vector<std::pair<sys::UniqueFd, int>> ns_fds;
    for (auto& [type, name] : order) {
        if (!spec.has_namespace(type)) continue;
        std::string path = "/proc/" + std::to_string(target_pid) + "/ns/" + name;
        ns_fds.emplace_back(TRY(sys::open(path, O_RDONLY)), namespace_clone_flag(type));
    }
    auto program = TRY(seccomp_program(spec, seccomp_cache_dir));
    auto [parent_end, child_end] = TRY(sys::socket_pair());
    pid_t joiner = ::fork();
    if (joiner < 0) return fail_sys("fork");
    if (joiner == 0) {
        parent_end.reset();
        for (auto& [fd, flag] : ns_fds) {
            if (::setns(fd.get(), flag) < 0) {
                send_message(child_end.get(), std::string(detail::kErrorPrefix) + "join namespace: " + error_text(errno));
                ::_exit(1);
            }
        }
        // A second fork puts the process inside the pid namespace; CLONE_PARENT makes it
        // our caller's child, so the caller can wait for it.
        auto child = sys::clone_process(CLONE_PARENT);
        if (!child) {
            send_message(child_end.get(), std::string(detail::kErrorPrefix) + child.error().describe());
            ::_exit(1);
        }
        if (*child == 0) {
            detail::ExecContext ctx{&spec, &process, child_end.get(), console_fd, preserve_fds,
                                    program ? &*program : nullptr, {stdio[0], stdio[1], stdio[2]}};
            detail::exec_init(ctx);
        }
        send_message(child_end.get(), "pid:" + std::to_string(*child));
        ::_exit(0);
    }
    child_end.reset();
    ns_fds.clear();
    ::waitpid(joiner, nullptr, 0);
    std::string message = receive_message(parent_end.get());
    if (message.rfind("pid:", 0) != 0)
        return fail(message.rfind(detail::kErrorPrefix, 0) == 0 ? message.substr(std::strlen(detail::kErrorPrefix))
                                                                 : "exec: setup failed");
    auto reported = parse_integer<pid_t>(std::string_view(message).substr(4), 1, INT32_MAX);
    if (!reported) return fail("exec: the joining process reported '" + message + "', not a pid");
    pid_t pid = *reported;
    if (!cgroup_path.empty()) {
        auto cg = cgroups::Cgroup::open(TRY(host_cgroups()), cgroup_path);
        if (auto r = cg.add_process(pid); !r) log::warning(r.error().wrap("exec: join cgroup").describe());
    }
    send_message(parent_end.get(), detail::kGo);
    // EOF means execve succeeded (the socket is close-on-exec); a message is an error.
    std::string result = receive_message(parent_end.get());
    if (result.rfind(detail::kErrorPrefix, 0) == 0) {
        ::waitpid(pid, nullptr, 0);
        return fail(result.substr(std::strlen(detail::kErrorPrefix)));
    }
    return pid;
}

}  // namespace

Result<Launched> create_container(const Runtime& rt, const CreateOptions& opts) {
    ContainerState state;
    ContainerSpec spec;
    return create_impl(rt, opts, /*use_fifo=*/true, -1, state, spec);
}

Result<void> start_container(const Runtime& rt, const std::string& id) {
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if (status != Status::Created)
        return fail("container '" + id + "' cannot be started: it is " + status_name(status) + ", not created");
    auto fifo = TRY(sys::open(rt.store.fifo_path(id), O_RDONLY | O_NONBLOCK));
    for (;;) {
        struct pollfd p{fifo.get(), POLLIN, 0};
        int ready = ::poll(&p, 1, 100);
        if (ready > 0 && (p.revents & POLLIN)) break;
        if (!process_alive(state)) return fail("container '" + id + "' exited before it started");
    }
    char byte;
    (void)!::read(fifo.get(), &byte, 1);
    (void)sys::unlink(rt.store.fifo_path(id));
    auto spec = TRY(saved_config(rt, state));
    run_poststart(spec, state);
    return {};
}

Result<RunResult> run_container(const Runtime& rt, const CreateOptions& opts, bool detach) {
    // A foreground terminal without a console socket: relay the pty ourselves.
    std::optional<std::pair<sys::UniqueFd, sys::UniqueFd>> relay;
    if (!detach && opts.console_socket.empty()) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return fail_sys("socketpair");
        relay.emplace(sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1]));
    }
    ContainerState state;
    ContainerSpec spec;
    Launched launched = TRY(create_impl(rt, opts, /*use_fifo=*/false, relay ? relay->second.get() : -1, state, spec));
    sys::UniqueFd master;
    if (relay && spec.process.terminal) master = TRY(sys::recv_fd(relay->first.get()));
    relay.reset();

    if (!send_message(launched.start_channel.get(), detail::kStart)) return fail_sys("start container");
    launched.start_channel.reset();
    run_poststart(spec, state);
    if (detach) return RunResult{0};

    int code = TRY(wait_forwarding(launched.pid, master ? master.get() : -1));
    TRY(cleanup_stopped(rt, state));
    return RunResult{code};
}

struct SpawnLaunch::State {
    std::optional<cgroups::Cgroup> cgroup;
    std::string cgroup_path;
    std::optional<LaunchSession> session;
    bool over = false;          // Started, or failed
    bool process_gone = false;  // reaped by the caller: never signal the pid again
    pid_t pid = 0;
};

SpawnLaunch::SpawnLaunch(std::unique_ptr<State> state) : state_(std::move(state)) {}
SpawnLaunch::SpawnLaunch(SpawnLaunch&&) noexcept = default;
SpawnLaunch& SpawnLaunch::operator=(SpawnLaunch&&) noexcept = default;
SpawnLaunch::~SpawnLaunch() {
    if (state_ && !state_->over && !state_->process_gone) ::kill(state_->pid, SIGKILL);
}

Result<SpawnLaunch> SpawnLaunch::begin(const ContainerSpec& spec, const SpawnOptions& opts) {
    TRY(validate_id(opts.id));
    if (spec.process.terminal) return fail("process.terminal: services have no terminal");
    auto state = std::make_unique<State>();
    auto host = TRY(host_cgroups());
    if (host.layout != cgroups::Layout::None) {
        state->cgroup_path = TRY_CTX(cgroups::resolve_path(spec.cgroups_path, opts.id), "linux.cgroupsPath");
        state->cgroup = TRY(cgroups::Cgroup::create(host, state->cgroup_path, spec.resources,
                                                    cgroups::V1Hierarchies::LimitsOnly));
        for (const auto& w : state->cgroup->warnings()) log::warning(opts.id + ": " + w);
    } else if (spec.resources) {
        return fail("linux.resources: no cgroup filesystem is mounted, so limits cannot be applied");
    }
    LaunchParams params;
    params.id = opts.id;
    params.cgroup = state->cgroup ? &*state->cgroup : nullptr;
    params.seccomp_cache_dir = paths::kSeccompCache;
    params.nonblocking = true;
    params.state_for_hooks = [&spec, &opts](pid_t pid, Status status) {
        ContainerState s;
        s.id = opts.id;
        s.rootfs = spec.root_path;
        s.pid = pid;
        return state_json(s, status);
    };
    for (int i = 0; i < 3; ++i) params.stdio[i] = opts.stdio[i];
    auto session = LaunchSession::begin(spec, params);
    if (!session) {
        // Nothing was cloned: the cgroup is empty and goes at once.
        if (state->cgroup) (void)state->cgroup->destroy();
        return fail(std::move(session).error());
    }
    state->pid = session->pid();
    state->session.emplace(std::move(*session));
    return SpawnLaunch(std::move(state));
}

int SpawnLaunch::fd() const { return state_->session->fd(); }
pid_t SpawnLaunch::pid() const { return state_->pid; }
const std::string& SpawnLaunch::cgroup_path() const { return state_->cgroup_path; }

Result<SpawnLaunch::Progress> SpawnLaunch::advance() {
    if (state_->over) return fail("container launch already over");
    auto step = state_->session->step();
    if (step && *step == LaunchSession::Step::Pending) return Progress::Pending;
    if (step && !send_message(state_->session->fd(), detail::kStart)) step = fail_sys("start container process");
    state_->over = true;
    if (!step) {
        if (!state_->process_gone) ::kill(state_->pid, SIGKILL);
        return fail(std::move(step).error());
    }
    return Progress::Started;
}

Error SpawnLaunch::exited(int wait_status) {
    state_->process_gone = true;
    if (state_->over) return Error{0, "container launch already over"};
    state_->over = true;
    // The init reports its own failure before it exits; that message names the cause.
    std::string message;
    bool reported = detail::receive_message(state_->session->fd(), message) == detail::Receive::Message &&
                    message.rfind(detail::kErrorPrefix, 0) == 0;
    if (reported) return Error{0, message.substr(std::strlen(detail::kErrorPrefix))};
    std::string how = WIFSIGNALED(wait_status) ? "killed by signal " + std::to_string(WTERMSIG(wait_status))
                                               : "exit code " + std::to_string(WEXITSTATUS(wait_status));
    return Error{0, "container process exited during setup (" + how + ")"};
}

Result<Spawned> spawn_container(const ContainerSpec& spec, const SpawnOptions& opts) {
    SpawnLaunch launch = TRY(SpawnLaunch::begin(spec, opts));
    for (;;) {
        struct pollfd p{launch.fd(), POLLIN, 0};
        if (::poll(&p, 1, -1) < 0 && errno != EINTR) return fail_sys("poll");
        auto progress = launch.advance();
        if (!progress) {
            ::waitpid(launch.pid(), nullptr, 0);
            if (!launch.cgroup_path().empty()) (void)remove_cgroup(launch.cgroup_path());
            return fail(std::move(progress).error());
        }
        if (*progress == SpawnLaunch::Progress::Started) return Spawned{launch.pid(), launch.cgroup_path()};
    }
}

Result<void> signal_cgroup(const std::string& cgroup_path, int signal) {
    auto host = TRY(host_cgroups());
    return cgroups::Cgroup::open(host, cgroup_path).kill_all(signal);
}

Result<void> remove_cgroup(const std::string& cgroup_path) {
    auto host = TRY(host_cgroups());
    return cgroups::Cgroup::open(host, cgroup_path).destroy();
}

Result<bool> try_remove_cgroup(const std::string& cgroup_path) {
    auto host = TRY(host_cgroups());
    std::vector<std::string> dirs;
    for (const auto& top : cgroup_dirs(host, cgroup_path)) TRY(add_tree_bottom_up(top, dirs));
    for (const auto& dir : dirs) {
        if (!TRY(cgroup_populated(dir))) continue;
        // Stragglers (a service's own children): kill them and look again next time.
        TRY(cgroups::Cgroup::open(host, cgroup_path).kill_all(SIGKILL));
        return false;
    }
    for (const auto& dir : dirs) {
        auto removed = sys::rmdir(dir);
        if (removed || removed.error().errnum == ENOENT) continue;
        if (removed.error().errnum == EBUSY) return false;  // the kernel is still releasing the dead
        return fail(std::move(removed).error().wrap("remove cgroup '" + cgroup_path + "'"));
    }
    return true;
}

Result<void> kill_container(const Runtime& rt, const std::string& id, int signal, bool all) {
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if (status == Status::Stopped) return fail("container '" + id + "' is not running");
    if (all && !state.cgroup_path.empty()) {
        auto host = TRY(host_cgroups());
        auto cg = cgroups::Cgroup::open(host, state.cgroup_path);
        TRY(cg.kill_all(signal));
        if (status == Status::Paused && (signal == SIGKILL || signal == SIGTERM)) (void)cg.thaw();
        return {};
    }
    TRY(sys::kill(state.pid, signal));
    return {};
}

Result<void> delete_container(const Runtime& rt, const std::string& id, bool force) {
    // Like runc, a forced delete of a container that is already gone succeeds: podman
    // calls it after a failed create.
    if (force && validate_id(id) && !sys::exists(rt.store.dir(id) + "/state.json")) {
        (void)rt.store.remove(id);
        return {};
    }
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if ((status == Status::Running || status == Status::Paused) && !force)
        return fail("container '" + id + "' is " + status_name(status) + ": stop it first or use --force");
    if (status != Status::Stopped) {
        ::kill(state.pid, SIGKILL);
        if (!state.cgroup_path.empty()) {
            auto host = TRY(host_cgroups());
            auto cg = cgroups::Cgroup::open(host, state.cgroup_path);
            (void)cg.kill_all(SIGKILL);
            if (status == Status::Paused) (void)cg.thaw();  // a frozen task dies only when thawed
        }
        if (!wait_gone(state, 5000)) return fail("container '" + id + "' did not die after SIGKILL");
    }
    return cleanup_stopped(rt, state);
}

Result<void> pause_container(const Runtime& rt, const std::string& id) {
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if (status != Status::Running) return fail("container '" + id + "' is " + status_name(status) + ", not running");
    if (state.cgroup_path.empty()) return fail("container '" + id + "' has no cgroup to freeze");
    auto cg = cgroups::Cgroup::open(TRY(host_cgroups()), state.cgroup_path);
    if (!cg.can_freeze()) return fail("pausing needs a cgroup freezer, and this host has none");
    return cg.freeze();
}

Result<void> resume_container(const Runtime& rt, const std::string& id) {
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if (status != Status::Paused) return fail("container '" + id + "' is " + status_name(status) + ", not paused");
    auto cg = cgroups::Cgroup::open(TRY(host_cgroups()), state.cgroup_path);
    return cg.thaw();
}

Result<ContainerInfo> inspect_container(const Runtime& rt, const std::string& id) {
    ContainerState state = TRY(rt.store.load(id));
    return ContainerInfo{state, status_of(rt.store, state)};
}

Result<std::vector<ContainerInfo>> list_containers(const Runtime& rt) {
    std::vector<ContainerInfo> out;
    for (const auto& id : TRY(rt.store.list()))
        if (auto info = inspect_container(rt, id); info) out.push_back(*info);
    return out;
}

Result<std::vector<pid_t>> container_pids(const Runtime& rt, const std::string& id) {
    ContainerState state = TRY(rt.store.load(id));
    if (status_of(rt.store, state) == Status::Stopped) return std::vector<pid_t>{};
    if (state.cgroup_path.empty()) return std::vector<pid_t>{state.pid};
    return cgroups::Cgroup::open(TRY(host_cgroups()), state.cgroup_path).processes();
}

Result<int> exec_in_container(const Runtime& rt, const std::string& id, const Process& process,
                              const ExecOptions& opts) {
    ContainerState state = TRY(rt.store.load(id));
    Status status = status_of(rt.store, state);
    if (status != Status::Running && status != Status::Created)
        return fail("cannot exec in container '" + id + "': it is " + status_name(status));
    ContainerSpec spec = TRY(saved_config(rt, state));
    if (process.terminal && opts.console_socket.empty() && opts.detach)
        return fail("process.terminal is true: a --console-socket is needed with --detach");

    std::optional<std::pair<sys::UniqueFd, sys::UniqueFd>> relay;
    sys::UniqueFd console = TRY(connect_console_socket(opts.console_socket));
    int console_fd = console.get();
    if (process.terminal && console_fd < 0) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return fail_sys("socketpair");
        relay.emplace(sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1]));
        console_fd = relay->second.get();
    }

    pid_t pid = TRY(start_exec(spec, state.pid, state.cgroup_path, process,
                               {-1, -1, -1}, console_fd, opts.preserve_fds, rt.store.root() + "/.seccomp-cache"));
    sys::UniqueFd master;
    if (relay) master = TRY(sys::recv_fd(relay->first.get()));
    TRY(write_pid_file(opts.pid_file, pid));
    if (opts.detach) return 0;
    return wait_forwarding(pid, master ? master.get() : -1);
}

Result<pid_t> exec_in_process(const ContainerSpec& spec, pid_t pid, const std::string& cgroup_path,
                              const Process& process, const std::array<int, 3>& stdio) {
    if (process.terminal) return fail("process.terminal: probes have no terminal");
    return start_exec(spec, pid, cgroup_path, process, stdio, -1, 0, paths::kSeccompCache);
}

}  // namespace berth::runtime
