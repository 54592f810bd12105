// The container plan: config.json parsed and validated into plain data.
// Everything the executor needs is here; nothing here touches the system.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::runtime {

enum class NamespaceType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };

struct Namespace {
    NamespaceType type;
    std::string path;  // empty: create a new one; else join the namespace at this path
};

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    int resource = 0;  // RLIMIT_NOFILE
    uint64_t soft = 0;
    uint64_t hard = 0;
};

// Capability numbers (CAP_CHOWN = 0, ...) per set.
struct CapabilitySets {
    std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additional_gids;
};

struct ConsoleSize {
    unsigned height = 0;
    unsigned width = 0;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    User user;
    std::optional<CapabilitySets> capabilities;  // absent: no capability changes requested
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::optional<int> oom_score_adj;
    std::string apparmor_profile;
    std::string selinux_label;
};

enum class SeccompAction { Kill, KillProcess, KillThread, Trap, Errno, Trace, Allow, Log, Notify };

enum class SeccompOperator { NotEqual, LessThan, LessEqual, EqualTo, GreaterEqual, GreaterThan, MaskedEqual };

struct SeccompArg {
    unsigned index = 0;
    uint64_t value = 0;
    uint64_t value_two = 0;
    SeccompOperator op = SeccompOperator::EqualTo;
};

struct SeccompRule {
    std::vector<std::string> names;
    SeccompAction action = SeccompAction::Allow;
    std::optional<uint32_t> errno_ret;
    std::vector<SeccompArg> args;
};

struct SeccompSpec {
    SeccompAction default_action = SeccompAction::Allow;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", ...
    std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", ...
    std::vector<SeccompRule> syscalls;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout_seconds;
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

struct Device {
    std::string path;
    char type = 'c';  // c, b, u, p
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

struct MemoryResources {
    std::optional<int64_t> limit, reservation, swap;  // -1: unlimited
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer;
};

struct CpuResources {
    std::optional<uint64_t> shares, period;
    std::optional<int64_t> quota;  // -1: unlimited
    std::optional<uint64_t> burst;
    std::optional<int64_t> idle;
    std::string cpus, mems;
};

struct IoDeviceValue {
    int64_t major = 0, minor = 0;
    uint64_t value = 0;  // weight or rate
};

struct IoResources {
    std::optional<uint16_t> weight;
    std::vector<IoDeviceValue> weight_device;
    std::vector<IoDeviceValue> throttle_read_bps, throttle_write_bps, throttle_read_iops, throttle_write_iops;
};

struct HugepageLimit {
    std::string page_size;  // "2MB"
    uint64_t limit = 0;
};

struct Resources {
    MemoryResources memory;
    CpuResources cpu;
    std::optional<int64_t> pids_limit;  // <= 0: unlimited
    IoResources io;
    std::vector<HugepageLimit> hugepage_limits;
    std::map<std::string, std::string> unified;  // raw cgroup v2 file → value
};

struct ContainerSpec {
    std::string oci_version = "1.0.2";
    std::string root_path;  // absolute (resolved against the bundle)
    bool root_readonly = false;
    std::string hostname;
    std::string domainname;
    Process process;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;

    // linux
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    std::vector<Device> devices;
    std::string cgroups_path;
    std::optional<Resources> resources;
    std::map<std::string, std::string> sysctl;
    std::optional<SeccompSpec> seccomp;
    std::string rootfs_propagation;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::string mount_label;
    // Berth's own (not in OCI's config.json): symlinks made after the mounts, (target, link path);
    // e.g. /dev/log -> .berth-syslog/log into a bind-mounted socket directory.
    std::vector<std::pair<std::string, std::string>> symlinks;
    // A new network namespace gets its loopback interface up (berth-init's services with network
    // "none", as Docker's none network; OCI tools set up their networks themselves).
    bool loopback_up = false;

    bool has_namespace(NamespaceType type) const;
    const Namespace* find_namespace(NamespaceType type) const;
};

const char* namespace_type_name(NamespaceType type);  // "pid", "network", ...
int namespace_clone_flag(NamespaceType type);         // CLONE_NEWPID, ...

}  // namespace berth::runtime
