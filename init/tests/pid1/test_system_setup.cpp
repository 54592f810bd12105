// PID 1's system setup plans: module order from modules.dep and the host mounts.
#include <catch2/catch.hpp>

#include "berth/pid1/system_setup.hpp"

using namespace berth::pid1;
using Strings = std::vector<std::string>;

TEST_CASE("modules load dependencies first, each once", "[unit][modules]") {
    const std::string dep =
        "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko "
        "kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio.ko:\n"
        "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
        "kernel/fs/erofs/erofs.ko:\n";
    auto order = module_load_order(dep, {"virtio_pci", "virtio-blk", "erofs"});
    REQUIRE(order);
    CHECK(*order == Strings{"kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko",
                            "kernel/drivers/virtio/virtio_pci_modern_dev.ko", "kernel/drivers/virtio/virtio_pci.ko",
                            "kernel/drivers/block/virtio_blk.ko", "kernel/fs/erofs/erofs.ko"});
    auto missing = module_load_order(dep, {"wireguard"});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().describe() == "module 'wireguard' is not in modules.dep");
}

TEST_CASE("modules that share nothing (but what is loaded) form groups that can load at once", "[unit][modules]") {
    const std::string dep =
        "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko "
        "kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n"
        "kernel/net/core/failover.ko:\n"
        "kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio.ko:\n"
        "kernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\n"
        "kernel/fs/fat/fat.ko:\n"
        "kernel/fs/nls/nls_cp437.ko:\n";
    const Strings names{"virtio_net", "virtio_rng", "vfat", "nls_cp437"};
    auto virtio_loaded = module_load_groups(dep, names, [](const std::string& m) { return m == "virtio" || m == "virtio_ring"; });
    REQUIRE(virtio_loaded);
    CHECK(*virtio_loaded == std::vector<Strings>{
                                {"kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko"},
                                {"kernel/drivers/char/hw_random/virtio-rng.ko"},
                                {"kernel/fs/fat/fat.ko", "kernel/fs/fat/vfat.ko"},
                                {"kernel/fs/nls/nls_cp437.ko"}});
    // With virtio still to load, the two virtio drivers are one group, in load order.
    auto none_loaded = module_load_groups(dep, {"virtio_net", "nls_cp437", "virtio_rng"}, [](const std::string&) { return false; });
    REQUIRE(none_loaded);
    CHECK(*none_loaded == std::vector<Strings>{
                              {"kernel/fs/nls/nls_cp437.ko"},
                              {"kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko", "kernel/net/core/failover.ko",
                               "kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko",
                               "kernel/drivers/char/hw_random/virtio-rng.ko"}});
    CHECK_FALSE(module_load_groups(dep, {"wireguard"}, [](const std::string&) { return false; }));
}

TEST_CASE("a module list: names, comments, the names loaded alongside and only until found", "[unit][modules]") {
    auto list = parse_module_list("erofs\next4   # the state\n\n#@alongside: the host's first needs\nvirtio_net qemu_fw_cfg\n"
                                  "#@until-found: disks, likeliest first\nvirtio_pci\nvirtio_blk # vdX\nsd_mod\n");
    CHECK(list.names == Strings{"erofs", "ext4"});
    CHECK(list.alongside == Strings{"virtio_net", "qemu_fw_cfg"});
    CHECK(list.until_found == Strings{"virtio_pci", "virtio_blk", "sd_mod"});
    CHECK(parse_module_list("").names.empty());
}

TEST_CASE("a machine mounts what a host needs, a test namespace only /proc", "[unit][mounts]") {
    Strings targets;
    for (const auto& step : host_mount_plan({.machine = true})) targets.push_back(step.target + ":" + step.type);
    CHECK(targets == Strings{"/proc:proc", "/sys:sysfs", "/dev:devtmpfs", "/dev/pts:devpts", "/dev/shm:tmpfs",
                             "/run:tmpfs", "/tmp:tmpfs", "/sys/fs/cgroup:cgroup2"});
    auto test = host_mount_plan({.machine = false});
    REQUIRE(test.size() == 1);
    CHECK(test[0].target == "/proc");
}
