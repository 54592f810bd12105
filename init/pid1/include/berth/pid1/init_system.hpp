// berth-init's main loop: loads manifests, starts services as containers through the runtime
// library (it is the parent of each container's first process: no shim), captures their output,
// reaps every process, runs probes, answers the control socket, and shuts down in order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/manifest/manifest.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/child_process.hpp"
#include "berth/pid1/watchdog.hpp"
#include "berth/result.hpp"
#include "berth/update/boot_trial.hpp"

namespace berth::pid1 {

struct InitOptions {
    bool machine = true;  // the machine's PID 1 (mounts, reboot(2)); false: PID 1 of a test namespace
    std::vector<std::string> service_dirs = {paths::kServices, paths::kRuntimeServices};
    std::string runtime_services_dir = paths::kRuntimeServices;  // where `berthctl add` writes
    manifest::SpecContext spec_context;
    std::string run_dir = "/run";
    std::string control_socket = paths::kControlSocket;
    std::string hostname;        // empty: keep the current one
    int admin_gid = -1;          // besides root, members of this group may use the control socket
    size_t log_ring_bytes = 64 * 1024;
    // logd's ingest socket (SOCK_SEQPACKET, one JSON record per message). Records wait in the
    // per-service rings until logd listens, then go out in order: nothing from boot is lost.
    std::string logd_socket = paths::kLogdSocket;
    // The update job (`berthctl update`): the program and its first arguments; the action and its
    // flags follow. Tests point it at a build's berth-update with a layout of files.
    std::vector<std::string> update_command = {"/usr/bin/berth-update"};
    // Called once, when every service has come up (or given up) after boot: work that no boot
    // service waits for, kept from competing with their start (the modules of "#@later").
    std::function<void()> on_boot_settled;
    // A machine's trial boots (boot counting): bless after a healthy window, reboot on failure
    // (boot_blessing.hpp). None: no blessing (test namespaces).
    std::optional<update::TrialLimits> boot_trial;
    // Petted from the loop; disarmed or left armed by finish_shutdown (watchdog.hpp).
    Watchdog* watchdog = nullptr;
    // Test hook berth.test.hang=after-ready: once every service is ready, PID 1 stops (no more
    // petting), so that a test sees the watchdog reset the machine.
    bool test_hang_after_ready = false;
};

enum class PowerAction { None, Poweroff, Reboot };

// The manifests of `dirs`, parsed in a child process that starts now, while PID 1 goes on (with
// the machine's preparation, itself in a child: the two run at once).
struct ManifestPreload {
    std::vector<std::string> dirs;
    Result<ChildTask> parser;
};
ManifestPreload preload_manifests(const std::vector<std::string>& dirs);

class InitSystem {
public:
    // How long `berthctl add` may take to read and check a manifest (in a child process).
    static constexpr int kAddCheckSeconds = 10;

    // With a preload of options.service_dirs (the same list) its manifests are taken; otherwise
    // they are parsed here (in a child process too).
    static Result<std::unique_ptr<InitSystem>> create(const InitOptions& options, ManifestPreload* preload = nullptr);
    ~InitSystem();
    // Runs until shutdown. Returns the requested power action; the caller performs it.
    PowerAction run();

    struct Impl;
private:
    explicit InitSystem(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// After run(): stop every remaining process, sync, unmount or remount read-only and, on a
// machine, reboot(2). In a test namespace it only cleans up and returns.
void finish_shutdown(const InitOptions& options, PowerAction action);

}  // namespace berth::pid1
