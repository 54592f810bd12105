#include "berth/pid1/machine.hpp"

#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/log.hpp"
#include "berth/parse_integer.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/child_process.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/host_setup.hpp"
#include "berth/pid1/system_setup.hpp"
#include "berth/pid1/watchdog.hpp"
#include "berth/sys.hpp"
#include "berth/update/esp_access.hpp"

namespace berth::pid1 {
namespace {

void attempt(const char* what, Result<void> result) {
    if (!result) log::error(std::string(what) + ": " + result.error().describe());
}

// What the machine's one-time preparation decides for PID 1.
struct MachineChoices {
    std::string hostname;          // from the host config; empty: keep the default
    std::string host_services_dir;  // the host config's extra services; empty: none
    update::TrialLimits trial;      // the host config's [update]
};

// The choices as the child sends them: one per line, the durations in milliseconds.
std::string encode_choices(const MachineChoices& c) {
    return c.hostname + "\n" + c.host_services_dir + "\n" + std::to_string(c.trial.health_window.count()) + "\n" +
           std::to_string(c.trial.time_limit.count()) + "\n";
}

// What does not read as such keeps the defaults (the host config was validated in the child).
MachineChoices decode_choices(std::string_view text) {
    MachineChoices choices;
    std::vector<std::string_view> lines;
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos) break;
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    if (lines.size() != 4) return choices;
    choices.hostname = lines[0];
    choices.host_services_dir = lines[1];
    constexpr long long kDay = 24LL * 3600 * 1000;
    if (auto window = parse_integer<long long>(lines[2], 1, kDay)) choices.trial.health_window = supervisor::Duration(*window);
    if (auto limit = parse_integer<long long>(lines[3], 1, kDay)) choices.trial.time_limit = supervisor::Duration(*limit);
    return choices;
}

// Cgroup controllers, modules, entropy, the runtime directories, the seccomp cache and the host config.
MachineChoices prepare_machine_state() {
    MachineChoices choices;
    attempt("enable cgroup controllers", enable_cgroup_controllers("/sys/fs/cgroup").transform([](auto&&) {}));
    // The list ends with watchdog drivers "until found": the hardware's if this kernel drives
    // it, else softdog (watchdog.hpp).
    attempt("load modules", load_listed_modules(paths::kModules, [] { return sys::exists(kWatchdogDevice); }));
    // After the modules: a hardware RNG driver (virtio_rng) feeds the pool.
    attempt("seed entropy", seed_entropy(paths::kRandomSeed));
    // Bind-mount sources of the default services; they must exist before any service starts.
    for (const char* dir :
         {paths::kRuntimeServices, paths::kVolumes, paths::kLogs, paths::kLogdRun, paths::kSyslog})
        attempt(dir, sys::mkdir_p(dir));
    attempt(paths::kSsh, sys::mkdir_p(paths::kSsh, 0700));
    // The image's precompiled seccomp filters seed the runtime's cache (compiling one costs a
    // quarter of a second under emulation).
    attempt("seed the seccomp cache", copy_directory_files(paths::kSeccompCacheSeed, paths::kSeccompCache));

    HostSetupPaths paths;
    // The ESP is a source of the host config, after fw_cfg: mounted now only if fw_cfg has none.
    if (!sys::exists(paths.sources.front())) attempt("mount the ESP", mount_esp());
    auto host = apply_host_config(paths);
    if (!host) {
        log::error("host config: " + host.error().describe() + "; booting with the image's defaults");
        return choices;
    }
    if (!host->source.empty()) log::info("host config from " + host->source);
    choices.hostname = host->config.hostname;
    if (!host->config.services.empty()) choices.host_services_dir = paths.services_dir;
    choices.trial = {host->config.health_window, host->config.bless_timeout};
    return choices;
}

// prepare_machine_state() in a child process (child_process.hpp), which sends back its
// choices as lines. If no child can start, PID 1 does the work; if the child failed, PID 1
// does not try again (what crashed a child would crash PID 1, and with it the machine) and boots
// with the image's defaults.
MachineChoices prepare_machine_state_in_child() {
    auto child = start_in_child([] {
        return encode_choices(prepare_machine_state());
    });
    if (!child) {
        log::warning("preparing the machine in-process: " + child.error().describe());
        return prepare_machine_state();
    }
    auto answer = child->answer();
    if (!answer) {
        log::error("preparing the machine: " + answer.error().describe() + "; booting with the image's defaults");
        return {};
    }
    return decode_choices(*answer);
}

}  // namespace

