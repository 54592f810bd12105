// Control groups: finding the host's layout, turning resources into file writes
// (pure, unit-tested), and managing one container's cgroup.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime::cgroups {

enum class Layout {
    Unified,  // pure cgroup2 at /sys/fs/cgroup (Berth's own hosts, the QEMU guest)
    Hybrid,   // v1 controllers plus a cgroup2 at /sys/fs/cgroup/unified (this dev machine)
    Legacy,   // v1 only
    None,     // no cgroup filesystem mounted
};

struct HostCgroups {
    Layout layout = Layout::None;
    std::string unified_root;                    // cgroup2 mount point, empty if none
    std::vector<std::string> unified_controllers;  // from <unified_root>/cgroup.controllers
    std::map<std::string, std::string> v1_roots;   // controller → mount point ("memory" → "/sys/fs/cgroup/memory")
};

// Pure: parses /proc/self/mountinfo text, with a reader for cgroup.controllers.
HostCgroups detect_from_mountinfo(const std::string& mountinfo,
                                  const std::string& unified_controllers_text);
Result<HostCgroups> detect_host();

struct FileWrite {
    std::string controller;  // v2: "memory"; v1: the hierarchy, e.g. "memory"
    std::string file;        // "memory.max"
    std::string value;       // "1048576"
    std::string field;       // the OCI field it comes from, for errors: "linux.resources.memory.limit"
};

// Pure: resources → cgroup v2 file writes. Errors name the field ("linux.resources.cpu.quota").
Result<std::vector<FileWrite>> plan_v2(const Resources& resources);
// Pure: resources → cgroup v1 file writes, for hosts without a usable cgroup2.
Result<std::vector<FileWrite>> plan_v1(const Resources& resources);

// cgroupsPath → path relative to each hierarchy root: "" → "/berth/<id>", absolute kept,
// relative → "/berth/<path>". Rejects ".." components.
Result<std::string> resolve_path(const std::string& cgroups_path, const std::string& container_id);

// The v1 hierarchies (hybrid and v1-only hosts) a new cgroup is made in.
enum class V1Hierarchies {
    All,         // every mounted one, limits or not, as OCI runtimes do (runc): tools expect them
    LimitsOnly,  // those its limits write to; cgroup2 tracks and kills the processes (on a v1-only
                 // host, the first standard hierarchy does). Each hierarchy costs a mkdir per start
                 // and an rmdir per exit: berth-init's services use this.
};

class Cgroup {
public:
    // Creates the cgroup (and parents), enables needed controllers, applies resources.
    // On a host whose cgroup2 has no controllers, runs without limits (warning) when none are
    // asked and fails clearly ("memory limit requested but ...") when they cannot be honoured.
    static Result<Cgroup> create(const HostCgroups& host, const std::string& relative_path,
                                 const std::optional<Resources>& resources,
                                 V1Hierarchies v1_hierarchies = V1Hierarchies::All);
    // Opens an existing container cgroup (for kill/pause/delete).
    static Cgroup open(const HostCgroups& host, const std::string& relative_path);

    Result<void> add_process(pid_t pid) const;
    Result<std::vector<pid_t>> processes() const;
    bool can_freeze() const;
    Result<void> freeze() const;
    Result<void> thaw() const;
    Result<bool> frozen() const;
    Result<void> kill_all(int signal) const;
    // Kills what is left, then removes the cgroup directories.
    Result<void> destroy() const;

    const std::vector<std::string>& warnings() const { return warnings_; }
    const std::string& relative_path() const { return relative_path_; }

private:
    HostCgroups host_;
    std::string relative_path_;
    std::vector<std::string> warnings_;
};

}  // namespace berth::runtime::cgroups
