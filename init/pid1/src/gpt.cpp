#include "berth/pid1/gpt.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace berth::pid1 {
namespace {

constexpr uint64_t kAlignBytes = 1 << 20;  // partitions end on MiB boundaries, like the image's

uint64_t u64(std::string_view s, size_t at) {
    uint64_t v = 0;
    std::memcpy(&v, s.data() + at, 8);  // GPT is little-endian, as is every machine Berth runs on
    return v;
}
uint32_t u32(std::string_view s, size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, s.data() + at, 4);
    return v;
}
void put64(std::string& s, size_t at, uint64_t v) { std::memcpy(s.data() + at, &v, 8); }
void put32(std::string& s, size_t at, uint32_t v) { std::memcpy(s.data() + at, &v, 4); }

uint32_t crc(std::string_view bytes) {
    return static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Header fields (UEFI spec, "GPT Header").
enum : size_t {
    kHeaderSize = 12, kHeaderCrc = 16, kMyLba = 24, kAlternateLba = 32, kFirstUsable = 40, kLastUsable = 48,
    kEntriesLba = 72, kEntryCount = 80, kEntrySize = 84, kEntriesCrc = 88,
};
// Entry fields.
enum : size_t { kFirstLba = 32, kLastLba = 40, kName = 56, kNameBytes = 72 };

std::string with_crc(std::string header) {
    uint32_t size = u32(header, kHeaderSize);
    put32(header, kHeaderCrc, 0);
    put32(header, kHeaderCrc, crc(std::string_view(header).substr(0, size)));
    return header;
}

std::u16string entry_name(std::string_view entry) {
    std::u16string name;
    for (size_t i = 0; i + 1 < kNameBytes; i += 2) {
        char16_t c = static_cast<char16_t>(static_cast<unsigned char>(entry[kName + i]) | static_cast<unsigned char>(entry[kName + i + 1]) << 8);
        if (c == 0) break;
        name += c;
    }
    return name;
}

}  // namespace

Result<std::optional<GptRewrite>> plan_growth(std::string_view head, uint64_t disk_bytes, uint64_t sector_size,
                                              std::u16string_view name) {
    if (sector_size < 512 || head.size() < 2 * sector_size) return fail("GPT: the disk's head is too short");
    std::string header(head.substr(sector_size, sector_size));
    if (header.compare(0, 8, "EFI PART") != 0) return fail("GPT: no header at LBA 1");
    uint32_t header_size = u32(header, kHeaderSize);
    if (header_size < 92 || header_size > sector_size) return fail("GPT: header size " + std::to_string(header_size));
    if (with_crc(header) != header) return fail("GPT: the primary header's CRC does not match");
    uint64_t entries_lba = u64(header, kEntriesLba);
    uint32_t count = u32(header, kEntryCount), entry_size = u32(header, kEntrySize);
    if (entry_size < 128 || count == 0 || count > 1024) return fail("GPT: unexpected entry array");
    uint64_t entries_bytes = uint64_t{count} * entry_size;
    uint64_t entries_sectors = (entries_bytes + sector_size - 1) / sector_size;
    if (entries_lba * sector_size + entries_bytes > head.size()) return fail("GPT: the entry array lies beyond the head read");
    std::string entries(head.substr(entries_lba * sector_size, entries_bytes));
    if (crc(entries) != u32(header, kEntriesCrc)) return fail("GPT: the entry array's CRC does not match");

    // The named partition, and the end of every partition.
    std::optional<uint32_t> index;
    uint64_t last_end = 0;
    for (uint32_t i = 0; i < count; ++i) {
        std::string_view e = std::string_view(entries).substr(uint64_t{i} * entry_size, entry_size);
        if (std::all_of(e.begin(), e.begin() + 16, [](char c) { return c == 0; })) continue;  // unused
        last_end = std::max(last_end, u64(e, kLastLba));
        if (entry_name(e) == name) index = i;
    }
    if (!index) return fail("GPT: no partition named as asked");
    std::string_view target = std::string_view(entries).substr(uint64_t{*index} * entry_size, entry_size);
    uint64_t first = u64(target, kFirstLba), old_last = u64(target, kLastLba);
    if (old_last != last_end) return fail("GPT: the partition is not the last one on the disk");

    uint64_t disk_sectors = disk_bytes / sector_size;
    uint64_t backup_header_lba = disk_sectors - 1;
    uint64_t backup_entries_lba = backup_header_lba - entries_sectors;
    uint64_t last_usable = backup_entries_lba - 1;
    uint64_t align = kAlignBytes / sector_size;
    uint64_t new_last = (last_usable + 1) / align * align - 1;
    if (new_last <= old_last || new_last - old_last < align) return std::optional<GptRewrite>();  // already there

    GptRewrite plan;
    plan.growth = {*index + 1, first, old_last, new_last, sector_size};
    put64(entries, uint64_t{*index} * entry_size + kLastLba, new_last);
    put64(header, kAlternateLba, backup_header_lba);
    put64(header, kLastUsable, last_usable);
    put32(header, kEntriesCrc, crc(entries));
    plan.primary_header = with_crc(header);
    plan.entries = entries;
    plan.primary_entries_lba = entries_lba;
    plan.backup_entries_lba = backup_entries_lba;
    std::string backup = header;
    put64(backup, kMyLba, backup_header_lba);
    put64(backup, kAlternateLba, 1);
    put64(backup, kEntriesLba, backup_entries_lba);
    plan.backup_header = with_crc(backup);
    return std::optional<GptRewrite>(std::move(plan));
}

Result<std::optional<PartitionGrowth>> grow_last_partition(int disk_fd, uint64_t disk_bytes, uint64_t sector_size,
                                                           std::u16string_view name) {
    std::string head(34 * sector_size, '\0');  // LBA 0-33: protective MBR, header, 128 entries of 128 bytes
    if (::pread(disk_fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) return fail_sys("read the partition table");
    auto plan = TRY(plan_growth(head, disk_bytes, sector_size, name));
    if (!plan) return std::optional<PartitionGrowth>();
    auto write_at = [&](const std::string& bytes, uint64_t lba) -> Result<void> {
        if (::pwrite(disk_fd, bytes.data(), bytes.size(), static_cast<off_t>(lba * sector_size)) != static_cast<ssize_t>(bytes.size()))
            return fail_sys("write the partition table at LBA " + std::to_string(lba));
        return {};
    };
    // The backup at the new end first: until the primary is rewritten, the old table stands.
    TRY(write_at(plan->entries, plan->backup_entries_lba));
    TRY(write_at(plan->backup_header, disk_bytes / sector_size - 1));
    if (::fsync(disk_fd) != 0) return fail_sys("fsync the disk");
    TRY(write_at(plan->entries, plan->primary_entries_lba));
    TRY(write_at(plan->primary_header, 1));
    if (::fsync(disk_fd) != 0) return fail_sys("fsync the disk");
    return std::optional<PartitionGrowth>(plan->growth);
}

}  // namespace berth::pid1
