// berth-update: the update job berth-init runs in a child process for `berthctl update ...`
// (apply reads the bundle from standard input). It answers with control-protocol lines on
// standard output: progress, then one final line ("done": true, or an error).
#include <fcntl.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/parse_integer.hpp"
#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/system_setup.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/sys.hpp"
#include "berth/update/esp_access.hpp"
#include "berth/update/host_update.hpp"
#include "berth/update/job_sandbox.hpp"

namespace control = berth::supervisor::control;
namespace update = berth::update;
using berth::Result;
using Clock = std::chrono::steady_clock;

namespace {

void emit(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

struct Arguments {
    std::string action;
    update::HostPaths paths;
    std::map<std::string, std::string> devices;  // slot → device, overriding PARTLABEL=root-<slot>
    update::ApplyOptions options;
    bool stream = false;
    bool esp_given = false;
    std::string pause_at;  // a step of update::kApplySteps (test hook, docs/updates.md "Power cuts")
};

Result<Arguments> parse_arguments(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> Result<std::string> {
            if (i + 1 >= argc) return berth::fail(arg + " needs a value");
            return std::string(argv[++i]);
        };
        if (arg == "--esp") a.paths.esp = TRY(value()), a.esp_given = true;
        else if (arg == "--state") a.paths.state_dir = TRY(value());
        else if (arg == "--keys") a.paths.keys_dir = TRY(value());
        else if (arg == "--os-release") a.paths.os_release = TRY(value());
        else if (arg == "--compatible") a.paths.compatible = TRY(value());
        else if (arg == "--boot-slot") a.paths.boot_slot = TRY(value());
        else if (arg == "--device-a") a.devices["a"] = TRY(value());
        else if (arg == "--device-b") a.devices["b"] = TRY(value());
        else if (arg == "--allow-downgrade") a.options.allow_downgrade = true;
        else if (arg == "--force") a.options.force = true;
        else if (arg == "--stream") a.stream = true;
        else if (arg == "--pause-at") a.pause_at = TRY(value());
        else if (arg[0] == '-') return berth::fail("unknown flag '" + arg + "'");
        else if (a.action.empty()) a.action = arg;
        else return berth::fail("unexpected '" + arg + "'");
    }
    if (a.action != "apply" && a.action != "status" && a.action != "rollback")
        return berth::fail("expected apply, status or rollback");
    if (!a.pause_at.empty() && !update::is_apply_step(a.pause_at))
        return berth::fail("--pause-at: '" + a.pause_at + "' is not a step of an apply (docs/updates.md, \"Power cuts\")");
    return a;
}

// The --pause-at test hook: says so on the console (berth-init's stderr, which the job shares) and
// waits for the power cut the test makes; a kill ends it.
[[noreturn]] void pause_for_power_cut(std::string_view step) {
    std::fprintf(stderr, "berth-update: paused at step %.*s (--pause-at): waiting for a power cut\n", static_cast<int>(step.size()),
                 step.data());
    std::fflush(stderr);
    emit(control::ok_response({{"progress", {{"phase", "paused"}, {"step", step}}}}));
    for (;;) ::pause();
}

// Half of what the kernel says is available, at most 1 GiB: parts that fit are checked in memory
// before the disk is touched.
uint64_t memory_budget() {
    auto meminfo = berth::sys::read_file("/proc/meminfo");
    if (!meminfo) return 0;
    auto at = meminfo->find("MemAvailable:");
    if (at == std::string::npos) return 0;
    size_t start = meminfo->find_first_of("0123456789", at), end = meminfo->find(' ', start);
    auto kib = berth::parse_integer<uint64_t>(std::string_view(*meminfo).substr(start, end - start));
    return kib ? std::min<uint64_t>(*kib * 1024 / 2, uint64_t{1} << 30) : 0;
}

// The ESP, writable while the job runs: the sandbox's holder made it so (job_sandbox.hpp), or it is
// a plain directory (tests). Only the check is left here.
Result<update::EspWriteAccess> esp_write_access(const Arguments& a) {
    if (!a.esp_given && !berth::pid1::is_mount_point(a.paths.esp))
        return berth::fail("the ESP is not mounted on " + a.paths.esp + " yet (it is once the boot has settled): try again in a moment");
    return update::EspWriteAccess::acquire(a.paths.esp, false);
}

Result<std::string> target_device(const Arguments& a, const std::string& slot) {
    if (auto given = a.devices.find(slot); given != a.devices.end()) return given->second;
    auto name = berth::pid1::find_block_device("PARTLABEL=root-" + slot, berth::pid1::scan_block_devices());
    if (name.empty()) return berth::fail("no partition labelled root-" + slot + " on this host");
    return "/dev/" + name;
}

Result<nlohmann::json> apply(Arguments& a) {
    TRY(update::init_crypto());
    update::SlotLayout layout;
    layout.booted_slot = TRY(update::read_booted_slot(a.paths));
    layout.target_slot = update::other_slot(layout.booted_slot);
    layout.target_device = TRY(target_device(a, layout.target_slot));
    layout.esp = a.paths.esp;
    auto facts = TRY(update::read_host_facts(a.paths));
    // Kept before this apply replaces a slot's boot record: a version that failed is not tried again unforced.
    (void)update::remember_failed_versions(a.paths, facts.failed_versions);
    auto trusted = TRY(update::load_trusted_keys(a.paths.keys_dir));
    a.options.memory_budget = a.stream ? 0 : memory_budget();
    auto esp = TRY(esp_write_access(a));

    auto started = Clock::now();
    auto last_emit = started - std::chrono::seconds(1);
    std::string last_phase;
    bool target_touched = false;
    uint64_t received = 0;
    update::FdSource source(0);
    nlohmann::json record = {{"action", "apply"}, {"slot", layout.target_slot}, {"time", update::utc_now()},
                             {"from_version", facts.version}};
    a.options.at_step = [&](std::string_view step, const update::BundleManifest& m) -> Result<void> {
        // Before the first change to the target: after a power cut, status tells what was cut off.
        if (step == "clearing-target")
            TRY_CTX(update::save_record(a.paths, update::kLastUpdateRecord, update::in_progress_record(record, m, layout.booted_slot)),
                    "record the update as in progress");
        if (step == a.pause_at) pause_for_power_cut(step);
        return {};
    };
    auto progress = [&](const update::Progress& p) {
        if (p.phase == "target-cleared") target_touched = true;
        if (p.phase == "root" || p.phase == "kernel" || p.phase == "initramfs") received = p.done;
        auto now = Clock::now();
        if (p.phase == last_phase && now - last_emit < std::chrono::milliseconds(250) && p.done != p.total) return;
        last_phase = p.phase;
        last_emit = now;
        double seconds = std::chrono::duration<double>(now - started).count();
        emit(control::ok_response({{"progress", {{"phase", p.phase}, {"done", p.done}, {"total", p.total}, {"seconds", seconds}}}}));
    };
    auto report = update::apply_bundle(source, trusted, layout, facts, a.options, progress);
    record["seconds"] = std::chrono::duration<double>(Clock::now() - started).count();
    if (!report) {
        record["outcome"] = target_touched ? "failed" : "refused";
        record["reason"] = report.error().describe();
        record["slot_state"] = target_touched ? "no bootable system until the next update" : "unchanged";
        (void)update::save_record(a.paths, update::kLastUpdateRecord, record);
        return berth::fail(report.error().describe() + (target_touched ? "; slot " + layout.target_slot + " holds no bootable system now (slot " +
                                                                             layout.booted_slot + ", running, is untouched)"
                                                                       : "; nothing was written"));
    }
    const auto& m = report->manifest;
    record.update({{"outcome", "installed"}, {"version", m.version}, {"entry", report->entry}, {"bytes", m.payload_bytes()},
                   {"signer", report->signer}, {"development_key", m.development_key}, {"staged", report->staged},
                   {"reason", "installed; boots next with " + std::to_string(a.options.tries) + " tries, blessed once healthy"}});
    TRY_CTX(update::save_record(a.paths, update::kLastUpdateRecord, record), "record the update");
    return record;
}

Result<nlohmann::json> run(Arguments& a) {
    if (a.action == "status") return update::status_json(a.paths);
    if (a.action == "rollback") {
        auto esp = TRY(esp_write_access(a));
        std::string done = TRY(update::rollback(a.paths));
        nlohmann::json record = {{"action", "rollback"}, {"time", update::utc_now()}, {"result", done}};
        (void)update::save_record(a.paths, update::kLastRollbackRecord, record);
        return record;
    }
    return apply(a);
}

int answer(const Result<nlohmann::json>& result) {
    if (!result) {
        emit(control::error_response(result.error().describe()));
        return 1;
    }
    auto done = *result;
    done["done"] = true;
    emit(control::ok_response(done));
    return 0;
}

// What the job gets to touch (job_sandbox.hpp). The target partition is found here, before the job
// enters its sandbox: finding it by PARTLABEL reads /sys and every device, which the sandbox has not.
// What cannot be found is left for apply() to report, in its order.
Result<update::JobSandbox> sandbox_for(Arguments& a) {
    update::JobNeeds needs{.action = a.action, .paths = a.paths};
    if (a.action == "apply") {
        if (auto booted = update::read_booted_slot(a.paths)) {
            auto slot = update::other_slot(*booted);
            if (auto device = target_device(a, slot)) needs.target_device = a.devices[slot] = *device;
        }
    }
    needs.esp = berth::pid1::is_mount_point(a.paths.esp) ? update::EspView::Mounted
                : a.esp_given                             ? update::EspView::Directory
                                                          : update::EspView::NotMounted;
    return update::plan_job_sandbox(needs);
}

}  // namespace

int berth_update_main(int argc, char** argv) {
    auto args = parse_arguments(argc, argv);
    auto sandbox = args ? sandbox_for(*args) : Result<update::JobSandbox>(berth::fail(args.error()));
    if (!sandbox) return answer(berth::fail(sandbox.error()));
    auto code = update::run_in_sandbox(*sandbox, [&] { return answer(run(*args)); });
    return code ? *code : answer(berth::fail(code.error()));
}
