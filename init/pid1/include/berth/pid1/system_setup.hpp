// What PID 1 does to the machine before any service starts, as plans (plain data, unit-tested)
// and small executors: filesystems, cgroup controllers, hostname, loopback, modules, entropy.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::pid1 {

struct MountStep {
    std::string source, target, type;
    unsigned long flags = 0;
    std::string data;
    bool skip_if_mounted = true;  // the initramfs may have mounted it already
};

struct SetupOptions {
    bool machine = true;      // PID 1 of the machine: /dev, /sys, cgroup2 too. false: a test namespace
    std::string run_dir = "/run";
};

// /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /run, /tmp, /sys/fs/cgroup (cgroup2) for a machine;
// /proc and a fresh run dir in a test namespace.
std::vector<MountStep> host_mount_plan(const SetupOptions& options);
// Something is mounted on path (or it is a root).
bool is_mount_point(const std::string& path);
Result<void> apply_mounts(const std::vector<MountStep>& plan);

// Enables every available controller for children of the cgroup2 root, so services get limits.
Result<std::vector<std::string>> enable_cgroup_controllers(const std::string& cgroup_root);


// Kernel modules, in dependency order from modules.dep ("kernel/x/a.ko: kernel/y/b.ko ...").
// Pure: names ("virtio_blk") → relative .ko paths, dependencies first, each once.
Result<std::vector<std::string>> module_load_order(const std::string& modules_dep, const std::vector<std::string>& names);
// The same split into groups that share no module, each in load order: a group depends only on
// itself and on modules `loaded` says are there (they are left out), so groups may load at once.
Result<std::vector<std::vector<std::string>>> module_load_groups(const std::string& modules_dep,
                                                                 const std::vector<std::string>& names,
                                                                 const std::function<bool(const std::string&)>& loaded);
// finit_module for each path under modules_dir; an already loaded module (in /sys/module) is
// skipped: the kernel would read and check its signature again only to say EEXIST.
Result<void> load_modules(const std::string& modules_dir, const std::vector<std::string>& relative_paths);

// A module list (/etc/berth/modules): names, one per line, '#' comments. The names after a
// "#@until-found" line are loaded one by one only while what the caller waits for is missing
// (the initramfs's disk drivers, likeliest first: a virtio-blk root needs no SCSI stack). The
// names after "#@alongside" load on a thread of their own meanwhile (the initramfs loads what the
// host needs first, its NIC and fw_cfg, while it looks for the disks).
struct ModuleList {
    std::vector<std::string> names;
    std::vector<std::string> until_found;
    std::vector<std::string> alongside;
};
ModuleList parse_module_list(std::string_view text);

// Loads the modules of list_file from /lib/modules/<running kernel>/, dependencies first, the
// independent groups of the first section on two threads (most of a load is the kernel's work on
// the CPU that asks: the signature check, relocation, the driver's probe). Before each
// "#@until-found" name, `found` is asked; once it says yes the rest are left out. A missing
// list is nothing to do.
Result<void> load_listed_modules(const std::string& list_file, const std::function<bool()>& found = {});
// The same for a list at hand (e.g. {{"vfat"}}: a module and its dependencies, by name).
Result<void> load_module_list(const ModuleList& list, const std::function<bool()>& found = {});

// `work` in a child process at idle priority (its result is the exit code), so that PID 1 and
// the services get the CPU first; PID 1's loop reaps the child like any orphan. Returns its pid.
Result<pid_t> run_at_idle_priority(const std::function<int()>& work);

// Copies the regular files of `from` into `to` (made 0700; files 0600). A missing `from` is
// nothing to do.
Result<void> copy_directory_files(const std::string& from, const std::string& to);

// Mixes a saved seed into the kernel's pool and saves a fresh one for the next boot.
Result<void> seed_entropy(const std::string& seed_file);

}  // namespace berth::pid1
