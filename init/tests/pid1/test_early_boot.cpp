// The initramfs role's parsing: kernel command line, block device uevents, partition lookup,
// and the superblock check that decides whether the state partition is formatted.
#include <catch2/catch.hpp>

#include "berth/pid1/early_boot.hpp"

using namespace berth::pid1;

TEST_CASE("boot parameters come from the kernel command line", "[unit][early-boot]") {
    auto p = parse_boot_parameters("BOOT_IMAGE=/vmlinuz console=ttyS0,115200 root=PARTLABEL=root-b ro berth.slot=b quiet\n");
    REQUIRE(p);
    CHECK(p->root == "PARTLABEL=root-b");
    CHECK(p->slot == "b");
    CHECK(p->state == "PARTLABEL=state");
    CHECK(p->root_fstype == "erofs");
    CHECK(p->rootwait_seconds == 15);
    CHECK(p->init == "/usr/bin/berth-init");

    auto q = parse_boot_parameters("root=/dev/vda2 rootfstype=squashfs berth.state=/dev/vdb berth.rootwait=3 init=/sbin/x");
    REQUIRE(q);
    CHECK(q->root == "/dev/vda2");
    CHECK(q->root_fstype == "squashfs");
    CHECK(q->state == "/dev/vdb");
    CHECK(q->rootwait_seconds == 3);
    CHECK(q->init == "/sbin/x");
}

TEST_CASE("a command line without root= or with a bad rootwait is refused", "[unit][early-boot]") {
    auto none = parse_boot_parameters("console=ttyS0 quiet");
    REQUIRE_FALSE(none);
    CHECK(none.error().describe() == "kernel command line has no root= (expected root=PARTLABEL=root-a)");
    auto bad = parse_boot_parameters("root=PARTLABEL=root-a berth.rootwait=soon");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().describe() == "kernel command line: berth.rootwait='soon' is not a number of seconds (1..3600)");
    // Numbers that do not fit (strtol clamped them) or carry trailing text.
    for (std::string value : {"99999999999", "99999999999999999999999999999", "-1", "0", "3601", "5s", "0x10"}) {
        auto out_of_range = parse_boot_parameters("root=PARTLABEL=root-a berth.rootwait=" + value);
        REQUIRE_FALSE(out_of_range);
        CHECK(out_of_range.error().describe() ==
              "kernel command line: berth.rootwait='" + value + "' is not a number of seconds (1..3600)");
    }
}

TEST_CASE("partitions are found by GPT label or device name", "[unit][early-boot]") {
    std::vector<BlockDevice> devices = {
        parse_block_uevent("MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\nDISKSEQ=1\n"),
        parse_block_uevent("MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\nPARTN=1\nPARTNAME=esp\n"),
        parse_block_uevent("MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nPARTN=2\nPARTNAME=root-a\n"),
        parse_block_uevent("MAJOR=254\nMINOR=4\nDEVNAME=vda4\nDEVTYPE=partition\nPARTN=4\nPARTNAME=state\n"),
    };
    CHECK(devices[1].name == "vda1");
    CHECK(devices[1].partname == "esp");
    CHECK(find_block_device("PARTLABEL=root-a", devices) == "vda2");
    CHECK(find_block_device("PARTLABEL=state", devices) == "vda4");
    CHECK(find_block_device("PARTLABEL=root-b", devices).empty());
    CHECK(find_block_device("/dev/vda", devices) == "vda");
    CHECK(find_block_device("/dev/vdb", devices).empty());
    CHECK(describe_block_devices(devices) == "vda, vda1 (esp), vda2 (root-a), vda4 (state)");
    CHECK(describe_block_devices({}) == "none (is the disk driver, e.g. virtio_blk, loaded?)");
}

TEST_CASE("the ext superblock magic decides whether the state partition is new", "[unit][early-boot]") {
    std::string zeros(4096, '\0');
    CHECK_FALSE(has_ext_magic(zeros));
    std::string ext = zeros;
    ext[1080] = '\x53';
    ext[1081] = '\xEF';
    CHECK(has_ext_magic(ext));
    CHECK_FALSE(has_ext_magic(ext.substr(0, 1081)));  // a short read is not a filesystem
}

TEST_CASE("a cleanly unmounted state filesystem skips the check", "[unit][early-boot]") {
    std::string ext(4096, '\0');
    ext[1080] = '\x53';
    ext[1081] = '\xEF';
    CHECK_FALSE(ext_is_clean(ext));  // s_state 0: mounted, not cleanly unmounted
    ext[1024 + 58] = 1;              // EXT2_VALID_FS
    CHECK(ext_is_clean(ext));
    ext[1024 + 58] = 3;              // ... and EXT2_ERROR_FS
    CHECK_FALSE(ext_is_clean(ext));
    CHECK_FALSE(ext_is_clean(std::string(4096, '\0')));
}

TEST_CASE("FAT's dirty flag is read from the boot sector's state byte, FAT32 and FAT16") {
    std::string sector(512, '\0');
    sector[510] = '\x55';
    sector[511] = '\xaa';
    std::string fat32 = sector;  // BPB_FATSz16 = 0
    CHECK_FALSE(fat_volume_dirty(fat32));
    fat32[0x41] = '\x01';
    CHECK(fat_volume_dirty(fat32));
    fat32[0x41] = '\x02';  // another bit of the byte
    CHECK_FALSE(fat_volume_dirty(fat32));

    std::string fat16 = sector;
    fat16[22] = '\x20';  // 32 sectors per FAT
    fat16[0x41] = '\x01';  // FAT32's place means nothing here
    CHECK_FALSE(fat_volume_dirty(fat16));
    fat16[0x25] = '\x01';
    CHECK(fat_volume_dirty(fat16));

    fat16[511] = 0;  // no boot sector signature: not FAT
    CHECK_FALSE(fat_volume_dirty(fat16));
    CHECK_FALSE(fat_volume_dirty(fat32.substr(0, 100)));
}
