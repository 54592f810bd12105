#include "berth/runtime/seccomp.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/sys.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace berth::runtime::seccomp {
namespace {

constexpr std::pair<SeccompAction, const char*> kActionNames[] = {
    {SeccompAction::Kill, "SCMP_ACT_KILL"},
    {SeccompAction::KillProcess, "SCMP_ACT_KILL_PROCESS"},
    {SeccompAction::KillThread, "SCMP_ACT_KILL_THREAD"},
    {SeccompAction::Trap, "SCMP_ACT_TRAP"},
    {SeccompAction::Errno, "SCMP_ACT_ERRNO"},
    {SeccompAction::Trace, "SCMP_ACT_TRACE"},
    {SeccompAction::Allow, "SCMP_ACT_ALLOW"},
    {SeccompAction::Log, "SCMP_ACT_LOG"},
    {SeccompAction::Notify, "SCMP_ACT_NOTIFY"},
};

constexpr std::pair<SeccompOperator, const char*> kOperatorNames[] = {
    {SeccompOperator::NotEqual, "SCMP_CMP_NE"},
    {SeccompOperator::LessThan, "SCMP_CMP_LT"},
    {SeccompOperator::LessEqual, "SCMP_CMP_LE"},
    {SeccompOperator::EqualTo, "SCMP_CMP_EQ"},
    {SeccompOperator::GreaterEqual, "SCMP_CMP_GE"},
    {SeccompOperator::GreaterThan, "SCMP_CMP_GT"},
    {SeccompOperator::MaskedEqual, "SCMP_CMP_MASKED_EQ"},
};

// The OCI flags and the libseccomp attribute each one sets. WAIT_KILLABLE_RECV only
// changes how a notify listener is woken; berth has no listeners, so it sets nothing.
struct FlagAttribute {
    const char* name;
    std::optional<scmp_filter_attr> attribute;
};
constexpr FlagAttribute kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", std::nullopt},
};

constexpr unsigned kMaxSyscallArgs = 6;

std::string quoted(std::string_view value) { return "'" + std::string(value) + "'"; }

const FlagAttribute* find_flag(std::string_view name) {
    for (const auto& flag : kFlags)
        if (name == flag.name) return &flag;
    return nullptr;
}

// "SCMP_ARCH_X86_64" → libseccomp's token for "x86_64".
Result<uint32_t> resolve_architecture(std::string_view name) {
    constexpr std::string_view prefix = "SCMP_ARCH_";
    if (name.starts_with(prefix)) {
        std::string lowered(name.substr(prefix.size()));
        for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (uint32_t token = seccomp_arch_resolve_name(lowered.c_str()); token != 0) return token;
    }
    return fail("unknown seccomp architecture " + seccomp::quoted(name));
}

