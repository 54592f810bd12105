// What PID 1 does to the machine before any service starts, as plans (plain data, unit-tested)
// and small executors: filesystems, cgroup controllers, hostname, loopback, modules, entropy.
#pragma once

#include <string>
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
Result<void> apply_mounts(const std::vector<MountStep>& plan);

// Enables every available controller for children of the cgroup2 root, so services get limits.
Result<std::vector<std::string>> enable_cgroup_controllers(const std::string& cgroup_root);

Result<void> bring_up_loopback();

// Kernel modules, in dependency order from modules.dep ("kernel/x/a.ko: kernel/y/b.ko ...").
// Pure: names ("virtio_blk") → relative .ko paths, dependencies first, each once.
Result<std::vector<std::string>> module_load_order(const std::string& modules_dep, const std::vector<std::string>& names);
// finit_module for each path under modules_dir; an already loaded module is not an error.
Result<void> load_modules(const std::string& modules_dir, const std::vector<std::string>& relative_paths);

// Loads the modules named in list_file (one per line, '#' comments) from
// /lib/modules/<running kernel>/, dependencies first. A missing list is nothing to do.
Result<void> load_listed_modules(const std::string& list_file);
// The same in a child process, so that PID 1 goes on starting services meanwhile; PID 1's
// loop reaps the child like any orphan. Returns the child's pid.
Result<pid_t> load_listed_modules_in_background(const std::string& list_file);

// Copies the regular files of `from` into `to` (made 0700; files 0600). A missing `from` is
// nothing to do.
Result<void> copy_directory_files(const std::string& from, const std::string& to);

// Mixes a saved seed into the kernel's pool and saves a fresh one for the next boot.
Result<void> seed_entropy(const std::string& seed_file);

}  // namespace berth::pid1
