// berth-init's early-boot role, as /init of the initramfs: load the disk modules, find the root
// slot named on the kernel command line and the state partition by GPT partition label, open the
// root through dm-verity when the command line names its root hash (verity.hpp), mount the
// read-only root and the state partition (formatting it on first boot), and switch root into the
// same binary as the machine's PID 1. Pure parsing here is unit-tested; run_early_boot() is the
// executor and only runs in a real (QEMU) boot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/pid1/verity.hpp"
#include "berth/result.hpp"

namespace berth::pid1 {

// Present only in the initramfs: how berth-init knows which role it has.
inline constexpr const char* kInitrdMarker = "/etc/initrd-release";
// Expedited RCU grace periods: on from the initramfs until the boot has settled.
inline constexpr const char* kRcuExpedited = "/sys/kernel/rcu_expedited";

struct BootParameters {
    std::string root;                     // root=PARTLABEL=root-a | root=/dev/vda2 (required)
    std::string slot;                     // berth.slot=a
    std::string state = "PARTLABEL=state";  // berth.state=...
    std::string root_fstype = "erofs";    // rootfstype=
    int rootwait_seconds = 15;            // berth.rootwait=N: how long to wait for the disks
    std::string init = "/usr/bin/berth-init";  // init= (what the new root runs as PID 1)
    std::string test_hang;                // berth.test.hang=after-ready: a test hook (InitOptions)
    std::optional<VerityParameters> verity;  // berth.verity=<root hash> berth.verity.*=: none = unverified
};

// Reads /proc/cmdline's text. Unknown words are the kernel's business and ignored; the
// berth.verity* words are checked strictly (parse_verity_words).
Result<BootParameters> parse_boot_parameters(std::string_view cmdline);

struct BlockDevice {
    std::string name;       // "vda2" (DEVNAME from uevent: /dev/<name>)
    std::string partname;   // GPT partition label, "" if none
};

// One /sys/class/block/<dev>/uevent text ("MAJOR=..\nDEVNAME=vda2\nPARTNAME=root-a\n").
BlockDevice parse_block_uevent(std::string_view uevent);

// Every block device the kernel knows now, from /sys/class/block/*/uevent.
std::vector<BlockDevice> scan_block_devices();

// "PARTLABEL=x" → the device whose partition label is x; "/dev/name" → that device if listed.
// Empty when not (yet) present.
std::string find_block_device(const std::string& spec, const std::vector<BlockDevice>& devices);

// One line naming every block device and its label, for error messages.
std::string describe_block_devices(const std::vector<BlockDevice>& devices);

// ext2/3/4 superblock magic (0xEF53 at byte 1080 of the device). `head` holds the first bytes.
bool has_ext_magic(std::string_view head);
// Its s_state says "cleanly unmounted, no errors": the check can be skipped (what e2fsck -p
// would decide too, without starting it).
bool ext_is_clean(std::string_view head);
// The filesystem's block size and size in bytes from its superblock (0 when it is not ext).
uint64_t ext_block_size(std::string_view head);
uint64_t ext_size_bytes(std::string_view head);

// FAT's "volume dirty" flag in a boot sector (the state byte: offset 0x41 on FAT32, 0x25 on
// FAT12/16; bit 0). Linux sets it while the volume is mounted read-write and clears it when the
// volume is unmounted or remounted read-only: set on a volume nobody has mounted, it says a write
// was cut off (a power loss while the ESP was written). False for what is not a FAT boot sector.
bool fat_volume_dirty(std::string_view boot_sector);

// Runs a program and waits for it; returns its exit code. quiet: its stdout goes to /dev/null.
Result<int> run_program(const std::vector<std::string>& argv, bool quiet);
// The first `bytes` bytes of a device (fewer if it is smaller).
Result<std::string> read_head(const std::string& device, size_t bytes);

// Does the whole early boot and execs the new root's init. Returns only on failure, after
// printing what went wrong; the caller decides what to do then (reboot: the boot counter
// brings the other slot up).
Result<void> run_early_boot();

}  // namespace berth::pid1