// The libseccomp action word; errno_field names the errno setting in messages.
Result<uint32_t> to_scmp_action(SeccompAction action, std::optional<uint32_t> errno_ret,
                                const char* errno_field) {
    if (errno_ret && action != SeccompAction::Errno && action != SeccompAction::Trace)
        return fail(std::string(errno_field) + " is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    if (errno_ret && *errno_ret > 0xffff)
        return fail(std::string(errno_field) + " " + std::to_string(*errno_ret) + " is out of range (0-65535)");
    const uint32_t errnum = errno_ret.value_or(EPERM);  // runc's default for both
    switch (action) {
        case SeccompAction::Kill:
        case SeccompAction::KillThread: return SCMP_ACT_KILL_THREAD;
        case SeccompAction::KillProcess: return SCMP_ACT_KILL_PROCESS;
        case SeccompAction::Trap: return SCMP_ACT_TRAP;
        case SeccompAction::Errno: return SCMP_ACT_ERRNO(errnum);
        case SeccompAction::Trace: return SCMP_ACT_TRACE(errnum);
        case SeccompAction::Allow: return SCMP_ACT_ALLOW;
        case SeccompAction::Log: return SCMP_ACT_LOG;
        case SeccompAction::Notify:
            return fail("SCMP_ACT_NOTIFY needs a listenerPath, which berth does not support");
    }
    return fail("invalid seccomp action " + std::to_string(static_cast<int>(action)));
}

scmp_compare to_scmp_compare(SeccompOperator op) {
    switch (op) {
        case SeccompOperator::NotEqual: return SCMP_CMP_NE;
        case SeccompOperator::LessThan: return SCMP_CMP_LT;
        case SeccompOperator::LessEqual: return SCMP_CMP_LE;
        case SeccompOperator::EqualTo: return SCMP_CMP_EQ;
        case SeccompOperator::GreaterEqual: return SCMP_CMP_GE;
        case SeccompOperator::GreaterThan: return SCMP_CMP_GT;
        case SeccompOperator::MaskedEqual: return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;  // unreachable: every enumerator is handled above
}

// OCI semantics (as runc): conditions on distinct arguments all must hold (one rule);
// libseccomp rejects two conditions on one argument, so then each is a rule of its own (OR).
Result<std::vector<std::vector<scmp_arg_cmp>>> condition_sets(const std::vector<SeccompArg>& args) {
    std::vector<scmp_arg_cmp> conditions;
    std::set<unsigned> indexes;
    for (const auto& arg : args) {
        if (arg.index >= kMaxSyscallArgs)
            return fail("argument index " + std::to_string(arg.index) + " is out of range (0-5)");
        // MaskedEqual: value is the mask, value_two the datum; libseccomp takes them in that order.
        conditions.push_back({arg.index, to_scmp_compare(arg.op), arg.value, arg.value_two});
        indexes.insert(arg.index);
    }
    if (indexes.size() == conditions.size()) return std::vector<std::vector<scmp_arg_cmp>>{conditions};
    std::vector<std::vector<scmp_arg_cmp>> one_each;
    for (const auto& condition : conditions) one_each.push_back({condition});
    return one_each;
}

}  // namespace

struct Filter::Impl {
    scmp_filter_ctx context = nullptr;
    size_t rule_count = 0;
    std::vector<std::string> skipped_names;

    ~Impl() {
        if (context) seccomp_release(context);
    }
};

Filter::Filter() : impl_(std::make_unique<Impl>()) {}
Filter::~Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;

Result<void> Filter::load() const {
    if (!impl_ || !impl_->context) return fail("load seccomp filter: no compiled filter");
    if (int rc = seccomp_load(impl_->context); rc < 0) return fail_errno(-rc, "load seccomp filter");
    return {};
}

size_t Filter::rule_count() const { return impl_ ? impl_->rule_count : 0; }

const std::vector<std::string>& Filter::skipped_names() const {
    static const std::vector<std::string> none;
    return impl_ ? impl_->skipped_names : none;
}

Result<SeccompAction> parse_action(std::string_view name) {
    for (const auto& [action, action_text] : kActionNames)
        if (name == action_text) return action;
    return fail("unknown seccomp action " + seccomp::quoted(name));
}

Result<SeccompOperator> parse_operator(std::string_view name) {
    for (const auto& [op, op_text] : kOperatorNames)
        if (name == op_text) return op;
    return fail("unknown seccomp operator " + seccomp::quoted(name));
}

const char* action_name(SeccompAction action) {
    for (const auto& [candidate, text] : kActionNames)
        if (candidate == action) return text;
    return "unknown";
}

const char* operator_name(SeccompOperator op) {
    for (const auto& [candidate, text] : kOperatorNames)
        if (candidate == op) return text;
    return "unknown";
}

Result<void> check_architecture(std::string_view name) {
    TRY(resolve_architecture(name));
    return {};
}

Result<void> check_flag(std::string_view name) {
    if (!find_flag(name)) return fail("unknown seccomp flag " + seccomp::quoted(name));
    return {};
}

Result<Filter> compile(const SeccompSpec& spec) {
    const uint32_t default_action =
        TRY_CTX(to_scmp_action(spec.default_action, spec.default_errno_ret, "defaultErrnoRet"), "defaultAction");

    Filter filter;
    Filter::Impl& impl = *filter.impl_;
    impl.context = seccomp_init(default_action);
    if (!impl.context) return fail("seccomp_init failed");

    // no_new_privs is the container's own choice (process.noNewPrivileges), not a side effect
    // of loading the filter; raw return codes make load failures carry the kernel's errno.
    struct Setting {
        scmp_filter_attr attribute;
        uint32_t value;
        std::string name;
    };
    // A binary tree of syscall numbers instead of one comparison per allowed syscall: an allow
    // list of ~350 syscalls is ~1000 instructions linear, and every container's load has the
    // kernel convert and JIT all of it; a syscall also passes fewer comparisons.
    std::vector<Setting> settings = {{SCMP_FLTATR_CTL_NNP, 0, "no_new_privs"},
                                     {SCMP_FLTATR_API_SYSRAWRC, 1, "raw return codes"},
                                     {SCMP_FLTATR_CTL_OPTIMIZE, 2, "binary tree optimization"}};
    for (const auto& name : spec.flags) {
        const FlagAttribute* flag = find_flag(name);
        if (!flag) return fail("unknown seccomp flag " + seccomp::quoted(name));
        if (flag->attribute) settings.push_back({*flag->attribute, 1, name});
    }
    for (const auto& setting : settings)
        if (int rc = seccomp_attr_set(impl.context, setting.attribute, setting.value); rc < 0)
            return fail_errno(-rc, "set seccomp attribute " + setting.name);

    for (const auto& name : spec.architectures) {
        const uint32_t token = TRY(resolve_architecture(name));
        // The native architecture is always present already.
        if (int rc = seccomp_arch_add(impl.context, token); rc < 0 && rc != -EEXIST)
            return fail_errno(-rc, "add seccomp architecture " + seccomp::quoted(name));
    }

    for (size_t i = 0; i < spec.syscalls.size(); ++i) {
        const SeccompRule& rule = spec.syscalls[i];
        const std::string where = "syscalls[" + std::to_string(i) + "]";
        const uint32_t action = TRY_CTX(to_scmp_action(rule.action, rule.errno_ret, "errnoRet"), where);
        const auto conditions = TRY_CTX(condition_sets(rule.args), where);
        if (rule.names.empty()) return fail(where + ": names is empty");
        for (const auto& name : rule.names)
            if (name.empty()) return fail(where + ": empty syscall name");
        // libseccomp refuses rules that repeat the default action; they change nothing.
        if (action == default_action) continue;

        for (const auto& name : rule.names) {
            const int syscall_nr = seccomp_syscall_resolve_name(name.c_str());
            if (syscall_nr == __NR_SCMP_ERROR) {  // newer than this libseccomp: skip, as runc does
                auto& skipped = impl.skipped_names;
                if (std::find(skipped.begin(), skipped.end(), name) == skipped.end()) skipped.push_back(name);
                continue;
            }
            for (const auto& set : conditions) {
                // Not the _exact variant: the rule is translated for every architecture in the filter.
                if (int rc = seccomp_rule_add_array(impl.context, action, syscall_nr,
                                                    static_cast<unsigned>(set.size()), set.data());
                    rc < 0)
                    return fail_errno(-rc, where + ": add rule for " + seccomp::quoted(name));
                ++impl.rule_count;
            }
        }
    }
    return filter;
}

}  // namespace berth::runtime::seccomp

