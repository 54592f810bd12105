#include "berth/pid1/machine.hpp"

#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/log.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/host_setup.hpp"
#include "berth/pid1/system_setup.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {
namespace {

void attempt(const char* what, Result<void> result) {
    if (!result) log::error(std::string(what) + ": " + result.error().describe());
}

// The ESP, the runtime directories, the seccomp cache and the host config.
void prepare_machine_state(InitOptions& options) {
    if (options.hostname.empty()) options.hostname = "berth";
    if (sys::exists("/sys/firmware/efi/efivars"))
        attempt("mount efivarfs",
                sys::mount("efivarfs", "/sys/firmware/efi/efivars", "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
    auto esp = find_block_device("PARTLABEL=esp", scan_block_devices());
    if (!esp.empty())
        attempt("mount the ESP",
                sys::mount("/dev/" + esp, "/efi", "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=0077"));
    // Bind-mount sources of the default services; they must exist before any service starts.
    for (const char* dir :
         {"/var/lib/berth/services", "/var/lib/berth/volumes", "/var/log/berth", "/run/berth/logd", "/run/berth/syslog"})
        attempt(dir, sys::mkdir_p(dir));
    attempt("/var/lib/berth/ssh", sys::mkdir_p("/var/lib/berth/ssh", 0700));
    // The image's precompiled seccomp filters seed the runtime's cache (compiling one costs a
    // quarter of a second under emulation).
    attempt("seed the seccomp cache", copy_directory_files("/usr/lib/berth/seccomp-cache", "/run/berth/.seccomp-cache"));
    if (options.spec_context.syslog_dir.empty()) options.spec_context.syslog_dir = "/run/berth/syslog";

    HostSetupPaths paths;
    auto host = apply_host_config(paths);
    if (!host) {
        log::error("host config: " + host.error().describe() + "; booting with the image's defaults");
        return;
    }
    if (!host->source.empty()) log::info("host config from " + host->source);
    if (!host->config.hostname.empty()) options.hostname = host->config.hostname;
    // After the image's services, before those added at run time (which may replace them).
    options.service_dirs.insert(options.service_dirs.begin() + 1, paths.services_dir);
}

}  // namespace

void boot_from_initramfs() {
    auto booted = run_early_boot();
    log::error("early boot failed: " + booted.error().describe());
    log::error("rebooting in 10 s");
    ::sync();
    ::sleep(10);
    ::reboot(RB_AUTOBOOT);
    for (;;) ::pause();
}

void prepare_host(InitOptions& options) {
    SetupOptions setup;
    setup.machine = options.machine;
    setup.run_dir = options.run_dir;
    attempt("mount host filesystems", apply_mounts(host_mount_plan(setup)));
    if (options.machine) {
        // Ctrl-Alt-Del becomes SIGINT to PID 1 (an orderly reboot) instead of an instant reset.
        if (::reboot(RB_DISABLE_CAD) != 0) log::error(std::string("disable Ctrl-Alt-Del: ") + std::strerror(errno));
        attempt("enable cgroup controllers", enable_cgroup_controllers("/sys/fs/cgroup").transform([](auto&&) {}));
        attempt("load modules", load_listed_modules("/etc/berth/modules"));
        // After the modules: a hardware RNG driver (virtio_rng) feeds the pool.
        attempt("seed entropy", seed_entropy("/var/lib/berth/random-seed"));
        prepare_machine_state(options);
    }
    if (!options.hostname.empty()) attempt("set hostname", sys::sethostname(options.hostname));
    attempt("bring up loopback", bring_up_loopback());
}

void load_later_modules(const InitOptions& options) {
    if (!options.machine || !sys::exists("/etc/berth/modules.later")) return;
    attempt("load modules in the background",
            load_listed_modules_in_background("/etc/berth/modules.later").transform([](pid_t) {}));
}

}  // namespace berth::pid1
