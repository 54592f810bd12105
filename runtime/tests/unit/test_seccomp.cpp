// Seccomp: parsing, compile errors, and real filters loaded in forked children (no root:
// each child sets no_new_privs, loads the filter, makes a call and reports its errno).
#include <catch2/catch.hpp>
#include <filesystem>

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <optional>

#include "berth/runtime/seccomp.hpp"

using namespace berth::runtime;
namespace sc = berth::runtime::seccomp;

namespace {

constexpr int kRuleErrno = 77;  // an errno no real call below returns on its own

struct ChildOutcome {
    std::optional<int> reported;  // what the body returned, if the child got that far
    int signal = 0;               // the signal that killed the child, else 0
    int exit_code = 0;            // 100: the filter did not load
};

// Forks; the child loads `filter` (if any) under no_new_privs, runs `body` and pipes its result back.
ChildOutcome run_in_child(const sc::Filter* filter, const std::function<int()>& body) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        // Crashes end the child plainly (not in Catch's reporter), SIGSYS dumps no core,
        // and a hung child is killed instead of hanging the test run.
        for (int sig : {SIGSEGV, SIGABRT, SIGILL, SIGFPE, SIGBUS, SIGTERM, SIGINT}) signal(sig, SIG_DFL);
        const rlimit no_core{0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(20);
        if (filter && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !filter->load())) _exit(100);
        const int value = body();
        if (write(fds[1], &value, sizeof value) != sizeof value) _exit(101);
        _exit(0);  // not exit(): no atexit handlers (e.g. LeakSanitizer) under the filter
    }
    close(fds[1]);
    int value = 0;
    const ssize_t got = read(fds[0], &value, sizeof value);
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    ChildOutcome outcome;
    if (got == sizeof value) outcome.reported = value;
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
    else outcome.exit_code = WEXITSTATUS(status);
    return outcome;
}

// The errno a call left (0 if it succeeded), as seen inside a filtered child.
int errno_in_child(const sc::Filter& filter, const std::function<long()>& call) {
    const ChildOutcome outcome = run_in_child(&filter, [&] { return call() == -1 ? errno : 0; });
    REQUIRE(outcome.signal == 0);
    REQUIRE(outcome.exit_code == 0);
    REQUIRE(outcome.reported.has_value());
    return *outcome.reported;
}

sc::Filter compile_ok(const SeccompSpec& spec) {
    auto filter = sc::compile(spec);
    INFO((filter ? "" : filter.error().describe()));
    REQUIRE(filter);
    return std::move(*filter);
}

std::string compile_error(const SeccompSpec& spec) {
    auto filter = sc::compile(spec);
    REQUIRE_FALSE(filter);
    return filter.error().describe();
}

SeccompRule errno_rule(std::vector<std::string> names, std::vector<SeccompArg> args = {}) {
    return SeccompRule{std::move(names), SeccompAction::Errno, kRuleErrno, std::move(args)};
}

// getpriority(PRIO_PROCESS, who) with `who` above any pid_max: ESRCH unless a rule matches.
long getpriority_of(long which, long who) { return syscall(SYS_getpriority, which, who); }
constexpr long kNoSuchPid = 10'000'000;

long mount_nonexistent() { return mount(nullptr, "/nonexistent-berth", nullptr, 0, nullptr); }
long clone3_empty() { return syscall(SYS_clone3, nullptr, 0); }  // EINVAL when it reaches the kernel

// Creates a process in a new UTS namespace; reaps it if the filter let it through.
long clone_new_uts() {
    const long pid = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return pid;
}

const SeccompRule* find_rule(const SeccompSpec& spec, const std::string& name) {
    for (const auto& rule : spec.syscalls)
        if (std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) return &rule;
    return nullptr;
}

}  // namespace

TEST_CASE("seccomp action and operator names round-trip", "[seccomp]") {
    for (auto action : {SeccompAction::Kill, SeccompAction::KillProcess, SeccompAction::KillThread,
                        SeccompAction::Trap, SeccompAction::Errno, SeccompAction::Trace, SeccompAction::Allow,
                        SeccompAction::Log, SeccompAction::Notify}) {
        auto parsed = sc::parse_action(sc::action_name(action));
        REQUIRE(parsed);
        CHECK(*parsed == action);
    }
    for (auto op : {SeccompOperator::NotEqual, SeccompOperator::LessThan, SeccompOperator::LessEqual,
                    SeccompOperator::EqualTo, SeccompOperator::GreaterEqual, SeccompOperator::GreaterThan,
                    SeccompOperator::MaskedEqual}) {
        auto parsed = sc::parse_operator(sc::operator_name(op));
        REQUIRE(parsed);
        CHECK(*parsed == op);
    }
    CHECK(std::string(sc::action_name(SeccompAction::KillProcess)) == "SCMP_ACT_KILL_PROCESS");
    CHECK(std::string(sc::operator_name(SeccompOperator::MaskedEqual)) == "SCMP_CMP_MASKED_EQ");
}

