// The record of a slot's last trial boot, kept on the state partition (it outlives both slots):
// /var/lib/berth/update/boot-<slot>.json, one JSON object per file, replaced atomically. berth-init
// writes it when it blesses a boot, when a boot fails (before it reboots), and when a boot finds
// the other slot's tries spent; `berthctl update status` reads it. Format: docs/updates.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::update {

inline constexpr const char* kBootRecordDir = "/var/lib/berth/update";

enum class BootOutcome { Blessed, Failed };
const char* boot_outcome_name(BootOutcome outcome);  // "blessed", "failed"

struct BootRecord {
    std::string slot;       // "a"
    std::string version;    // the slot's image version (os-release VERSION_ID, or its entry's `version`)
    std::string entry;      // the entry's file name at that boot: "berth-a+2-1.conf"
    BootOutcome outcome = BootOutcome::Failed;
    std::string step;       // what decided: "healthy", "critical service", "health timeout", "tries spent"
    std::string reason;     // in words: "critical service 'web' failed: exited with code 1"
    std::string time;       // RFC 3339, UTC, when it was decided (the wall clock may be unset: 1970)
    int tries_left = -1;    // the entry's counter at that boot; -1: unknown
    bool operator==(const BootRecord&) const = default;
};

// One JSON object, with a trailing newline.
std::string format_boot_record(const BootRecord& record);
// The inverse. Strict: an object with every key of the right type, a known outcome, a slot of
// [a-z0-9]; other keys are ignored (later versions may add some). At most 64 KiB.
Result<BootRecord> parse_boot_record(std::string_view json);

// "<dir>/boot-<slot>.json".
std::string boot_record_path(const std::string& dir, const std::string& slot);

// Every record in `dir` (boot-*.json), by slot. A record that does not parse is an error naming
// its file; a missing directory is no records.
Result<std::vector<BootRecord>> read_boot_records(const std::string& dir = kBootRecordDir);

// A root that cannot be mounted (dm-verity refuses a block) stops the boot in the initramfs, long
// before the blessing that records a failed try: the initramfs leaves this note on the state
// partition instead (<dir>/early-failure-<slot>.json), and the boot of the other slot that finds
// the slot's tries spent takes the reason from it when the note is about that entry's system
// (the same root hash). Not strict: a note that does not parse is no note.
struct EarlyFailure {
    std::string slot, root_hash, reason, time;
    bool operator==(const EarlyFailure&) const = default;
};
std::string early_failure_path(const std::string& dir, const std::string& slot);
std::string format_early_failure(const EarlyFailure& note);
std::optional<EarlyFailure> parse_early_failure(std::string_view json);
// Whether the note is about the system a boot entry (its text) boots: the entry's options carry
// the same berth.verity= root hash.
bool early_failure_is_for(const EarlyFailure& note, std::string_view entry_text);

}  // namespace berth::update
