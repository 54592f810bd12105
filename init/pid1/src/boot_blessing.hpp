// A trial boot's end: blessed once it has been healthy long enough, or recorded as failed and
// rebooted so that systemd-boot's counter moves on (and, tries spent, the other slot boots).
// The verdict is update::BootTrial's (pure); this part finds out what the boot is (the entry in
// LoaderBootCountPath), and does the ESP and record work in short-lived children: PID 1 never
// waits on a disk. Records: update/boot_record.hpp; docs/updates.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/pid1/child_process.hpp"
#include "berth/supervisor/actions.hpp"
#include "berth/supervisor/service_state.hpp"
#include "berth/update/boot_entry.hpp"
#include "berth/update/boot_record.hpp"
#include "berth/update/boot_trial.hpp"
#include "event_loop.hpp"

namespace berth::pid1 {

struct BootBlessingPaths {
    std::string esp = "/efi";
    std::string efivars = "/sys/firmware/efi/efivars";
    std::string records = update::kBootRecordDir;
    std::string os_release = "/etc/os-release";
};

// What this boot is, as the inspecting child found it.
struct TrialBoot {
    std::string entry;    // "berth-a+2-1.conf"; "" when the boot loader named none
    std::string slot;     // "a"
    std::string version;  // VERSION_ID of the running root
    bool fallback = false;  // another slot's entry can boot (update::other_slot_can_boot)
};

struct BootBlessingHooks {
    std::function<void(supervisor::LogLevel, const std::string&)> note;
    std::function<void()> reboot;  // orderly, through the normal shutdown
};

class BootBlessing {
public:
    // How long a child may take (the ESP's modules and mount under emulation included).
    static constexpr auto kChildTime = std::chrono::seconds(30);

    BootBlessing(EventLoop& loop, update::TrialLimits limits, BootBlessingPaths paths, BootBlessingHooks hooks,
                 supervisor::TimePoint start);
    ~BootBlessing();

    // From the boot's settling on (or a verdict before it): what is this boot? In a child, which
    // also mounts the ESP and efivarfs and records the other slot's failure if its tries are spent.
    void inspect(supervisor::TimePoint now);
    // While undecided: the supervisor's statuses, asked for only then.
    void observe(const std::function<std::vector<supervisor::ServiceStatus>()>& statuses, supervisor::TimePoint now);
    void critical_failed(const supervisor::ServiceFailedCritical& failure, supervisor::TimePoint now);
    std::optional<supervisor::TimePoint> next_deadline() const;

    // The loop's events: the child's pipe (Source::BootBlessing), its reaping, the timer.
    void child_readable(supervisor::TimePoint now);
    bool reaped(pid_t pid);  // true if it was this part's child
    void tick(supervisor::TimePoint now);
    // Shutdown: a child still at work is stopped.
    void abandon();

private:
    enum class Job { None, Inspect, Bless, RecordFailure };
    void start_child(Job job, const std::function<std::string()>& work, supervisor::TimePoint now);
    void finish_child(std::optional<std::string> answer, supervisor::TimePoint now);
    void inspected(const std::string& answer);
    void act(supervisor::TimePoint now);

    EventLoop& loop_;
    update::BootTrial trial_;
    BootBlessingPaths paths_;
    BootBlessingHooks hooks_;
    bool inspection_started_ = false;
    std::optional<TrialBoot> boot_;               // known once inspected
    std::optional<update::BootEntryName> entry_;  // its entry, when it has a counter
    bool done_ = false;                           // nothing more to do this boot
    bool reboot_after_record_ = false;
    Job job_ = Job::None;
    std::optional<ChildTask> child_;
    supervisor::TimePoint child_deadline_{};
};

// The children's work, exposed for tests: what each writes is checked on a scratch tree.
// Inspects: reads LoaderBootCountPath, the slot and the version; records the other slot's
// failure if its entry's tries are spent without a record of success. Returns the boot and
// lines to log.
std::pair<TrialBoot, std::vector<std::string>> inspect_trial_boot(const BootBlessingPaths& paths,
                                                                 const std::string& slot,
                                                                 const std::string& now_rfc3339);
// Renames the entry to its blessed name on the (read-only) ESP, then writes the record.
Result<std::string> bless_boot(const BootBlessingPaths& paths, const TrialBoot& boot, const std::string& now_rfc3339,
                               const update::TrialVerdict& verdict, bool remount);
// Writes the record of a failed trial boot.
Result<void> record_failed_boot(const BootBlessingPaths& paths, const TrialBoot& boot,
                                const std::string& now_rfc3339, const update::TrialVerdict& verdict);

}  // namespace berth::pid1
