// Boot entries and their counters, as systemd-boot names them (Boot Loader Specification, "Boot
// counting"): `berth-b+3.conf` has 3 tries left; each try renames it (`berth-b+2-1.conf`: 2 left,
// 1 done); at `+0-N` it sorts last and the other slot boots. Blessing drops the counter
// (`berth-b.conf`). Pure text functions: no file is read here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::update {

struct BootEntryName {
    std::string base;               // "berth-b": the name without counter and ".conf"
    std::optional<int> tries_left;  // +N; none: the entry has no counter (blessed, or never counted)
    std::optional<int> tries_done;  // -M; none before the first try
    bool operator==(const BootEntryName&) const = default;
};

// "berth-b+2-1.conf" → {"berth-b", 2, 1}; "berth-b.conf" → {"berth-b", none, none}. A path is
// allowed ("\loader\entries\berth-b+2.conf", "/efi/loader/entries/..."): its last part counts.
// Not a ".conf" name, or an empty base: none. A '+' not followed by a well-formed counter is
// part of the base, as systemd-boot reads it.
std::optional<BootEntryName> parse_entry_name(std::string_view name);
// {"berth-b", 2, 1} → "berth-b+2-1.conf".
std::string entry_file_name(const BootEntryName& entry);
// The name once blessed: "berth-b.conf".
std::string blessed_file_name(const BootEntryName& entry);
// "berth-b" → "b"; a base that is not "berth-<slot>" → "".
std::string slot_of_entry(std::string_view base);
// The counter says the tries are spent (+0-N): the boot loader has given up on this entry.
bool tries_spent(const BootEntryName& entry);
// Among these entry file names, one of a slot other than `slot` that systemd-boot would still
// choose over a spent entry (no counter, or tries left). Without one, a spent entry is booted
// again all the same: rebooting a failed boot would only loop.
bool other_slot_can_boot(const std::vector<std::string>& entry_files, std::string_view slot);

// The contents of efivarfs's LoaderBootCountPath-<GUID> file: 4 bytes of attributes, then a
// UTF-16LE path with a NUL ("\loader\entries\berth-a+2-1.conf"). Returns the path in ASCII;
// none if it is not such a value (too short, odd length, a character outside ASCII).
std::optional<std::string> parse_efi_string_variable(std::string_view contents);

// The `version` line of a boot entry file ("version 0.2.0"), "" if it has none.
std::string entry_version(std::string_view entry_text);
// VERSION_ID of an os-release file ("VERSION_ID=0.2.0" or "VERSION_ID=\"0.2.0\""), "" if none.
std::string os_release_version(std::string_view os_release_text);

}  // namespace berth::update
