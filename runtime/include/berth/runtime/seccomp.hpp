// Seccomp: compiling the config's rules into a filter (libseccomp), and the
// default allowlist Berth gives every container (behaves like Docker's default).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime::seccomp {

// "SCMP_ACT_ERRNO" → SeccompAction::Errno; error names the unknown value.
Result<SeccompAction> parse_action(std::string_view name);
Result<SeccompOperator> parse_operator(std::string_view name);
const char* action_name(SeccompAction action);
const char* operator_name(SeccompOperator op);
// Validates architecture and flag names ("SCMP_ARCH_X86_64", "SECCOMP_FILTER_FLAG_LOG").
Result<void> check_architecture(std::string_view name);
Result<void> check_flag(std::string_view name);

// A compiled filter as raw BPF plus the seccomp(2) flags it needs: cheap to cache, to
// hand to a child process, and to load (no libseccomp work on the container's start path).
struct Program {
    std::string bpf;     // struct sock_filter instructions, as bytes
    unsigned flags = 0;  // SECCOMP_FILTER_FLAG_*
};

// A compiled filter, not yet loaded.
class Filter {
public:
    Filter();
    ~Filter();
    Filter(Filter&&) noexcept;
    Filter& operator=(Filter&&) noexcept;

    // Installs the filter on the calling thread; needs no_new_privs or CAP_SYS_ADMIN.
    Result<void> load() const;
    // Number of syscall rules added (unknown syscall names are skipped, as runc does).
    size_t rule_count() const;
    // Syscall names in the config that this kernel/libseccomp does not know.
    const std::vector<std::string>& skipped_names() const;

    struct Impl;
private:
    std::unique_ptr<Impl> impl_;
    friend Result<Filter> compile(const SeccompSpec& spec);
    friend Result<Program> export_program(const Filter& filter, const SeccompSpec& spec);
};

Result<Program> export_program(const Filter& filter, const SeccompSpec& spec);
// Installs the program on the calling thread; needs no_new_privs or CAP_SYS_ADMIN.
Result<void> load_program(const Program& program);
// compile() + export_program(), through a cache of programs in `cache_dir` keyed by the
// spec, the libseccomp version and the architecture (compiling the default profile takes
// ~15 ms; loading a cached one, microseconds). An empty cache_dir disables the cache.
Result<Program> compile_cached(const SeccompSpec& spec, const std::string& cache_dir);

// Errors name the rule: "syscalls[3]: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE".
Result<Filter> compile(const SeccompSpec& spec);

// The default profile: an allowlist that behaves like Docker's default seccomp profile,
// including the entries that depend on the container's capabilities (e.g. CAP_SYS_ADMIN).
SeccompSpec default_profile(const std::vector<int>& capabilities);

}  // namespace berth::runtime::seccomp