TEST_CASE("seccomp rejects unknown names, naming the value", "[seccomp]") {
    CHECK(sc::parse_action("SCMP_ACT_FOO").error().message == "unknown seccomp action 'SCMP_ACT_FOO'");
    CHECK_FALSE(sc::parse_action("scmp_act_allow"));
    CHECK(sc::parse_operator("SCMP_CMP_XOR").error().message == "unknown seccomp operator 'SCMP_CMP_XOR'");

    for (const char* arch : {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                             "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                             "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                             "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
                             "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"}) {
        INFO(arch);
        CHECK(sc::check_architecture(arch));
    }
    CHECK(sc::check_architecture("SCMP_ARCH_Z80").error().message == "unknown seccomp architecture 'SCMP_ARCH_Z80'");
    CHECK_FALSE(sc::check_architecture("X86_64"));

    for (const char* flag : {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}) {
        INFO(flag);
        CHECK(sc::check_flag(flag));
    }
    CHECK(sc::check_flag("SECCOMP_FILTER_FLAG_FOO").error().message == "unknown seccomp flag 'SECCOMP_FILTER_FLAG_FOO'");
}

TEST_CASE("seccomp compile errors name the offending rule", "[seccomp]") {
    SeccompSpec spec;
    spec.syscalls = {errno_rule({"getcwd"}), SeccompRule{{"getpid"}, SeccompAction::Allow, 5, {}}};
    CHECK(compile_error(spec) == "syscalls[1]: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");

    spec.syscalls = {SeccompRule{{"getpid"}, SeccompAction::Notify, std::nullopt, {}}};
    CHECK(compile_error(spec) == "syscalls[0]: SCMP_ACT_NOTIFY needs a listenerPath, which berth does not support");

    spec.syscalls = {errno_rule({"getcwd"}), errno_rule({"getpid"}),
                     errno_rule({"read"}, {{.index = 6, .value = 1, .op = SeccompOperator::EqualTo}})};
    CHECK(compile_error(spec) == "syscalls[2]: argument index 6 is out of range (0-5)");

    spec.syscalls = {errno_rule({})};
    CHECK(compile_error(spec) == "syscalls[0]: names is empty");

    spec.syscalls = {SeccompRule{{"getpid"}, SeccompAction::Errno, 70000, {}}};
    CHECK(compile_error(spec) == "syscalls[0]: errnoRet 70000 is out of range (0-65535)");

    SeccompSpec bad_default;
    bad_default.default_errno_ret = 1;  // default action is Allow
    CHECK(compile_error(bad_default) ==
          "defaultAction: defaultErrnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    bad_default = {};
    bad_default.default_action = SeccompAction::Notify;
    CHECK(compile_error(bad_default) ==
          "defaultAction: SCMP_ACT_NOTIFY needs a listenerPath, which berth does not support");

    SeccompSpec bad_arch;
    bad_arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
    CHECK(compile_error(bad_arch) == "unknown seccomp architecture 'SCMP_ARCH_Z80'");
    SeccompSpec bad_flag;
    bad_flag.flags = {"SECCOMP_FILTER_FLAG_FOO"};
    CHECK(compile_error(bad_flag) == "unknown seccomp flag 'SECCOMP_FILTER_FLAG_FOO'");
}

TEST_CASE("seccomp compile skips unknown syscalls and rules that repeat the default", "[seccomp]") {
    SeccompSpec spec;
    spec.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
    spec.flags = {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    spec.syscalls = {errno_rule({"getcwd", "berth_no_such_syscall", "chown32"})};
    sc::Filter filter = compile_ok(spec);
    CHECK(filter.rule_count() == 2);  // chown32 is real on x86 even though not native
    CHECK(filter.skipped_names() == std::vector<std::string>{"berth_no_such_syscall"});

    SeccompSpec deny_by_default;
    deny_by_default.default_action = SeccompAction::Errno;  // EPERM
    deny_by_default.syscalls = {
        SeccompRule{{"getpid"}, SeccompAction::Errno, std::nullopt, {}},  // same as the default: skipped
        SeccompRule{{"getppid"}, SeccompAction::Errno, EPERM, {}},        // likewise
        SeccompRule{{"getcwd"}, SeccompAction::Errno, ENOSYS, {}},
        SeccompRule{{"write", "exit_group"}, SeccompAction::Allow, std::nullopt, {}},
    };
    CHECK(compile_ok(deny_by_default).rule_count() == 3);

    // Conditions on distinct arguments form one rule (AND); a repeated index one rule each (OR).
    SeccompSpec conditions;
    conditions.syscalls = {
        errno_rule({"getpriority"}, {{.index = 0, .value = PRIO_PROCESS}, {.index = 1, .value = kNoSuchPid}}),
        errno_rule({"setpriority"}, {{.index = 1, .value = kNoSuchPid}, {.index = 1, .value = kNoSuchPid + 1}}),
    };
    CHECK(compile_ok(conditions).rule_count() == 3);

    sc::Filter moved = std::move(filter);
    CHECK(moved.rule_count() == 2);
    CHECK(filter.rule_count() == 0);  // NOLINT(bugprone-use-after-move): moved-from stays safe
    CHECK_FALSE(filter.load());
}

TEST_CASE("seccomp errno rules return their errnoRet", "[seccomp]") {
    SeccompSpec spec;  // default Allow
    spec.syscalls = {SeccompRule{{"getcwd", "mkdirat", "mkdir"}, SeccompAction::Errno, ENOSYS, {}}};
    const sc::Filter filter = compile_ok(spec);
    char buffer[256];
    CHECK(errno_in_child(filter, [&] { return syscall(SYS_getcwd, buffer, sizeof buffer); }) == ENOSYS);
    CHECK(errno_in_child(filter, [] { return mkdir("/nonexistent-berth/x", 0700); }) == ENOSYS);
    CHECK(errno_in_child(filter, [] { return syscall(SYS_getppid); }) == 0);
    // Without the filter the same call succeeds.
    CHECK(run_in_child(nullptr, [&] { return syscall(SYS_getcwd, buffer, sizeof buffer) == -1 ? errno : 0; })
              .reported == 0);
}

TEST_CASE("seccomp argument conditions follow each operator", "[seccomp]") {
    struct Case {
        SeccompArg arg;
        long matching_who, other_who;
    };
    const Case cases[] = {
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::NotEqual}, kNoSuchPid + 1, kNoSuchPid},
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::LessThan}, kNoSuchPid - 1, kNoSuchPid},
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::LessEqual}, kNoSuchPid, kNoSuchPid + 1},
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::EqualTo}, kNoSuchPid, kNoSuchPid + 1},
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::GreaterEqual}, kNoSuchPid, kNoSuchPid - 1},
        {{.index = 1, .value = kNoSuchPid, .op = SeccompOperator::GreaterThan}, kNoSuchPid + 1, kNoSuchPid},
        // mask 0xff, datum 0x80: 10'000'000 is 0x989680.
        {{.index = 1, .value = 0xff, .value_two = 0x80, .op = SeccompOperator::MaskedEqual}, kNoSuchPid,
         kNoSuchPid + 1},
    };
    for (const Case& c : cases) {
        INFO(sc::operator_name(c.arg.op));
        SeccompSpec spec;
        spec.syscalls = {errno_rule({"getpriority"}, {c.arg})};
        const sc::Filter filter = compile_ok(spec);
        CHECK(errno_in_child(filter, [&] { return getpriority_of(PRIO_PROCESS, c.matching_who); }) == kRuleErrno);
        CHECK(errno_in_child(filter, [&] { return getpriority_of(PRIO_PROCESS, c.other_who); }) == ESRCH);
    }
}

