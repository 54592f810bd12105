#include "container_init.hpp"

#include <fcntl.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/hooks.hpp"
#include "berth/runtime/mounts.hpp"
#include "berth/runtime/seccomp.hpp"
#include "berth/sys.hpp"

namespace berth::runtime::detail {

bool send_message(int fd, const std::string& message) {
    return ::send(fd, message.data(), message.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(message.size());
}

Receive receive_message(int fd, std::string& message) {
    for (;;) {
        // Peeking with MSG_TRUNC gives the message's whole length, so the buffer fits it exactly.
        char first;
        ssize_t length = ::recv(fd, &first, 1, MSG_PEEK | MSG_TRUNC);
        if (length < 0 && errno == EINTR) continue;
        if (length < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Receive::Again;
        if (length <= 0) return Receive::Closed;
        message.resize(static_cast<size_t>(length));
        ssize_t n = ::recv(fd, message.data(), message.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Receive::Closed;
        message.resize(static_cast<size_t>(n));
        return Receive::Message;
    }
}

std::string receive_message(int fd) {
    std::string message;
    return receive_message(fd, message) == Receive::Message ? message : std::string();
}

namespace {

Result<void> expect_message(int fd, const char* expected) {
    std::string m = receive_message(fd);
    if (m.rfind(expected, 0) != 0) return fail(std::string("runtime did not send '") + expected + "'");
    return {};
}

// The runtime's caller (berth-init, `berth run`) may block or ignore signals; a container
// starts with none blocked and every disposition at its default.
void reset_signals() {
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
}

// Marks every fd above the preserved ones close-on-exec, so nothing of the runtime leaks in.
void close_inherited_fds(int preserve_fds) {
    ::syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
}


// Joins namespaces given by path (the user namespace first, since it grants the rights
// to join the others). The pid namespace was joined by the parent before clone.
Result<void> join_namespaces_by_path(const ContainerSpec& spec) {
    std::vector<const Namespace*> order;
    for (const auto& ns : spec.namespaces)
        if (!ns.path.empty() && ns.type == NamespaceType::User) order.push_back(&ns);
    for (const auto& ns : spec.namespaces)
        if (!ns.path.empty() && ns.type != NamespaceType::User && ns.type != NamespaceType::Pid) order.push_back(&ns);
    for (const Namespace* ns : order) {
        std::string what = std::string("linux.namespaces ") + namespace_type_name(ns->type) + " '" + ns->path + "'";
        auto fd = TRY_CTX(sys::open(ns->path, O_RDONLY), what);
        TRY(sys::setns(fd.get(), namespace_clone_flag(ns->type), what));
    }
    return {};
}

Result<void> apply_sysctls(const ContainerSpec& spec) {
    for (const auto& [key, value] : spec.sysctl) {
        std::string path = "/proc/sys/" + key;
        for (size_t i = 10; i < path.size(); ++i)
            if (path[i] == '.') path[i] = '/';
        TRY_CTX(sys::write_existing(path, value), "linux.sysctl." + key);
    }
    return {};
}

Result<void> apply_rlimits_and_oom(const Process& process) {
    for (const auto& r : process.rlimits)
        TRY_CTX(sys::setrlimit(r.resource, r.soft, r.hard), "process.rlimits " + r.type);
    if (process.oom_score_adj)
        TRY_CTX(sys::write_existing("/proc/self/oom_score_adj", std::to_string(*process.oom_score_adj)),
                "process.oomScoreAdj");
    return {};
}

// Opens a pty in the container's devpts, hands the master to the console socket and makes
// the slave the process's controlling terminal and stdio.
Result<void> setup_terminal(const Process& process, int console_socket_fd, bool bind_console) {
    if (console_socket_fd < 0) return fail("process.terminal is true but no console socket was given");
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return fail_sys("open /dev/ptmx");
    sys::UniqueFd master_fd(master);
    if (::unlockpt(master) < 0) return fail_sys("unlock pty");
    char name[64];
    if (::ptsname_r(master, name, sizeof name) != 0) return fail_sys("ptsname");
    if (process.console_size) {
        struct winsize ws{};
        ws.ws_row = static_cast<unsigned short>(process.console_size->height);
        ws.ws_col = static_cast<unsigned short>(process.console_size->width);
        ::ioctl(master, TIOCSWINSZ, &ws);
    }
    auto slave = TRY(sys::open(name, O_RDWR | O_NOCTTY));
    if (::fchown(slave.get(), process.user.uid, process.user.gid) < 0) return fail_sys("chown pty");
    TRY_CTX(sys::send_fd(console_socket_fd, master, "/dev/ptmx"), "console socket");
    master_fd.reset();
    if (bind_console) {
        int fd = ::open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
        TRY_CTX(sys::mount(name, "/dev/console", "", MS_BIND, ""), "bind pty to /dev/console");
    }
    ::setsid();
    if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return fail_sys("set controlling terminal");
    for (int target = 0; target <= 2; ++target)
        if (::dup2(slave.get(), target) < 0) return fail_sys("dup pty to stdio");
    return {};
}

// Resolves args[0] like execvp, so that create fails with the reason instead of start:
// ENOENT when nothing is there (podman: 127), EACCES when it is not executable (126).
Result<std::string> find_executable(const Process& process) {
    const std::string& name = process.args[0];
    bool found_unexecutable = false;
    auto usable = [&found_unexecutable](const std::string& path) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) return false;
        if (S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0) return true;
        found_unexecutable = true;
        return false;
    };
    std::vector<std::string> candidates;
    if (name.find('/') != std::string::npos) {
        candidates.push_back(name);
    } else {
        std::string path_var = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const auto& e : process.env)
            if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
        size_t start = 0;
        while (start <= path_var.size()) {
            size_t end = path_var.find(':', start);
            if (end == std::string::npos) end = path_var.size();
            candidates.push_back(path_var.substr(start, end - start) + "/" + name);
            start = end + 1;
        }
    }
    for (const auto& candidate : candidates)
        if (usable(candidate)) return candidate;
    if (found_unexecutable) return fail_errno(EACCES, "process.args[0]: exec '" + name + "'");
    return fail_errno(ENOENT, "process.args[0]: executable '" + name + "' not found in the container");
}

// Capabilities, groups, uid/gid, no_new_privs and (when it can wait) seccomp, in the order
// the kernel needs: the bounding set before setuid, keepcaps across it, the sets after.
Result<void> apply_identity(const Process& process, const seccomp::Program* filter, bool& seccomp_loaded) {
    if (filter && !process.no_new_privileges) {
        // Without no_new_privs the filter needs CAP_SYS_ADMIN, which may be dropped below.
        TRY(seccomp::load_program(*filter));
        seccomp_loaded = true;
    }
    if (process.capabilities) TRY_CTX(caps::drop_bounding(process.capabilities->bounding), "process.capabilities.bounding");
    TRY(sys::set_keep_caps(true));
    std::vector<gid_t> groups(process.user.additional_gids.begin(), process.user.additional_gids.end());
    TRY_CTX(sys::setgroups(groups), "process.user.additionalGids");
    TRY_CTX(sys::setresgid(process.user.gid), "process.user.gid");
    TRY_CTX(sys::setresuid(process.user.uid), "process.user.uid");
    TRY(sys::set_keep_caps(false));
    if (process.capabilities) TRY_CTX(caps::apply(*process.capabilities), "process.capabilities");
    if (process.no_new_privileges) TRY_CTX(sys::set_no_new_privs(), "process.noNewPrivileges");
    return {};
}

[[noreturn]] void exec_process(const Process& process, const std::string& executable, const seccomp::Program* filter,
                               bool seccomp_loaded) {
    if (filter && !seccomp_loaded) {
        if (auto loaded = seccomp::load_program(*filter); !loaded) {
            std::string m = "berth: load seccomp filter: " + loaded.error().describe() + "\n";
            (void)!::write(STDERR_FILENO, m.data(), m.size());
            ::_exit(127);
        }
    }
    std::vector<std::string> argv = process.args;
    std::vector<char*> args, env;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> envs = process.env;
    for (auto& v : envs) env.push_back(v.data());
    env.push_back(nullptr);
    ::execve(executable.c_str(), args.data(), env.data());
    std::string m = "berth: exec '" + process.args[0] + "': " + error_text(errno) + "\n";
    (void)!::write(STDERR_FILENO, m.data(), m.size());
    ::_exit(errno == ENOENT ? 127 : 126);
}

Result<void> wait_for_start(const InitContext& ctx) {
    if (ctx.state_dir_fd < 0) return expect_message(ctx.sync_fd, kStart);
    // Blocks until `berth start` opens the FIFO for reading.
    auto fifo = TRY(sys::openat(ctx.state_dir_fd, "exec.fifo", O_WRONLY));
    TRY(sys::write_all(fifo.get(), "0"));
    return {};
}

Result<void> init_steps(const InitContext& ctx, std::string& executable, bool& seccomp_loaded) {
    const ContainerSpec& spec = *ctx.spec;
    const Process& process = spec.process;
    // Into the cgroup before anything else, so its limits hold for all that follows. Done here
    // rather than by the parent: a migration waits on the kernel (an RCU grace period per v1
    // hierarchy), and berth-init need not wait with it.
    if (ctx.join_cgroup) TRY_CTX(ctx.join_cgroup->add_process(0), "join cgroup");
    std::string go = receive_message(ctx.sync_fd);
    if (go.rfind(kGo, 0) != 0) return fail("runtime went away before the container started");
    std::string state = go.substr(std::strlen(kGo));
    for (int target = 0; target <= 2; ++target)
        if (ctx.stdio[target] >= 0 && ::dup2(ctx.stdio[target], target) < 0) return fail_sys("set up stdio");
    close_inherited_fds(ctx.preserve_fds);

    TRY(join_namespaces_by_path(spec));
    // The other new namespaces are made here, after joining those given by path (runc's order),
    // rather than by the parent's clone(): their setup (a network namespace costs most) then runs
    // in each container's own process, in parallel, instead of serially in berth-init.
    if (ctx.unshare_flags) TRY_CTX(sys::unshare(ctx.unshare_flags), "create namespaces");
    if (spec.loopback_up && (ctx.unshare_flags & CLONE_NEWNET)) TRY(sys::bring_up_loopback());
    const Namespace* user = spec.find_namespace(NamespaceType::User);
    if (user && user->path.empty()) {
        TRY(sys::setresgid(0));
        TRY(sys::setresuid(0));
    }
    const Namespace* cgroup_ns = spec.find_namespace(NamespaceType::Cgroup);
    // Unshared only now, after the parent moved us into our cgroup, so that it is our root.
    if (cgroup_ns && cgroup_ns->path.empty()) TRY_CTX(sys::unshare(CLONE_NEWCGROUP), "new cgroup namespace");

    TRY(apply_rlimits_and_oom(process));
    if (spec.find_namespace(NamespaceType::Mount)) TRY(mounts::prepare_rootfs(spec));
    TRY(apply_sysctls(spec));
    if (ctx.run_runtime_hooks) {
        if (!send_message(ctx.sync_fd, kRunHooks)) return fail("runtime went away");
        TRY(expect_message(ctx.sync_fd, kHooksDone));
    }
    TRY(run_hooks(spec.hooks.create_container, state, "createContainer"));
    if (!spec.hostname.empty()) TRY_CTX(sys::sethostname(spec.hostname), "hostname");
    if (!spec.domainname.empty()) TRY_CTX(sys::setdomainname(spec.domainname), "domainname");
    TRY(mounts::enter_rootfs(spec));
    ::setsid();
    if (process.terminal) TRY_CTX(setup_terminal(process, ctx.console_socket_fd, true), "process.terminal");
    if (ctx.console_socket_fd >= 0) ::close(ctx.console_socket_fd);
    TRY(mounts::finish_rootfs(spec));
    if (process.user.umask) ::umask(*process.user.umask);
    TRY_CTX(sys::chdir(process.cwd), "process.cwd");
    executable = TRY(find_executable(process));
    TRY(apply_identity(process, ctx.seccomp, seccomp_loaded));
    // The working directory is checked again as the container user.
    TRY_CTX(sys::chdir(process.cwd), "process.cwd");
    if (!send_message(ctx.sync_fd, kCreated)) return fail("runtime went away");
    TRY(wait_for_start(ctx));
    TRY(run_hooks(spec.hooks.start_container, state, "startContainer"));
    return {};
}

[[noreturn]] void report_and_exit(int sync_fd, const Error& error) {
    send_message(sync_fd, std::string(kErrorPrefix) + error.describe());
    ::_exit(1);
}

}  // namespace

void container_init(const InitContext& ctx) {
    std::string executable;
    bool seccomp_loaded = false;
    reset_signals();
    auto done = init_steps(ctx, executable, seccomp_loaded);
    if (!done) report_and_exit(ctx.sync_fd, done.error());
    ::close(ctx.sync_fd);
    if (ctx.state_dir_fd >= 0) ::close(ctx.state_dir_fd);
    exec_process(ctx.spec->process, executable, ctx.seccomp, seccomp_loaded);
}

void exec_init(const ExecContext& ctx) {
    const Process& process = *ctx.process;
    bool seccomp_loaded = false;
    std::string executable;
    auto steps = [&]() -> Result<void> {
        TRY(expect_message(ctx.sync_fd, kGo));
        for (int target = 0; target <= 2; ++target)
            if (ctx.stdio[target] >= 0 && ::dup2(ctx.stdio[target], target) < 0) return fail_sys("set up stdio");
        close_inherited_fds(ctx.preserve_fds);
        TRY(apply_rlimits_and_oom(process));
        ::setsid();
        if (process.terminal) TRY_CTX(setup_terminal(process, ctx.console_socket_fd, false), "process.terminal");
        if (ctx.console_socket_fd >= 0) ::close(ctx.console_socket_fd);
        if (process.user.umask) ::umask(*process.user.umask);
        TRY_CTX(sys::chdir(process.cwd), "process.cwd");
        executable = TRY(find_executable(process));
        TRY(apply_identity(process, ctx.seccomp, seccomp_loaded));
        return {};
    };
    reset_signals();
    auto done = steps();
    if (!done) report_and_exit(ctx.sync_fd, done.error());
    // The sync socket is close-on-exec: the parent sees EOF once execve succeeded.
    exec_process(process, executable, ctx.seccomp, seccomp_loaded);
}

}  // namespace berth::runtime::detail
