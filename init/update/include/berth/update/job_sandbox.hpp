// What the update job (berth-update) may touch: it reads a bundle from whoever sent it, so it runs
// in its own mount namespace whose root is an empty tmpfs holding only the host paths it needs,
// bound at the same paths (docs/updates.md, "What the job can touch"). Two processes:
//  - the holder (the child PID 1 started) builds that root, and holds the ESP writable for the job
//    (the lock and the remount, update::EspWriteAccess): it keeps CAP_SYS_ADMIN for that, and only
//    while it holds the ESP; it reads no byte of the bundle;
//  - the worker (its child) runs the job with no capability at all, so it cannot mount its way
//    back to the devices it was not given.
// Both set no_new_privs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/update/host_update.hpp"

namespace berth::update {

// A host path, seen at the same path inside the sandbox.
struct SandboxBind {
    enum class Missing { Skip, CreateDirectory, CreateFile };
    std::string path;
    bool writable = false;
    bool device = false;               // a device node: its mount keeps dev (every other is nodev)
    Missing missing = Missing::Skip;   // Skip: the job reports the missing path itself, as without a sandbox
    bool operator==(const SandboxBind&) const = default;
};

// How the ESP is there: a mount (the host's /efi: remounted read-write while the job writes),
// a plain directory (tests), or not mounted yet (the job says so).
enum class EspView { Mounted, Directory, NotMounted };

struct JobNeeds {
    std::string action;         // apply, status, rollback
    HostPaths paths;
    std::string target_device;  // apply: the partition it writes; empty when unknown (the job reports why)
    EspView esp = EspView::Mounted;
};

struct JobSandbox {
    std::vector<SandboxBind> binds;  // parents before children
    std::string esp_to_hold;         // the ESP the holder makes writable for the job; empty: none
    std::vector<int> holder_caps;    // CAP_SYS_ADMIN while it holds the ESP (the remount back), else none
    std::vector<int> worker_caps;    // none
};

// Pure: what the job needs for `needs.action`. Fails on a relative path (the sandbox binds absolute
// paths only) and on an unknown action.
Result<JobSandbox> plan_job_sandbox(const JobNeeds& needs);

// Enters the sandbox, runs `job` in the worker and returns its exit code (in the holder, once the
// ESP is read-only again). A worker killed by a signal ends the holder by the same signal, so PID 1
// reports it as before. Fails, with nothing run, if the sandbox cannot be made.
Result<int> run_in_sandbox(const JobSandbox& sandbox, const std::function<int()>& job);

}  // namespace berth::update
