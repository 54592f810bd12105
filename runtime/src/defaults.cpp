#include "berth/runtime/defaults.hpp"

#include <sys/resource.h>

#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/seccomp.hpp"

namespace berth::runtime {

ContainerSpec default_spec(const std::string& root_path) {
    ContainerSpec spec;
    spec.root_path = root_path;
    spec.root_readonly = true;
    spec.hostname = "berth";

    Process& p = spec.process;
    p.args = {"sh"};
    p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
    p.cwd = "/";
    auto docker = caps::docker_default();
    p.capabilities = CapabilitySets{docker, docker, {}, docker, {}};
    p.rlimits = {{"RLIMIT_NOFILE", RLIMIT_NOFILE, 1024, 1024}};
    p.no_new_privileges = true;

    spec.mounts = {
        {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
        {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
        {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
        {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
        {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
    };
    spec.namespaces = {{NamespaceType::Pid, {}},   {NamespaceType::Network, {}}, {NamespaceType::Ipc, {}},
                       {NamespaceType::Uts, {}},   {NamespaceType::Mount, {}},   {NamespaceType::Cgroup, {}}};
    spec.masked_paths = {"/proc/asound",        "/proc/acpi",        "/proc/kcore",      "/proc/keys",
                         "/proc/latency_stats", "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug",
                         "/proc/scsi",          "/sys/firmware",     "/sys/devices/virtual/powercap"};
    spec.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    spec.seccomp = seccomp::default_profile(docker);
    return spec;
}

void refresh_default_seccomp(ContainerSpec& spec) {
    std::vector<int> bounding = spec.process.capabilities ? spec.process.capabilities->bounding : caps::all();
    spec.seccomp = seccomp::default_profile(bounding);
}

}  // namespace berth::runtime
