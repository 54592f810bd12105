// berth-init: PID 1. Flags, then its role (initramfs, machine, test namespace: see pid1/machine.hpp),
// then every service to the supervisor.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "berth/log.hpp"
#include "berth/parse_integer.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/init_system.hpp"
#include "berth/pid1/last_resort.hpp"
#include "berth/pid1/machine.hpp"
#include "berth/pid1/watchdog.hpp"
#include "berth/sys.hpp"

namespace {

void usage() {
    std::fprintf(stderr,
                 "usage: berth-init [--test] [--services DIR]... [--runtime-services DIR] [--images DIR]\n"
                 "                  [--volumes DIR] [--state DIR] [--control-socket PATH] [--hostname NAME]\n"
                 "                  [--logd-socket PATH] [--syslog-dir DIR] [--admin-gid GID]\n"
                 "                  [--update-command \"PROGRAM ARGS...\"]\n");
}

}  // namespace

int berth_init_main(int argc, char** argv) {
    berth::pid1::InitOptions options;
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
        else if (arg == "--update-command") {
            // The program and its first arguments, separated by spaces (tests: a layout of files).
            options.update_command.clear();
            std::istringstream words{std::string(value())};
            for (std::string word; words >> word;) options.update_command.push_back(word);
        }
        else if (arg == "--admin-gid") {
            std::string text = value();
            auto gid = berth::parse_integer<int>(text, 0, INT32_MAX);
            if (!gid) {
                std::fprintf(stderr, "berth-init: --admin-gid: '%s' is not a group id (0-%d)\n", text.c_str(), INT32_MAX);
                return 2;
            }
            options.admin_gid = *gid;
        }
        else {
            std::fprintf(stderr, "berth-init: unknown argument '%s'\n", arg.c_str());
            usage();
            return 2;
        }
    }
    if (custom_services && options.runtime_services_dir == berth::paths::kRuntimeServices)
        options.runtime_services_dir = options.service_dirs.back();
    if (::getpid() == 1) berth::pid1::install_terminate_handler(options.machine);
    if (::getpid() == 1 && options.machine) berth::log::use_boot_clock(true);
    if (::getpid() == 1 && berth::sys::exists(berth::pid1::kInitrdMarker)) berth::pid1::boot_from_initramfs();
    if (::getpid() != 1) {
        std::fprintf(stderr, "berth-init: must run as PID 1 (for tests: unshare --pid --mount --fork berth-init --test ...)\n");
        return 2;
    }
    berth::log::info("berth-init starting");
    // Parsed while the machine is prepared; taken unless the host config adds services.
    auto manifests = berth::pid1::preload_manifests(options.service_dirs);
    berth::pid1::prepare_host(options);
    // After prepare_host: the watchdog's driver is among the modules it loads.
    std::optional<berth::pid1::Watchdog> watchdog;
    if (options.machine) {
        if (auto opened = berth::pid1::Watchdog::open(); !opened)
            berth::log::error("watchdog: " + opened.error().describe());
        else if (!*opened)
            berth::log::info("no watchdog device: a hang of PID 1 is not caught");
        else
            watchdog = std::move(*opened);
        if (watchdog) options.watchdog = &*watchdog;
        if (auto cmdline = berth::sys::read_file("/proc/cmdline")) {
            auto params = berth::pid1::parse_boot_parameters(*cmdline);
            std::string hang = params ? params->test_hang : "";
            if (hang == "after-ready") options.test_hang_after_ready = true;
            else if (!hang.empty()) berth::log::warning("berth.test.hang='" + hang + "': unknown; the only test hook is after-ready");
        }
    }

    options.on_boot_settled = [&options] { berth::pid1::finish_machine_in_background(options); };
    auto init = berth::pid1::InitSystem::create(options, &manifests);
    if (!init) {
        // Without a supervisor there is nothing to run; stay up as a reaper so the machine
        // does not panic, and say why on the console.
        berth::log::error("cannot start the supervisor: " + init.error().describe());
        if (!options.machine) return 1;
        berth::pid1::reap_forever();
    }
    auto action = (*init)->run();
    berth::log::info(action == berth::pid1::PowerAction::Reboot ? "rebooting" : "powering off");
    init->reset();
    berth::pid1::finish_shutdown(options, action);
    return 0;
}
