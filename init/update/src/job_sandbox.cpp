#include "berth/update/job_sandbox.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <optional>

#include "berth/log.hpp"
#include "berth/paths.hpp"
#include "berth/runtime/capabilities.hpp"
#include "berth/sys.hpp"
#include "berth/update/esp_access.hpp"

namespace berth::update {

Result<JobSandbox> plan_job_sandbox(const JobNeeds& needs) {
    bool apply = needs.action == "apply", rollback = needs.action == "rollback";
    if (!apply && !rollback && needs.action != "status") return fail("no sandbox for the action '" + needs.action + "'");
    bool writes = apply || rollback;
    const HostPaths& paths = needs.paths;
    using Missing = SandboxBind::Missing;
    JobSandbox sandbox;
    auto add = [&](const std::string& path, bool writable, bool device, Missing missing) -> Result<void> {
        if (path.empty() || path.front() != '/') return fail("the update job's paths must be absolute: '" + path + "'");
        auto same = std::find_if(sandbox.binds.begin(), sandbox.binds.end(), [&](const SandboxBind& b) { return b.path == path; });
        if (same != sandbox.binds.end()) {
            same->writable = same->writable || writable;
            return {};
        }
        sandbox.binds.push_back({path, writable, device, missing});
        return {};
    };
    TRY(add("/dev/null", true, true, Missing::Skip));
    TRY(add(paths.os_release, false, false, Missing::Skip));
    TRY(add(paths.compatible, false, false, Missing::Skip));
    TRY(add(paths.boot_slot, false, false, Missing::Skip));
    // The records: created if missing, as the first update's record would have created them.
    TRY(add(paths.state_dir, writes, false, writes ? Missing::CreateDirectory : Missing::Skip));
    if (apply) TRY(add(paths.keys_dir, false, false, Missing::Skip));
    // The one partition it writes; the booted slot's and every other device stay outside.
    if (apply && !needs.target_device.empty()) TRY(add(needs.target_device, true, true, Missing::Skip));
    switch (needs.esp) {
    case EspView::Mounted:
        // Read-only as bound: the holder remounts it read-write for the job, and read-only again.
        TRY(add(paths.esp, false, false, Missing::Skip));
        if (writes) {
            sandbox.esp_to_hold = paths.esp;
            TRY(add(paths::kEspLock, true, false, Missing::CreateFile));  // shared with the boot blessing
            sandbox.holder_caps = {CAP_SYS_ADMIN};
        }
        break;
    case EspView::Directory: TRY(add(paths.esp, writes, false, Missing::Skip)); break;
    case EspView::NotMounted: break;  // absent inside too: the job says it is not mounted yet
    }
    std::sort(sandbox.binds.begin(), sandbox.binds.end(), [](const SandboxBind& a, const SandboxBind& b) { return a.path < b.path; });
    return sandbox;
}

namespace {

// Any existing directory: the sandbox's tmpfs is mounted there, then pivot_root makes it the root.
// Whatever it hid is back in place under the old root, where the binds are taken from.
constexpr const char* kStaging = "/tmp";
constexpr const char* kOldRoot = "/.host";

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

Result<void> create_file(const std::string& path) {
    TRY(sys::mkdir_p(parent_of(path)));
    TRY(sys::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    return {};
}

Result<void> bind(const SandboxBind& b) {
    std::string source = kOldRoot + b.path;
    struct stat st;
    if (::stat(source.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail_sys("stat " + b.path);
        if (b.missing == SandboxBind::Missing::Skip) return {};
        TRY(b.missing == SandboxBind::Missing::CreateDirectory ? sys::mkdir_p(source) : create_file(source));
        if (::stat(source.c_str(), &st) != 0) return fail_sys("stat " + b.path);
    }
    TRY(S_ISDIR(st.st_mode) ? sys::mkdir_p(b.path) : create_file(b.path));
    TRY(sys::mount(source, b.path, "", MS_BIND, ""));
    // A bind takes its source's flags; these are its own (a device node is the only thing kept dev).
    unsigned long flags = MS_NOSUID | MS_NOEXEC | (b.device ? 0 : MS_NODEV) | (b.writable ? 0 : MS_RDONLY);
    TRY(sys::mount("", b.path, "", MS_REMOUNT | MS_BIND | flags, ""));
    return {};
}

Result<void> enter_root(const JobSandbox& sandbox) {
    TRY(sys::unshare(CLONE_NEWNS));
    // Private: nothing mounted here reaches the host, nor the other way (pivot_root needs it too).
    TRY(sys::mount("", "/", "", MS_REC | MS_PRIVATE, ""));
    TRY(sys::mount("tmpfs", kStaging, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k"));
    TRY(sys::mkdir_p(std::string(kStaging) + kOldRoot));
    TRY(sys::pivot_root(kStaging, std::string(kStaging) + kOldRoot));
    TRY(sys::chdir("/"));
    for (const auto& b : sandbox.binds) TRY_CTX(bind(b), "bind " + b.path);
    // Its own /proc (/proc/meminfo, /proc/self), where other processes are hidden: hidepid=2 shows
    // only those it may ptrace, and read-only, so no sysctl is written.
    TRY(sys::mkdir_p("/proc"));
    TRY(sys::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "hidepid=2"));
    TRY(sys::umount2(kOldRoot, MNT_DETACH));
    TRY(sys::rmdir(kOldRoot));
    return sys::mount("", "/", "", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
}

// The bounding set too, so that nothing regains a capability (with no_new_privs, not even root's execve).
Result<void> keep_only(const std::vector<int>& caps) {
    TRY(runtime::caps::drop_bounding(caps));
    return runtime::caps::apply({.bounding = caps, .effective = caps, .inheritable = {}, .permitted = caps, .ambient = {}});
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

// The worker: reports its confinement to the holder ("ok" or "!why"), waits for the holder's own,
// then runs the job. noexcept: an exception ends the worker (SIGABRT) instead of unwinding into
// the holder's frames, which this process copied.
[[noreturn]] void run_worker(const JobSandbox& sandbox, pid_t holder, sys::UniqueFd channel, const std::function<int()>& job) noexcept {
    // The holder's end is a SIGKILL, never an orphaned job.
    auto confined = sys::set_parent_death_signal(SIGKILL);
    if (::getppid() != holder) ::_exit(1);
    if (confined) confined = keep_only(sandbox.worker_caps);
    if (confined) confined = sys::set_no_new_privs();
    std::string report = confined ? "ok" : "!" + confined.error().describe();
    char go = 0;
    if (::send(channel.get(), report.data(), report.size(), MSG_NOSIGNAL) < 0 || !confined) ::_exit(1);
    if (::recv(channel.get(), &go, 1, 0) != 1) ::_exit(1);
    channel.reset();
    int code = job();
    std::fflush(nullptr);
    ::_exit(code);
}

// A worker killed by a signal: the holder ends the same way (without a core of its own).
int end_like(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    int signal = WTERMSIG(status);
    (void)sys::setrlimit(RLIMIT_CORE, 0, 0);
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return 128 + signal;
}

}  // namespace

Result<int> run_in_sandbox(const JobSandbox& sandbox, const std::function<int()>& job) {
    TRY_CTX(enter_root(sandbox), "the update job's sandbox");
    std::optional<EspWriteAccess> esp;
    if (!sandbox.esp_to_hold.empty()) esp.emplace(TRY(EspWriteAccess::acquire(sandbox.esp_to_hold, true)));
    std::fflush(nullptr);
    auto [holder_end, worker_end] = TRY(sys::socket_pair());
    pid_t holder = ::getpid();
    pid_t worker = TRY(sys::clone_process(0));
    if (worker == 0) {
        holder_end.reset();
        run_worker(sandbox, holder, std::move(worker_end), job);
    }
    worker_end.reset();
    auto stop_worker = [&](Error error) -> Result<int> {
        (void)sys::kill(worker, SIGKILL);
        wait_for(worker);
        return fail(std::move(error));
    };
    char report[1024];
    ssize_t n = ::recv(holder_end.get(), report, sizeof report, 0);
    if (n < 2 || std::string_view(report, 2) != "ok")
        return stop_worker(n > 1 ? Error{0, std::string(report + 1, static_cast<size_t>(n - 1))}
                                 : Error{0, "the update job's worker ended before it dropped its privileges"});
    auto confined = keep_only(sandbox.holder_caps);
    if (confined) confined = sys::set_no_new_privs();
    if (!confined) return stop_worker(confined.error());
    if (::send(holder_end.get(), "g", 1, MSG_NOSIGNAL) != 1) return stop_worker(Error{errno, "start the update job's worker"});
    int status = wait_for(worker);
    if (esp) {
        if (auto back = esp->release(); !back) log::error("update job: " + back.error().describe());
    }
    return end_like(status);
}

}  // namespace berth::update
