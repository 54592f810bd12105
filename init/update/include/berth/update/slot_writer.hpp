// Applying a bundle to the slot the host did not boot from, in RAUC's order (bad → write → good),
// in systemd-boot's terms (docs/updates.md, "Applying"):
//
//   1. check: signature, architecture, image family, version, every size — before any write;
//   2. read the parts, checking each hash (staged in memory when they fit the budget: then a bad
//      bundle never touches the disk at all);
//   3. remove the target slot's boot entries, fsync;
//   4. write the root to the slot's partition, flush, drop it from the page cache, read it back and
//      compare the hash;
//   5. kernel and initramfs to the slot's directory on the ESP under temporary names, fsync, rename;
//   6. the new entry with a boot counter (berth-b+3.conf) under a name systemd-boot ignores, fsync,
//      rename, fsync the directory.
// The booted slot's partition, files and entry are never opened for writing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/update/bundle.hpp"

namespace berth::update {

// Where things are: block devices and the ESP's mount point on a host; files and directories in tests.
struct SlotLayout {
    std::string booted_slot;    // "a" or "b"
    std::string target_slot;    // the other one
    std::string target_device;  // the target slot's root partition
    std::string esp;            // the ESP's mount point, writable while this runs
};

// What the running host is, for the checks.
struct HostFacts {
    std::string version;        // the running version
    std::string architecture;   // "x86_64"
    std::string compatible;     // the image family
    std::vector<std::string> failed_versions;  // versions whose boot failed here before
};

// The points an apply passes, in order, once every check has passed (docs/updates.md, "Power
// cuts"): the job records the apply as in progress at the first, and the power-cut tests stop it at
// each. Up to entry-synced the target slot has no entry (unbootable); from entry-renamed on it is
// complete.
inline constexpr std::array<std::string_view, 11> kApplySteps = {
    "clearing-target",   // about to remove the target slot's entry and boot files
    "target-cleared",    // removed and synced; the root not yet touched
    "root-started",      // the first chunk of the root written
    "root-half",         // half of it
    "root-written",      // all of it written, not yet flushed
    "root-verified",     // flushed and read back
    "kernel-synced",     // vmlinuz.new written and synced, not yet renamed
    "initramfs-synced",  // vmlinuz in place; initramfs.img.new synced, not yet renamed
    "entry-synced",      // both in place; the entry's .new synced, not yet renamed
    "entry-renamed",     // the entry in place, its directory not yet synced
    "installed",         // everything synced
};
bool is_apply_step(std::string_view step);
// Called at each step; an error stops the apply there (what a crash at that point leaves).
using StepHook = std::function<Result<void>(std::string_view step, const BundleManifest& manifest)>;

struct ApplyOptions {
    bool allow_downgrade = false;  // a version not newer than the running one
    bool force = false;            // a version that already failed on this host
    uint64_t memory_budget = 0;    // stage the parts in memory when they fit; 0: never (stream)
    int tries = 3;                 // boot tries the new entry gets
    StepHook at_step;              // optional
};

struct Progress {
    // "root", "kernel", "initramfs" (received), "target-cleared" (the target slot's entry is gone:
    // from here on a failure leaves it unbootable), "write", "verify", "done"
    std::string phase;
    uint64_t done = 0, total = 0;
};
using ProgressSink = std::function<void(const Progress&)>;

struct ApplyReport {
    BundleManifest manifest;
    std::string signer;     // key id
    std::string entry;      // the entry file written, e.g. "berth-b+3.conf"
    bool staged = false;    // parts checked in memory before any write
};

// The refusals that need no byte of the parts: architecture, family, versions. Pure.
Result<void> check_applicable(const BundleManifest& manifest, const HostFacts& host, const ApplyOptions& options);

// Sizes: the root against its partition, kernel + initramfs against the ESP's free space plus the
// target slot's current files (removed first), each rounded up to the ESP's block size. Pure.
struct SpaceFacts {
    uint64_t target_device_bytes = 0;
    uint64_t esp_free_bytes = 0, esp_block_size = 4096;
    uint64_t replaced_esp_bytes = 0;  // the target slot's kernel + initramfs + entry now
};
Result<void> check_space(const BundleManifest& manifest, const SpaceFacts& space);

// Boot entries: "berth-b+3.conf" and its text.
std::string counting_entry_name(std::string_view slot, int tries);
std::string entry_text(const BundleManifest& manifest, std::string_view slot);
// Whether `file` is one of `slot`'s entries: berth-b.conf, berth-b+N.conf, berth-b+N-M.conf (or a
// temporary one this code left).
bool is_slot_entry(std::string_view file, std::string_view slot);

Result<ApplyReport> apply_bundle(ByteSource& source, const std::vector<TrustedKey>& trusted, const SlotLayout& layout,
                                 const HostFacts& host, const ApplyOptions& options, const ProgressSink& progress);

}  // namespace berth::update
