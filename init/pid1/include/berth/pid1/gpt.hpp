// Growing the last partition of a GPT disk to the disk's end: a host's disk is usually larger than
// the image written to it, and the state partition (the last one) should have the rest. The plan
// is pure (bytes in, bytes out; unit-tested on sgdisk's disks); writing it is a few pwrites.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/result.hpp"

namespace berth::pid1 {

struct PartitionGrowth {
    uint32_t number = 0;           // 1-based, as the kernel counts
    uint64_t first_lba = 0;
    uint64_t old_last_lba = 0, new_last_lba = 0;
    uint64_t sector_size = 512;
};

// The rewritten table: primary header and entries at the start, the backup ones at the new end.
struct GptRewrite {
    PartitionGrowth growth;
    std::string primary_header;   // one sector, at LBA 1
    std::string entries;          // the entry array, at the primary's entries LBA and at backup_entries_lba
    uint64_t primary_entries_lba = 0;
    uint64_t backup_entries_lba = 0;
    std::string backup_header;    // one sector, at the disk's last LBA
};

// `head`: the disk's first sectors (LBA 0 up to the end of the primary entry array). Nothing to do
// (nullopt) when the partition named `name` already ends within 1 MiB of the disk's end; an error
// when the table is damaged or the partition is not the last one (then nothing is touched).
Result<std::optional<GptRewrite>> plan_growth(std::string_view head, uint64_t disk_bytes, uint64_t sector_size,
                                              std::u16string_view name);

// Reads the table of the disk open as `disk_fd`, and writes the plan: backup first, then primary
// (a cut in between leaves one valid table), then fsync.
Result<std::optional<PartitionGrowth>> grow_last_partition(int disk_fd, uint64_t disk_bytes, uint64_t sector_size,
                                                           std::u16string_view name);

}  // namespace berth::pid1
