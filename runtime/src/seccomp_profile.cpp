// Berth's default seccomp profile: the same policy as Docker's (moby) default profile,
// written as plain tables. Anything not listed fails with EPERM.
#include "berth/runtime/seccomp.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <span>

namespace berth::runtime::seccomp {
namespace {

// Calls that are safe for any container, whatever its capabilities.
constexpr const char* kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
    "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
    "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
    "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
    "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
    "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
    "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
    "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
    "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
    "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
    "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    // Docker allows these on kernels >= 4.8, where ptrace can no longer be used to escape seccomp;
    // every kernel Berth runs on is newer.
    "process_vm_readv", "process_vm_writev", "ptrace",
};

// Docker's architecture map and per-architecture extras for the host it runs on.
#if defined(__x86_64__)
constexpr const char* kArchitectures[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
constexpr const char* kArchitectureSpecific[] = {"arch_prctl", "modify_ldt"};
#elif defined(__aarch64__)
constexpr const char* kArchitectures[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
constexpr const char* kArchitectureSpecific[] = {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                                 "breakpoint", "cacheflush", "set_tls"};
#else
#error "default seccomp profile: add this architecture's entries (see Docker's archMap)"
#endif

// personality(2) values a container may set: the defaults, 32-bit, uname-2.6, and the query.
constexpr uint64_t kPersonalities[] = {PER_LINUX, PER_LINUX32, UNAME26, uint64_t{UNAME26} | PER_LINUX32,
                                       0xffffffff};

// Calls allowed only with a capability, which the kernel checks as well; the filter keeps
// the kernel surface small when the capability is absent.
constexpr const char* kDacReadSearch[] = {"open_by_handle_at"};
constexpr const char* kSysAdmin[] = {
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
    "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
    "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare",
};
constexpr const char* kSysBoot[] = {"reboot"};
constexpr const char* kSysChroot[] = {"chroot"};
constexpr const char* kSysModule[] = {"delete_module", "init_module", "finit_module"};
constexpr const char* kSysPacct[] = {"acct"};
constexpr const char* kSysPtrace[] = {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                                      "process_vm_writev", "ptrace"};
constexpr const char* kSysRawio[] = {"iopl", "ioperm"};
constexpr const char* kSysTime[] = {"settimeofday", "stime", "clock_settime", "clock_settime64"};
constexpr const char* kSysTtyConfig[] = {"vhangup"};
constexpr const char* kSysNice[] = {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"};
constexpr const char* kSyslog[] = {"syslog"};
constexpr const char* kBpf[] = {"bpf"};
constexpr const char* kPerfmon[] = {"perf_event_open"};

struct CapabilityGroup {
    int capability;
    std::span<const char* const> names;
};
constexpr CapabilityGroup kCapabilityGroups[] = {
    {CAP_DAC_READ_SEARCH, kDacReadSearch}, {CAP_SYS_ADMIN, kSysAdmin},   {CAP_SYS_BOOT, kSysBoot},
    {CAP_SYS_CHROOT, kSysChroot},          {CAP_SYS_MODULE, kSysModule}, {CAP_SYS_PACCT, kSysPacct},
    {CAP_SYS_PTRACE, kSysPtrace},          {CAP_SYS_RAWIO, kSysRawio},   {CAP_SYS_TIME, kSysTime},
    {CAP_SYS_TTY_CONFIG, kSysTtyConfig},   {CAP_SYS_NICE, kSysNice},     {CAP_SYSLOG, kSyslog},
    {CAP_BPF, kBpf},                       {CAP_PERFMON, kPerfmon},
};

// clone(2) flags that create namespaces; without CAP_SYS_ADMIN clone must not pass any.
constexpr uint64_t kNamespaceCloneFlags =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

std::vector<std::string> names_of(std::span<const char* const> table) { return {table.begin(), table.end()}; }

SeccompRule allow(std::vector<std::string> names, std::vector<SeccompArg> args = {}) {
    return SeccompRule{std::move(names), SeccompAction::Allow, std::nullopt, std::move(args)};
}

}  // namespace

SeccompSpec default_profile(const std::vector<int>& capabilities) {
    auto has = [&](int capability) {
        return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
    };

    SeccompSpec spec;
    spec.default_action = SeccompAction::Errno;
    spec.default_errno_ret = EPERM;
    spec.architectures = names_of(kArchitectures);

    spec.syscalls.push_back(allow(names_of(kAllowed)));
    spec.syscalls.push_back(allow(names_of(kArchitectureSpecific)));
    for (uint64_t persona : kPersonalities)
        spec.syscalls.push_back(allow({"personality"}, {{.index = 0, .value = persona, .op = SeccompOperator::EqualTo}}));
    // Any socket family but AF_VSOCK, which reaches the host past the network namespace.
    spec.syscalls.push_back(allow({"socket"}, {{.index = 0, .value = AF_VSOCK, .op = SeccompOperator::NotEqual}}));

    for (const auto& group : kCapabilityGroups)
        if (has(group.capability)) spec.syscalls.push_back(allow(names_of(group.names)));

    if (!has(CAP_SYS_ADMIN)) {
        // MaskedEqual: value is the mask, value_two (0) the required result.
        spec.syscalls.push_back(
            allow({"clone"}, {{.index = 0, .value = kNamespaceCloneFlags, .op = SeccompOperator::MaskedEqual}}));
        // clone3 passes its flags in memory, out of the filter's reach; ENOSYS makes glibc fall back to clone.
        spec.syscalls.push_back(SeccompRule{{"clone3"}, SeccompAction::Errno, ENOSYS, {}});
    }
    return spec;
}

}  // namespace berth::runtime::seccomp
