// berth-init's roles, as the steps each takes before (and right after) the supervisor starts.
// Failures are logged and never fatal: PID 1 keeps going with what it has.
#pragma once

#include "berth/pid1/init_system.hpp"

namespace berth::pid1 {

// The initramfs role (/etc/initrd-release exists): run_early_boot(), which execs the new root's
// init. If that fails, says why on the console and reboots after 10 s (boot counting then gives
// the other slot its turn).
[[noreturn]] void boot_from_initramfs();

// Before the supervisor. A machine: host filesystems, cgroup controllers, the kernel modules of
// /etc/berth/modules, entropy, the runtime directories of the default services, the precompiled
// seccomp filters, the ESP if fw_cfg has no host config, the host config (which may set the hostname and add
// services to options), hostname, loopback; all but the mounts, hostname and loopback in a
// short-lived child process (see machine.cpp). A test namespace: /proc, hostname, loopback.
void prepare_host(InitOptions& options);

// Once the boot's services are up (InitOptions::on_boot_settled), in a child process at idle
// priority: the modules no service needs at boot (/etc/berth/modules.later), then normal RCU
// grace periods (early boot expedites them). Loading modules while services start slowed their
// start even at idle priority (a module's load stalls the other CPU too). The ESP and efivarfs
// are mounted at the same time by the boot blessing's child (boot_blessing.hpp).
void finish_machine_in_background(const InitOptions& options);

// The ESP on /efi, read-only (its vfat modules loaded by name); not a disk of ours: nothing.
Result<void> mount_esp();
// efivarfs (LoaderBootCountPath & co.), on machines that booted through UEFI only.
Result<void> mount_efivarfs();

}  // namespace berth::pid1
