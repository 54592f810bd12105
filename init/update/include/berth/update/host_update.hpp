// The host's side of updates, for the update job berth-init runs (berth-update): what the host
// is, what its slots hold according to the ESP, the record of the last update, and rollback.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/paths.hpp"
#include "berth/result.hpp"
#include "berth/update/slot_writer.hpp"

namespace berth::update {

// Where a host keeps what updates read and write (tests point these at temporary directories).
struct HostPaths {
    std::string esp = "/efi";                        // the ESP's mount point
    std::string state_dir = "/var/lib/berth/update"; // records, on the state partition
    std::string keys_dir = paths::kUpdateKeys;
    std::string os_release = "/etc/os-release";
    std::string compatible = paths::kCompatible;
    std::string boot_slot = paths::kBootSlot;
};

std::string other_slot(std::string_view slot);

// The boot entries (*.conf) in an ESP's loader/entries directory, sorted; none if it is missing.
std::vector<std::string> entry_files(const std::string& entries_dir);

// The running host: version (os-release VERSION_ID), image family, architecture, and the
// versions whose boot failed here (the update records).
Result<HostFacts> read_host_facts(const HostPaths& paths);
Result<std::string> read_booted_slot(const HostPaths& paths);

// A slot as the ESP describes it.
struct SlotView {
    std::string slot;
    std::string entry;    // file name in loader/entries; empty: no entry (nothing bootable)
    std::string version;  // the entry's version line
    std::optional<int> tries_left, tries_done;
    bool boot_files = false;  // its kernel and initramfs are on the ESP (not empty)
    // "good" (no counter: blessed or installed with the disk), "trying" (tries left), "bad" (tries
    // spent: systemd-boot passes it over), "empty" (no entry, an entry without a version, or no
    // boot files).
    std::string state() const;
};
std::vector<SlotView> read_slots(const std::string& esp);

// The last update's outcome, kept on the state partition: {"action","version","slot","outcome",
// "reason","time",...}. Written through a temporary file and a rename.
Result<void> save_record(const HostPaths& paths, const std::string& name, const nlohmann::json& record);
std::optional<nlohmann::json> load_record(const HostPaths& paths, const std::string& name);
inline constexpr const char* kLastUpdateRecord = "last-update.json";
inline constexpr const char* kLastRollbackRecord = "last-rollback.json";
inline constexpr const char* kFailedVersionsRecord = "failed-versions.json";

// The record an apply leaves before it clears the target slot (step clearing-target), replaced by
// its outcome when it ends.
nlohmann::json in_progress_record(const nlohmann::json& started, const BundleManifest& manifest, std::string_view booted_slot);
// The last update's record as status shows it. Jobs run one at a time, so a record still
// "in-progress" when status is asked means the job was cut off (power loss, a kill): whether the
// install completed first is told by the target slot's entry on the ESP.
nlohmann::json last_update_view(nlohmann::json record, const std::vector<SlotView>& slots);

// Versions whose trial boot failed here: the boot records' (boot-<slot>.json), and those kept
// from earlier ones (a slot's record is replaced by its next boot's; the list is not).
std::vector<std::string> failed_versions(const HostPaths& paths);
Result<void> remember_failed_versions(const HostPaths& paths, const std::vector<std::string>& versions);

// Everything `berthctl update status` shows.
nlohmann::json status_json(const HostPaths& paths);

// The other slot boots next: it must be good (an entry with no counter and its boot files); the
// booted slot's entry is renamed to tries spent (+0-N), so systemd-boot passes it over. Returns
// what was done, in words.
Result<std::string> rollback(const HostPaths& paths);

// "2026-12-03T13:00:00Z" for now.
std::string utc_now();

}  // namespace berth::update
