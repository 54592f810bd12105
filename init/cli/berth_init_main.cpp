// berth-init: PID 1. Mounts what a host needs, then hands every service to the supervisor.
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "berth/log.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/host_setup.hpp"
#include "berth/pid1/init_system.hpp"
#include "berth/pid1/system_setup.hpp"
#include "berth/sys.hpp"

namespace {

void usage() {
    std::fprintf(stderr,
                 "usage: berth-init [--test] [--services DIR]... [--runtime-services DIR] [--images DIR]\n"
                 "                  [--volumes DIR] [--state DIR] [--control-socket PATH] [--hostname NAME]\n"
                 "                  [--logd-socket PATH] [--syslog-dir DIR] [--modules DIR --module NAME...] [--admin-gid GID]\n");
}

// Logged, never fatal: PID 1 keeps going with what it has.
void attempt(const char* what, berth::Result<void> result) {
    if (!result) berth::log::error(std::string(what) + ": " + result.error().describe());
}

// The initramfs role: on success this execs the new root's init and never returns.
[[noreturn]] void early_boot() {
    auto booted = berth::pid1::run_early_boot();
    // Every failure is said on the console, then the machine reboots: with boot counting the
    // firmware's next try (or the other slot) gets its chance; a human sees why.
    berth::log::error("early boot failed: " + booted.error().describe());
    berth::log::error("rebooting in 10 s");
    ::sync();
    ::sleep(10);
    ::reboot(RB_AUTOBOOT);
    for (;;) ::pause();
}

// The machine's own duties before services: the ESP (host config, boot entries), the host config.
void machine_setup(berth::pid1::InitOptions& options) {
    if (options.hostname.empty()) options.hostname = "berth";
    if (berth::sys::exists("/sys/firmware/efi/efivars"))
        attempt("mount efivarfs", berth::sys::mount("efivarfs", "/sys/firmware/efi/efivars", "efivarfs",
                                                    MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
    auto esp = berth::pid1::find_block_device("PARTLABEL=esp", berth::pid1::scan_block_devices());
    if (!esp.empty())
        attempt("mount the ESP", berth::sys::mount("/dev/" + esp, "/efi", "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                                   "umask=0077"));
    // Bind-mount sources of the default services; they must exist before any service starts.
    for (const char* dir : {"/var/lib/berth/services", "/var/lib/berth/volumes", "/var/log/berth", "/run/berth/logd",
                            "/run/berth/syslog"})
        attempt(dir, berth::sys::mkdir_p(dir));
    attempt("/var/lib/berth/ssh", berth::sys::mkdir_p("/var/lib/berth/ssh", 0700));
    // The image's precompiled seccomp filters seed the runtime's cache (compiling one costs
    // a quarter of a second under emulation).
    attempt("seed the seccomp cache", berth::pid1::copy_directory_files("/usr/lib/berth/seccomp-cache", "/run/berth/.seccomp-cache"));
    if (options.spec_context.syslog_dir.empty()) options.spec_context.syslog_dir = "/run/berth/syslog";
    berth::pid1::HostSetupPaths paths;
    auto host = berth::pid1::apply_host_config(paths);
    if (!host) {
        berth::log::error("host config: " + host.error().describe() + "; booting with the image's defaults");
        return;
    }
    if (!host->source.empty()) berth::log::info("host config from " + host->source);
    if (!host->config.hostname.empty()) options.hostname = host->config.hostname;
    options.service_dirs.insert(options.service_dirs.begin() + 1, paths.services_dir);
}

}  // namespace

int berth_init_main(int argc, char** argv) {
    berth::pid1::InitOptions options;
    std::string modules_dir;
    std::vector<std::string> modules;
    bool custom_services = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "berth-init: %s needs a value\n", arg.c_str());
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--test") options.machine = false;
        else if (arg == "--services") {
            if (!custom_services) options.service_dirs.clear();
            custom_services = true;
            options.service_dirs.push_back(value());
        } else if (arg == "--runtime-services") options.runtime_services_dir = value();
        else if (arg == "--images") options.spec_context.images_root = value();
        else if (arg == "--volumes") options.spec_context.volumes_root = value();
        else if (arg == "--state") options.spec_context.state_dir = value();
        else if (arg == "--control-socket") options.control_socket = value();
        else if (arg == "--logd-socket") options.logd_socket = value();
        else if (arg == "--syslog-dir") options.spec_context.syslog_dir = value();
        else if (arg == "--hostname") options.hostname = value();
        else if (arg == "--modules") modules_dir = value();
        else if (arg == "--module") modules.push_back(value());
        else if (arg == "--admin-gid") options.admin_gid = std::atoi(value().c_str());
        else {
            std::fprintf(stderr, "berth-init: unknown argument '%s'\n", arg.c_str());
            usage();
            return 2;
        }
    }
    if (custom_services && options.runtime_services_dir == "/var/lib/berth/services")
        options.runtime_services_dir = options.service_dirs.back();
    if (::getpid() == 1 && options.machine) berth::log::use_boot_clock(true);
    if (::getpid() == 1 && berth::sys::exists(berth::pid1::kInitrdMarker)) early_boot();
    if (::getpid() != 1) {
        std::fprintf(stderr, "berth-init: must run as PID 1 (for tests: unshare --pid --mount --fork berth-init --test ...)\n");
        return 2;
    }
    berth::log::info("berth-init starting");
    berth::pid1::SetupOptions setup;
    setup.machine = options.machine;
    attempt("mount host filesystems", berth::pid1::apply_mounts(berth::pid1::host_mount_plan(setup)));
    if (options.machine) {
        if (auto enabled = berth::pid1::enable_cgroup_controllers("/sys/fs/cgroup"); !enabled)
            berth::log::error("enable cgroup controllers: " + enabled.error().describe());
    }
    if (options.machine && modules.empty()) attempt("load modules", berth::pid1::load_listed_modules("/etc/berth/modules"));
    // After the modules: a hardware RNG driver (virtio_rng) feeds the pool.
    if (options.machine) attempt("seed entropy", berth::pid1::seed_entropy("/var/lib/berth/random-seed"));
    if (options.machine) machine_setup(options);
    if (!modules_dir.empty() && !modules.empty()) {
        auto dep = berth::sys::read_file(modules_dir + "/modules.dep");
        auto order = dep ? berth::pid1::module_load_order(*dep, modules) : berth::Result<std::vector<std::string>>(berth::fail(dep.error()));
        if (order) attempt("load modules", berth::pid1::load_modules(modules_dir, *order));
        else berth::log::error("load modules: " + order.error().describe());
    }
    if (!options.hostname.empty()) attempt("set hostname", berth::sys::sethostname(options.hostname));
    attempt("bring up loopback", berth::pid1::bring_up_loopback());

    auto init = berth::pid1::InitSystem::create(options);
    if (!init) {
        // Without a supervisor there is nothing to run; stay up as a reaper so the machine
        // does not panic, and say why on the console.
        berth::log::error("cannot start the supervisor: " + init.error().describe());
        if (!options.machine) return 1;
        for (;;) ::pause();
    }
    if (options.machine && modules.empty() && berth::sys::exists("/etc/berth/modules.later"))
        attempt("load modules in the background",
                berth::pid1::load_listed_modules_in_background("/etc/berth/modules.later").transform([](pid_t) {}));
    auto action = (*init)->run();
    berth::log::info(action == berth::pid1::PowerAction::Reboot ? "rebooting" : "powering off");
    init->reset();
    berth::pid1::finish_shutdown(options, action);
    return 0;
}
