#include "boot_blessing.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>

#include <algorithm>

#include "berth/log.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/machine.hpp"
#include "berth/supervisor/wall_time.hpp"
#include "berth/update/esp_access.hpp"
#include "berth/update/host_update.hpp"

namespace berth::pid1 {
namespace {

using supervisor::LogLevel;
using supervisor::TimePoint;
using update::BootOutcome;
using update::BootRecord;
using update::TrialVerdict;

// systemd-boot's variables (its vendor GUID): the entry file of a counted boot, as renamed for
// this try; the entry's id for any boot (set without a counter too).
constexpr const char* kBootCountVariable = "LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
constexpr const char* kEntrySelectedVariable = "LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
constexpr const char* kTriesSpentStep = "tries spent";

std::string entries_dir(const BootBlessingPaths& paths) { return paths.esp + "/loader/entries"; }

Result<void> write_record(const BootBlessingPaths& paths, const BootRecord& record) {
    TRY(sys::mkdir_p(paths.records, 0755));
    return sys::write_file_durably(update::boot_record_path(paths.records, record.slot), update::format_boot_record(record));
}

// Another slot whose entry has no tries left failed, whatever its own boots managed to write:
// the boot that fell back to this slot records that (once), keeping the failed boot's own reason.
std::optional<update::EarlyFailure> early_failure(const BootBlessingPaths& paths, const std::string& slot) {
    auto text = sys::read_file(update::early_failure_path(paths.records, slot));
    return text ? update::parse_early_failure(*text) : std::nullopt;
}

void record_spent_slots(const BootBlessingPaths& paths, const std::string& slot, const std::string& now,
                        std::vector<std::string>& lines) {
    std::string dir = entries_dir(paths);
    for (const auto& file : update::entry_files(dir)) {
        auto entry = update::parse_entry_name(file);
        if (!entry || !update::tries_spent(*entry)) continue;
        std::string other = update::slot_of_entry(entry->base);
        if (other.empty() || other == slot) continue;
        std::string entry_text = sys::read_file(dir + "/" + file).value_or("");
        std::string version = update::entry_version(entry_text);
        std::optional<BootRecord> previous;
        if (auto text = sys::read_file(update::boot_record_path(paths.records, other)))
            if (auto parsed = update::parse_boot_record(*text)) previous = *parsed;
        // The same entry name comes back with every version that spends its tries: the version
        // tells a failure recorded already from a new one.
        if (previous && previous->step == kTriesSpentStep && previous->entry == file && previous->version == version) {
            lines.push_back("slot " + other + " failed before (tries spent): " + previous->reason);
            continue;
        }
        BootRecord record{other, version, file, BootOutcome::Failed, kTriesSpentStep, "", now, 0};
        if (previous && previous->outcome == BootOutcome::Failed && previous->step != kTriesSpentStep &&
            (previous->version == version || version.empty())) {
            record.version = previous->version.empty() ? version : previous->version;
            record.reason = previous->step + ": " + previous->reason;
        } else if (auto note = early_failure(paths, other); note && update::early_failure_is_for(*note, entry_text)) {
            record.reason = "its root could not be mounted: " + note->reason;
        } else {
            record.reason = "no try of " + file + " reached a verdict (a reset, a hang or a power cut)";
        }
        record.reason += "; slot " + slot + " booted instead";
        auto written = write_record(paths, record);
        lines.push_back("slot " + other + " failed (tries spent): " + record.reason +
                        (written ? "" : "; not recorded: " + written.error().describe()));
    }
}

std::string now_rfc3339() { return supervisor::format_rfc3339(supervisor::WallClock::now()); }

}  // namespace

std::pair<TrialBoot, std::vector<std::string>> inspect_trial_boot(const BootBlessingPaths& paths, const std::string& slot,
                                                                 const std::string& now) {
    TrialBoot boot{"", slot, ""};
    std::vector<std::string> lines;
    boot.version = update::os_release_version(sys::read_file(paths.os_release).value_or(""));
    for (const char* name : {kBootCountVariable, kEntrySelectedVariable}) {
        auto variable = sys::read_file(paths.efivars + "/" + name);
        if (!variable) continue;
        auto path = update::parse_efi_string_variable(*variable);
        auto entry = path ? update::parse_entry_name(*path) : std::nullopt;
        if (!entry) {
            lines.push_back(std::string(name, std::string_view(name).find('-')) + " does not name a boot entry");
            continue;
        }
        boot.entry = update::entry_file_name(*entry);
        if (std::string from_entry = update::slot_of_entry(entry->base); !from_entry.empty()) boot.slot = from_entry;
        break;
    }
    boot.fallback = update::other_slot_can_boot(update::entry_files(entries_dir(paths)), boot.slot);
    record_spent_slots(paths, boot.slot, now, lines);
    return {boot, lines};
}

Result<std::string> bless_boot(const BootBlessingPaths& paths, const TrialBoot& boot, const std::string& now,
                               const TrialVerdict& verdict, bool remount) {
    auto entry = update::parse_entry_name(boot.entry);
    if (!entry || !entry->tries_left) return fail("'" + boot.entry + "' has no boot counter");
    std::string dir = entries_dir(paths), blessed = update::blessed_file_name(*entry);
    auto esp = TRY(update::EspWriteAccess::acquire(paths.esp, remount));
    auto renamed = sys::rename_durably(dir + "/" + boot.entry, dir + "/" + blessed);
    // Read-only again whatever happened; the remount also writes out the FAT.
    auto back = esp.release();
    TRY(renamed);
    TRY(back);
    BootRecord record{boot.slot, boot.version, boot.entry, BootOutcome::Blessed, verdict.step, verdict.reason, now,
                      *entry->tries_left};
    TRY_CTX(write_record(paths, record), "blessed, but not recorded");
    return blessed;
}

Result<void> record_failed_boot(const BootBlessingPaths& paths, const TrialBoot& boot, const std::string& now,
                                const TrialVerdict& verdict) {
    auto entry = update::parse_entry_name(boot.entry);
    int left = entry && entry->tries_left ? *entry->tries_left : -1;
    return write_record(paths, {boot.slot, boot.version, boot.entry, BootOutcome::Failed, verdict.step, verdict.reason,
                                now, left});
}

BootBlessing::BootBlessing(EventLoop& loop, update::TrialLimits limits, BootBlessingPaths paths, BootBlessingHooks hooks,
                           TimePoint start)
    : loop_(loop), trial_(limits, start), paths_(std::move(paths)), hooks_(std::move(hooks)) {}

BootBlessing::~BootBlessing() { abandon(); }

void BootBlessing::inspect(TimePoint now) {
    if (inspection_started_ || done_) return;
    inspection_started_ = true;
    std::string slot = sys::read_file(paths::kBootSlot).value_or("");
    slot = slot.substr(0, slot.find('\n'));
    BootBlessingPaths paths = paths_;
    start_child(Job::Inspect, [paths, slot] {
        // The ESP and efivarfs are mounted here, once the boot's services are up: their modules
        // are not loaded before (see machine.hpp).
        std::string out;
        if (auto esp = mount_esp(); !esp) out += "mount the ESP: " + esp.error().describe() + "\n";
        if (auto vars = mount_efivarfs(); !vars) out += "mount efivarfs: " + vars.error().describe() + "\n";
        auto [boot, lines] = inspect_trial_boot(paths, slot, now_rfc3339());
        std::string head = boot.entry + "\n" + boot.slot + "\n" + boot.version + "\n" + (boot.fallback ? "fallback" : "") + "\n";
        for (const auto& line : lines) out += line + "\n";
        return head + out;
    }, now);
}

void BootBlessing::start_child(Job job, const std::function<std::string()>& work, TimePoint now) {
    auto child = start_in_child(work, ChildAnswer::Watched);
    if (child) {
        if (auto watched = loop_.watch(child->answer_fd(), Source::BootBlessing); watched) {
            job_ = job;
            child_.emplace(std::move(*child));
            child_deadline_ = now + kChildTime;
            return;
        } else {
            child->leave_to_reaper(true);
            child = tl::unexpected(watched.error());
        }
    }
    hooks_.note(LogLevel::Error, "boot blessing: no helper process: " + child.error().describe());
    job_ = job;
    finish_child(std::nullopt, now);
}

void BootBlessing::child_readable(TimePoint now) {
    if (!child_) return;
    auto complete = child_->read_available();
    if (complete && !*complete) return;
    loop_.unwatch(child_->answer_fd());
    std::string answer = child_->take_received();
    child_->leave_to_reaper(false);  // it has closed its end: it is exiting
    child_.reset();
    finish_child(complete ? std::optional(answer) : std::nullopt, now);
}

bool BootBlessing::reaped(pid_t pid) {
    if (!child_ || child_->pid() != pid) return false;
    child_->reaped();  // its answer is still read from the pipe
    return true;
}

void BootBlessing::tick(TimePoint now) {
    if (!child_ || now < child_deadline_) return;
    loop_.unwatch(child_->answer_fd());
    child_->leave_to_reaper(true);
    child_.reset();
    hooks_.note(LogLevel::Error, "boot blessing: the helper process took longer than " +
                                     std::to_string(std::chrono::seconds(kChildTime).count()) + " s; stopped");
    finish_child(std::nullopt, now);
}

void BootBlessing::abandon() {
    if (!child_) return;
    if (child_->answer_fd() >= 0) loop_.unwatch(child_->answer_fd());
    child_->leave_to_reaper(true);
    child_.reset();
}

void BootBlessing::finish_child(std::optional<std::string> answer, TimePoint now) {
    Job job = std::exchange(job_, Job::None);
    switch (job) {
        case Job::None: return;
        case Job::Inspect:
            if (!answer || std::count(answer->begin(), answer->end(), '\n') < 4) {
                hooks_.note(LogLevel::Error, "boot blessing: could not tell which boot entry this is; nothing is blessed");
                done_ = true;
                return;
            }
            inspected(*answer);
            return act(now);
        case Job::Bless:
            done_ = true;
            if (answer && answer->starts_with("ok "))
                hooks_.note(LogLevel::Info, "boot blessed: " + boot_->entry + " is now " + answer->substr(3) + " (" +
                                                trial_.verdict().reason + ")");
            else
                hooks_.note(LogLevel::Error, "boot blessing failed: " + (answer ? answer->substr(answer->find(' ') + 1) : "the helper process ended without an answer"));
            return;
        case Job::RecordFailure:
            done_ = true;
            if (!answer || !answer->starts_with("ok"))
                hooks_.note(LogLevel::Error, "the failed boot was not recorded: " +
                                                 (answer ? answer->substr(answer->find(' ') + 1) : "no answer"));
            if (reboot_after_record_) hooks_.reboot();
            return;
    }
}

void BootBlessing::inspected(const std::string& answer) {
    std::vector<std::string> lines;
    for (size_t at = 0; at < answer.size();) {
        size_t end = answer.find('\n', at);
        lines.push_back(answer.substr(at, end - at));
        at = end == std::string::npos ? answer.size() : end + 1;
    }
    boot_ = TrialBoot{lines[0], lines[1], lines[2], lines[3] == "fallback"};
    for (size_t i = 4; i < lines.size(); ++i)
        if (!lines[i].empty()) hooks_.note(lines[i].starts_with("slot ") ? LogLevel::Warning : LogLevel::Error, lines[i]);
    if (boot_->entry.empty()) {
        hooks_.note(LogLevel::Info, "boot entry: none named by the boot loader (no LoaderBootCountPath nor LoaderEntrySelected): "
                                    "nothing to bless");
        done_ = true;
        return;
    }
    entry_ = update::parse_entry_name(boot_->entry);
    if (!entry_ || !entry_->tries_left) {
        hooks_.note(LogLevel::Info, "boot entry " + boot_->entry + " has no boot counter: nothing to bless");
        done_ = true;
        return;
    }
    hooks_.note(LogLevel::Info, "trial boot of slot " + boot_->slot + " (" + boot_->entry + ", " +
                                    std::to_string(*entry_->tries_left) + " tries left after this one)");
}

void BootBlessing::act(TimePoint now) {
    if (done_ || !boot_ || job_ != Job::None) return;
    const TrialVerdict verdict = trial_.verdict();
    BootBlessingPaths paths = paths_;
    TrialBoot boot = *boot_;
    if (verdict.kind == TrialVerdict::Healthy) {
        hooks_.note(LogLevel::Info, "boot healthy (" + verdict.reason + "): blessing " + boot.entry);
        start_child(Job::Bless, [paths, boot, verdict] {
            auto blessed = bless_boot(paths, boot, now_rfc3339(), verdict, true);
            return blessed ? "ok " + *blessed : "error " + blessed.error().describe();
        }, now);
    } else if (verdict.kind == TrialVerdict::Failed) {
        // The last try with no other slot to go to would come back here: stay up instead.
        reboot_after_record_ = *entry_->tries_left > 0 || boot.fallback;
        hooks_.note(LogLevel::Error, "trial boot failed (" + verdict.step + "): " + verdict.reason +
                                         (reboot_after_record_ ? "; rebooting, so that the boot counter moves on"
                                                               : "; no other slot can boot: staying up"));
        start_child(Job::RecordFailure, [paths, boot, verdict] {
            auto recorded = record_failed_boot(paths, boot, now_rfc3339(), verdict);
            return recorded ? std::string("ok") : "error " + recorded.error().describe();
        }, now);
    }
}

void BootBlessing::observe(const std::function<std::vector<supervisor::ServiceStatus>()>& statuses, TimePoint now) {
    if (done_ || trial_.verdict().kind != TrialVerdict::Undecided) return;
    if (trial_.observe(statuses(), now).kind == TrialVerdict::Undecided) return;
    inspect(now);  // a verdict before the boot settled: what the boot is is needed now
    act(now);
}

void BootBlessing::critical_failed(const supervisor::ServiceFailedCritical& failure, TimePoint now) {
    if (done_ || trial_.verdict().kind != TrialVerdict::Undecided) return;
    trial_.critical_failed(failure.name, failure.reason);
    inspect(now);
    act(now);
}

std::optional<TimePoint> BootBlessing::next_deadline() const {
    std::optional<TimePoint> deadline;
    if (!done_) deadline = trial_.next_deadline();
    if (child_ && (!deadline || child_deadline_ < *deadline)) deadline = child_deadline_;
    return deadline;
}

}  // namespace berth::pid1