// A write to the ESP (an update, a blessing) was cut off: FAT has no journal, and what a power cut
// leaves (clusters allocated to no file, a wrong free count) would fill the ESP over time and make
// updates refuse for want of space. fsck.fat repairs it before the ESP is mounted.
namespace {
constexpr const char* kFsckFat = "/usr/bin/fsck.fat";

// Returns whether it repaired something.
bool check_esp(const std::string& device) {
    if (!sys::exists(kFsckFat)) {
        log::warning("ESP " + device + " was not cleanly unmounted; this image has no " + kFsckFat + " to check it");
        return false;
    }
    log::warning("ESP " + device + " was not cleanly unmounted (a write to it was cut off): checking it");
    auto code = run_program({kFsckFat, "-a", "-w", device}, false);
    if (!code) log::warning("ESP " + device + ": " + code.error().describe());
    else if (*code == 0 || *code == 1) log::info("ESP " + device + (*code ? ": repaired" : ": no errors") + " (fsck.fat -a)");
    else log::warning("ESP " + device + ": fsck.fat -a exited with " + std::to_string(*code) + "; mounting it as it is");
    return code && *code == 1;
}

// fsck.fat -a keeps the cluster chains no file owned as /FSCK0000.REC, /FSCK0001.REC, ...: here
// they are what a cut-off write left (half a kernel), and they would fill the ESP cut after cut.
void remove_salvaged_chains(const std::string& esp) {
    std::vector<std::string> salvaged;
    for (const auto& name : sys::list_directory(esp))
        if (name.size() == 12 && (name.starts_with("FSCK") || name.starts_with("fsck")) && (name.ends_with(".REC") || name.ends_with(".rec")))
            salvaged.push_back(name);
    if (salvaged.empty()) return;
    auto removed = update::EspWriteAccess::acquire(esp, true).and_then([&](update::EspWriteAccess access) -> Result<void> {
        for (const auto& name : salvaged) TRY(sys::unlink(esp + "/" + name));
        TRY(sys::fsync_path(esp));
        return access.release();
    });
    if (removed) log::info("ESP: removed " + std::to_string(salvaged.size()) + " file(s) of clusters fsck.fat salvaged");
    else log::warning("ESP: the clusters fsck.fat salvaged stay: " + removed.error().describe());
}
}  // namespace

// The ESP (read-only): where a host config baked into the image lives, and what updates and
// boot counting write. Its modules load on demand: most boots need it only after the services.
Result<void> mount_esp() {
    if (is_mount_point("/efi")) return {};
    auto esp = find_block_device("PARTLABEL=esp", scan_block_devices());
    if (esp.empty()) return {};  // not a disk of ours (tests, other layouts)
    // vfat's defaults (codepage 437, iocharset ascii) need their tables: no modprobe in the image.
    TRY(load_module_list({.names = {"vfat", "nls_cp437", "nls_ascii"}}));
    bool repaired = false;
    if (auto boot_sector = read_head("/dev/" + esp, 512); boot_sector && fat_volume_dirty(*boot_sector))
        repaired = check_esp("/dev/" + esp);
    TRY(sys::mkdir_p("/efi"));
    TRY(sys::mount("/dev/" + esp, "/efi", "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=0077"));
    log::info("ESP /dev/" + esp + " mounted on /efi");
    if (repaired) remove_salvaged_chains("/efi");
    return {};
}

// EFI variables (LoaderBootCountPath & co.), on machines that booted through UEFI only.
Result<void> mount_efivarfs() {
    const char* target = "/sys/firmware/efi/efivars";
    if (!sys::exists("/sys/firmware/efi") || is_mount_point(target)) return {};
    TRY(load_module_list({.names = {"efivarfs"}}));
    TRY(sys::mount("efivarfs", target, "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
    log::info(std::string("efivarfs mounted on ") + target);
    return {};
}

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
        options.boot_trial = choices.trial;
        options.hostname = choices.hostname.empty() ? (options.hostname.empty() ? "berth" : options.hostname) : choices.hostname;
        if (options.spec_context.syslog_dir.empty()) options.spec_context.syslog_dir = paths::kSyslog;
        // After the image's services, before those added at run time (which may replace them).
        if (!choices.host_services_dir.empty())
            options.service_dirs.insert(options.service_dirs.begin() + 1, choices.host_services_dir);
    }
    if (!options.hostname.empty()) attempt("set hostname", sys::sethostname(options.hostname));
    attempt("bring up loopback", sys::bring_up_loopback());
}

void finish_machine_in_background(const InitOptions& options) {
    if (!options.machine) return;
    attempt("finish the machine's preparation in the background", run_at_idle_priority([] {
                auto loaded = load_listed_modules(paths::kModulesLater);
                if (!loaded) log::error("load modules (/etc/berth/modules.later): " + loaded.error().describe());
                // Normal grace periods from here on (expedited ones interrupt every CPU).
                if (sys::exists(kRcuExpedited)) attempt("normal RCU grace periods", sys::write_existing(kRcuExpedited, "0"));
                return loaded ? 0 : 1;
            }).transform([](pid_t) {}));
}

}  // namespace berth::pid1
