// The root slot through dm-verity: every block read from it is checked against the root hash the
// boot entry names, so a changed byte is an I/O error, never silently wrong data. A slot is the
// erofs data (4096-byte blocks) followed by its sha256 hash tree (image/make-slot.sh); the
// kernel command line says where (image/verity-cmdline.sh writes the words, docs/image.md).
// Parsing and the table are pure (unit-tested); open_verity_device() is the executor (QEMU tests).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::pid1 {

// Both the data and the hash tree: 4096-byte blocks, sha256 (what make-slot.sh writes).
inline constexpr std::uint64_t kVerityBlockSize = 4096;

struct VerityParameters {
    std::string root_hash;        // berth.verity=: 64 hex digits, lowercase
    std::string salt;             // berth.verity.salt=: hex, lowercase ("-": none)
    std::uint64_t data_blocks = 0;  // berth.verity.blocks=: 4096-byte blocks of erofs data
    std::uint64_t hash_offset = 0;  // berth.verity.hash_offset=: bytes from the slot's start to the tree
};

// The berth.verity* words of the kernel command line (key → value) → the parameters; none of
// them → nullopt (an unverified root). A malformed, missing or unknown word is an error naming it.
Result<std::optional<VerityParameters>> parse_verity_words(const std::map<std::string, std::string>& words);

// The dm-verity table line for `device` ("major:minor" or a path) as both data and hash device:
// "1 <dev> <dev> 4096 4096 <blocks> <hash start block> sha256 <root hash> <salt>". No optional
// arguments: a block that does not verify is an I/O error for whoever reads it (the kernel
// logs which block); restart_on_corruption would reboot a running host for one bad block of a
// file nobody needs, and a mount or exec that fails at boot already reboots (machine.cpp).
std::string verity_table(const VerityParameters& params, const std::string& device);

// One device-mapper control request (struct dm_ioctl, then for a table load one
// dm_target_spec + its NUL-terminated parameters), as the kernel reads it. `sectors`/`target`
// empty: no target (create, resume).
struct DmTarget {
    std::uint64_t sectors = 0;  // 512-byte sectors the target maps, from sector 0
    std::string type;           // "verity"
    std::string parameters;     // its table line
};
Result<std::vector<std::uint64_t>> dm_request(const std::string& name, const std::string& uuid, std::uint32_t flags,
                                              const std::optional<DmTarget>& target);

// Creates the read-only dm-verity device `name` over `data_device` (/dev/vda2) and returns its
// node (/dev/dm-0). Needs dm_mod and dm_verity loaded; the kernel log says why a table is refused.
Result<std::string> open_verity_device(const std::string& name, const std::string& data_device,
                                       const VerityParameters& params);

}  // namespace berth::pid1