TEST_CASE("seccomp conditions on distinct arguments AND, on one argument OR", "[seccomp]") {
    SECTION("distinct indexes: all must hold") {
        SeccompSpec spec;
        spec.syscalls = {errno_rule({"getpriority"}, {{.index = 0, .value = PRIO_PROCESS}, {.index = 1, .value = kNoSuchPid}})};
        const sc::Filter filter = compile_ok(spec);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PROCESS, kNoSuchPid); }) == kRuleErrno);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PGRP, kNoSuchPid); }) == ESRCH);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PROCESS, kNoSuchPid + 1); }) == ESRCH);
    }
    SECTION("repeated index: any may hold") {
        SeccompSpec spec;
        spec.syscalls = {errno_rule({"getpriority"}, {{.index = 1, .value = kNoSuchPid}, {.index = 1, .value = kNoSuchPid + 2}})};
        const sc::Filter filter = compile_ok(spec);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PROCESS, kNoSuchPid); }) == kRuleErrno);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PROCESS, kNoSuchPid + 2); }) == kRuleErrno);
        CHECK(errno_in_child(filter, [] { return getpriority_of(PRIO_PROCESS, kNoSuchPid + 1); }) == ESRCH);
    }
}

TEST_CASE("seccomp kill and trap actions end the process with SIGSYS", "[seccomp]") {
    for (auto action : {SeccompAction::Kill, SeccompAction::KillProcess, SeccompAction::Trap}) {
        INFO(sc::action_name(action));
        SeccompSpec spec;
        spec.syscalls = {SeccompRule{{"getppid"}, action, std::nullopt, {}}};
        const sc::Filter filter = compile_ok(spec);
        const ChildOutcome outcome = run_in_child(&filter, [] { return static_cast<int>(syscall(SYS_getppid)); });
        CHECK_FALSE(outcome.reported.has_value());
        CHECK(outcome.signal == SIGSYS);
    }
}