namespace berth::runtime::seccomp {
namespace {

unsigned kernel_flags(const SeccompSpec& spec) {
    unsigned flags = 0;
    for (const auto& name : spec.flags) {
        if (name == "SECCOMP_FILTER_FLAG_TSYNC") flags |= SECCOMP_FILTER_FLAG_TSYNC;
        if (name == "SECCOMP_FILTER_FLAG_LOG") flags |= SECCOMP_FILTER_FLAG_LOG;
        if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    }
    return flags;
}

// Everything that changes the compiled program, in a stable text form.
std::string cache_key_text(const SeccompSpec& spec) {
    const scmp_version* version = seccomp_version();
    std::string text = "libseccomp " + std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
                       std::to_string(version->micro) + " arch " + std::to_string(seccomp_arch_native()) +
                       "\ndefault " + action_name(spec.default_action) + " " +
                       std::to_string(spec.default_errno_ret.value_or(0xffffffff)) + "\nbinary tree\n";
    for (const auto& a : spec.architectures) text += "arch " + a + "\n";
    for (const auto& f : spec.flags) text += "flag " + f + "\n";
    for (const auto& r : spec.syscalls) {
        text += "rule " + std::string(action_name(r.action)) + " " + std::to_string(r.errno_ret.value_or(0xffffffff));
        for (const auto& n : r.names) text += " " + n;
        for (const auto& a : r.args)
            text += " [" + std::to_string(a.index) + " " + operator_name(a.op) + " " + std::to_string(a.value) + " " +
                    std::to_string(a.value_two) + "]";
        text += "\n";
    }
    return text;
}

std::string fnv1a_hex(const std::string& text) {
    uint64_t hash = 1469598103934665603ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

}  // namespace

Result<Program> export_program(const Filter& filter, const SeccompSpec& spec) {
    if (!filter.impl_ || !filter.impl_->context) return fail("export seccomp filter: no compiled filter");
    int fd = static_cast<int>(::syscall(SYS_memfd_create, "berth-seccomp", MFD_CLOEXEC));
    if (fd < 0) return fail_sys("export seccomp filter: memfd");
    sys::UniqueFd memfd(fd);
    if (int rc = seccomp_export_bpf(filter.impl_->context, fd); rc < 0) return fail_errno(-rc, "export seccomp filter");
    if (::lseek(fd, 0, SEEK_SET) < 0) return fail_sys("export seccomp filter: seek");
    Program program;
    program.bpf = TRY(sys::read_all(fd));
    program.flags = kernel_flags(spec);
    if (program.bpf.empty() || program.bpf.size() % sizeof(struct sock_filter) != 0)
        return fail("export seccomp filter: bad program size " + std::to_string(program.bpf.size()));
    return program;
}

Result<void> load_program(const Program& program) {
    struct sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.bpf.size() / sizeof(struct sock_filter));
    prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(program.bpf.data()));
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog) < 0)
        return fail_sys("load seccomp filter");
    return {};
}

Result<Program> compile_cached(const SeccompSpec& spec, const std::string& cache_dir) {
    std::string path;
    if (!cache_dir.empty()) {
        path = cache_dir + "/" + fnv1a_hex(cache_key_text(spec)) + ".bpf";
        if (auto cached = sys::read_file(path); cached && !cached->empty() && cached->size() % sizeof(struct sock_filter) == 0)
            return Program{*cached, kernel_flags(spec)};
    }
    Filter filter = TRY(compile(spec));
    Program program = TRY(export_program(filter, spec));
    if (!path.empty() && sys::mkdir_p(cache_dir, 0700)) {
        // Write then rename: a concurrent reader sees the old state or the whole program.
        std::string tmp = path + ".tmp." + std::to_string(::getpid());
        if (sys::write_file(tmp, program.bpf, 0, 0600)) ::rename(tmp.c_str(), path.c_str());
        ::unlink(tmp.c_str());
    }
    return program;
}

}  // namespace berth::runtime::seccomp
