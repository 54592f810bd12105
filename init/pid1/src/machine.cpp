#include "berth/pid1/machine.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

// What the machine's one-time preparation decides for PID 1.
struct MachineChoices {
    std::string hostname;          // from the host config; empty: keep the default
    std::string host_services_dir;  // the host config's extra services; empty: none
};

// Cgroup controllers, modules, entropy, the ESP, the runtime directories, the seccomp cache and the host config.
MachineChoices prepare_machine_state() {
    MachineChoices choices;
    attempt("enable cgroup controllers", enable_cgroup_controllers("/sys/fs/cgroup").transform([](auto&&) {}));
    attempt("load modules", load_listed_modules("/etc/berth/modules"));
    // After the modules: a hardware RNG driver (virtio_rng) feeds the pool.
    attempt("seed entropy", seed_entropy("/var/lib/berth/random-seed"));
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

    HostSetupPaths paths;
    auto host = apply_host_config(paths);
    if (!host) {
        log::error("host config: " + host.error().describe() + "; booting with the image's defaults");
        return choices;
    }
    if (!host->source.empty()) log::info("host config from " + host->source);
    choices.hostname = host->config.hostname;
    choices.host_services_dir = paths.services_dir;
    return choices;
}

// prepare_machine_state() in a child process: its effects (modules, mounts, files) belong to the
// machine, not to the process, and the code it runs once (module dependencies, the host config's
// TOML, the copies) then never becomes part of PID 1's resident memory, which lasts as long as the
// machine. The child sends back its two choices as two lines. If it cannot run, PID 1 does the work.
MachineChoices prepare_machine_state_in_child() {
    int fds[2];
    pid_t pid = ::pipe2(fds, O_CLOEXEC) == 0 ? ::fork() : -1;
    if (pid < 0) {
        log::warning(std::string("preparing the machine in-process: ") + error_text(errno));
        return prepare_machine_state();
    }
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    if (pid == 0) {
        read_end.reset();
        auto choices = prepare_machine_state();
        ::_exit(sys::write_all(write_end.get(), choices.hostname + "\n" + choices.host_services_dir + "\n") ? 0 : 1);
    }
    write_end.reset();
    auto answer = sys::read_all(read_end.get());
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    MachineChoices choices;
    if (!answer || std::count(answer->begin(), answer->end(), '\n') != 2) {
        log::error("preparing the machine: the helper process gave no answer; booting with the image's defaults");
        return choices;
    }
    size_t end = answer->find('\n');
    choices.hostname = answer->substr(0, end);
    choices.host_services_dir = answer->substr(end + 1, answer->size() - end - 2);
    return choices;
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
        if (::reboot(RB_DISABLE_CAD) != 0) log::error(std::string("disable Ctrl-Alt-Del: ") + error_text(errno));
        auto choices = prepare_machine_state_in_child();
        options.hostname = choices.hostname.empty() ? (options.hostname.empty() ? "berth" : options.hostname) : choices.hostname;
        if (options.spec_context.syslog_dir.empty()) options.spec_context.syslog_dir = "/run/berth/syslog";
        // After the image's services, before those added at run time (which may replace them).
        if (!choices.host_services_dir.empty())
            options.service_dirs.insert(options.service_dirs.begin() + 1, choices.host_services_dir);
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