#if defined(__x86_64__)
TEST_CASE("seccomp rules apply to every listed architecture", "[seccomp]") {
    // getpid through the x32 ABI (the syscall number with bit 30 set). The filter sees the call
    // before the kernel decides whether it supports x32, so this works on any x86_64 kernel.
    constexpr long kX32SyscallBit = 0x40000000;
    const auto x32_getpid = [] { return syscall(kX32SyscallBit | SYS_getpid); };
    SeccompSpec spec;
    spec.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X32"};
    spec.syscalls = {errno_rule({"getpid"})};
    const sc::Filter both = compile_ok(spec);
    CHECK(errno_in_child(both, [] { return syscall(SYS_getpid); }) == kRuleErrno);
    CHECK(errno_in_child(both, x32_getpid) == kRuleErrno);

    // An architecture the filter does not list is killed outright.
    spec.architectures = {"SCMP_ARCH_X86_64"};
    const sc::Filter native_only = compile_ok(spec);
    CHECK(errno_in_child(native_only, [] { return syscall(SYS_getpid); }) == kRuleErrno);
    CHECK(run_in_child(&native_only, [&] { return static_cast<int>(x32_getpid()); }).signal == SIGSYS);
}
#endif

TEST_CASE("seccomp default profile shape follows the capabilities", "[seccomp]") {
    const SeccompSpec plain = sc::default_profile({});
    CHECK(plain.default_action == SeccompAction::Errno);
    CHECK(plain.default_errno_ret == EPERM);
#if defined(__x86_64__)
    CHECK(plain.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
#endif
    CHECK(find_rule(plain, "mount") == nullptr);
    CHECK(find_rule(plain, "reboot") == nullptr);
    const SeccompRule* clone3 = find_rule(plain, "clone3");
    REQUIRE(clone3);
    CHECK(clone3->action == SeccompAction::Errno);
    CHECK(clone3->errno_ret == ENOSYS);
    const SeccompRule* clone = find_rule(plain, "clone");
    REQUIRE(clone);
    REQUIRE(clone->args.size() == 1);
    CHECK(clone->args[0].op == SeccompOperator::MaskedEqual);
    CHECK(clone->args[0].value == 0x7E020000);  // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
    CHECK(clone->args[0].value_two == 0);

    const SeccompSpec admin = sc::default_profile({CAP_SYS_ADMIN, CAP_SYS_BOOT});
    for (const char* name : {"mount", "umount2", "unshare", "setns", "clone", "clone3", "reboot"}) {
        INFO(name);
        const SeccompRule* rule = find_rule(admin, name);
        REQUIRE(rule);
        CHECK(rule->action == SeccompAction::Allow);
        CHECK(rule->args.empty());
    }

    const sc::Filter filter = compile_ok(plain);
    INFO("skipped: " << filter.skipped_names().size());
    CHECK(filter.rule_count() > 350);
    // Every capability group together still compiles (overlapping groups repeat names).
    std::vector<int> all_capabilities;
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) all_capabilities.push_back(cap);
    compile_ok(sc::default_profile(all_capabilities));
}

TEST_CASE("seccomp default profile denies privileged calls and allows the basics", "[seccomp]") {
    const sc::Filter filter = compile_ok(sc::default_profile({}));

    CHECK(errno_in_child(filter, [] { return syscall(SYS_getpid); }) == 0);
    CHECK(errno_in_child(filter, [] { return socket(AF_UNIX, SOCK_STREAM, 0); }) == 0);
    CHECK(errno_in_child(filter, [] { return syscall(SYS_personality, 0xffffffffUL); }) == 0);
    // A plain fork is clone without namespace flags.
    CHECK(errno_in_child(filter, [] {
              const pid_t pid = fork();
              if (pid == 0) _exit(0);
              return pid < 0 ? -1L : static_cast<long>(waitpid(pid, nullptr, 0));
          }) == 0);
    // glibc starts threads with clone3 and falls back to clone on ENOSYS.
    CHECK(run_in_child(&filter, [] {
              pthread_t thread;
              if (int rc = pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr))
                  return rc;
              return pthread_join(thread, nullptr);
          }).reported == 0);

    CHECK(errno_in_child(filter, [] { return unshare(CLONE_NEWUSER); }) == EPERM);
    CHECK(errno_in_child(filter, mount_nonexistent) == EPERM);
    CHECK(errno_in_child(filter, [] { return umount2("/nonexistent-berth", 0); }) == EPERM);
    CHECK(errno_in_child(filter, clone_new_uts) == EPERM);
    CHECK(errno_in_child(filter, clone3_empty) == ENOSYS);
    CHECK(errno_in_child(filter, [] { return chroot("/nonexistent-berth"); }) == EPERM);
    CHECK(errno_in_child(filter, [] { return syscall(SYS_personality, 0x0040000UL); }) == EPERM);  // ADDR_NO_RANDOMIZE
    CHECK(errno_in_child(filter, [] { return socket(AF_VSOCK, SOCK_STREAM, 0); }) == EPERM);
    CHECK(errno_in_child(filter, [] { return syscall(SYS_setns, -1, 0); }) == EPERM);
}

TEST_CASE("seccomp default profile opens groups for granted capabilities", "[seccomp]") {
    const sc::Filter filter = compile_ok(sc::default_profile({CAP_SYS_ADMIN, CAP_SYS_CHROOT}));
    // The calls now reach the kernel, which fails them for their arguments instead.
    CHECK(errno_in_child(filter, mount_nonexistent) == ENOENT);
    CHECK(errno_in_child(filter, clone3_empty) == EINVAL);
    CHECK(errno_in_child(filter, [] { return syscall(SYS_setns, -1, 0); }) == EBADF);
    CHECK(errno_in_child(filter, [] { return chroot("/nonexistent-berth"); }) == ENOENT);
    // Without the capability the group stays closed.
    CHECK(errno_in_child(filter, [] { return syscall(SYS_delete_module, "berth_none", 0); }) == EPERM);
}

TEST_CASE("compiled programs are cached and load like the filter they came from", "[seccomp]") {
    char tmpl[] = "/tmp/berth-seccomp-cache-XXXXXX";
    const std::string cache = mkdtemp(tmpl);
    SeccompSpec spec;
    spec.default_action = SeccompAction::Allow;
    spec.syscalls = {SeccompRule{{"mkdir", "mkdirat"}, SeccompAction::Errno, ENOSYS, {}}};

    auto first = sc::compile_cached(spec, cache);
    REQUIRE(first);
    auto second = sc::compile_cached(spec, cache);
    REQUIRE(second);
    CHECK(second->bpf == first->bpf);
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(cache)) files += entry.path().extension() == ".bpf";
    CHECK(files == 1);
    // A different spec gets its own program.
    spec.syscalls[0].errno_ret = EACCES;
    auto other = sc::compile_cached(spec, cache);
    REQUIRE(other);
    CHECK(other->bpf != first->bpf);

    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !sc::load_program(*second)) _exit(100);
        int value = mkdir("/nonexistent-berth/x", 0700) == -1 ? errno : 0;
        (void)!write(fds[1], &value, sizeof value);
        _exit(0);
    }
    close(fds[1]);
    int value = -1;
    REQUIRE(read(fds[0], &value, sizeof value) == sizeof value);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(value == ENOSYS);
    std::filesystem::remove_all(cache);
}
