// Cgroups without root: layout detection from mountinfo fixtures, resources → file writes
// for both versions, path resolution, and create() against fake trees in a temp directory.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>

#include "berth/runtime/cgroups.hpp"
#include "berth/sys.hpp"

using namespace berth;
using namespace berth::runtime;
using namespace berth::runtime::cgroups;

namespace {

// This dev machine's /proc/self/mountinfo (hybrid: v1 controllers + cgroup2 with only hugetlb).
const char* kHybridMountinfo =
    "22 1 0:20 / /sys rw,relatime - sysfs sysfs rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A systemd host booted with cgroup v2 only.
const char* kUnifiedMountinfo =
    "24 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "25 24 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// An older systemd host on cgroup v1 only, with co-mounted controllers and flag options.
const char* kLegacyMountinfo =
    "25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory\n"
    "32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
    "rw,cpuset,clone_children\n"
    "33 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,pids\n";

// "memory.max=1048576" lines, in plan order, for exact comparisons.
std::vector<std::string> render(const std::vector<FileWrite>& writes) {
    std::vector<std::string> lines;
    for (const auto& w : writes) lines.push_back(w.file + "=" + w.value);
    return lines;
}

using Lines = std::vector<std::string>;

std::string error_of(const Result<std::vector<FileWrite>>& result) {
    REQUIRE_FALSE(result);
    return result.error().message;
}

struct TempDir {
    std::string path;
    TempDir() {
        char templ[] = "/tmp/berth-cgroups-XXXXXX";
        path = ::mkdtemp(templ);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("detect: hybrid layout of this dev machine", "[cgroups]") {
    auto host = detect_from_mountinfo(kHybridMountinfo, "hugetlb\n");
    REQUIRE(host.layout == Layout::Hybrid);
    REQUIRE(host.unified_root == "/sys/fs/cgroup/unified");
    REQUIRE(host.unified_controllers == std::vector<std::string>{"hugetlb"});
    REQUIRE(host.v1_roots.at("memory") == "/sys/fs/cgroup/memory");
    REQUIRE(host.v1_roots.at("cpuacct") == "/sys/fs/cgroup/cpuacct");
    REQUIRE(host.v1_roots.at("name=systemd") == "/sys/fs/cgroup/systemd");
    REQUIRE(host.v1_roots.size() == 9);
    REQUIRE_FALSE(host.v1_roots.count("rw"));
}

TEST_CASE("detect: unified and legacy layouts", "[cgroups]") {
    auto unified = detect_from_mountinfo(kUnifiedMountinfo, "cpuset cpu io memory hugetlb pids rdma misc\n");
    REQUIRE(unified.layout == Layout::Unified);
    REQUIRE(unified.unified_root == "/sys/fs/cgroup");
    REQUIRE(unified.unified_controllers.size() == 8);
    REQUIRE(unified.v1_roots.empty());

    auto legacy = detect_from_mountinfo(kLegacyMountinfo, "ignored");
    REQUIRE(legacy.layout == Layout::Legacy);
    REQUIRE(legacy.unified_root.empty());
    REQUIRE(legacy.unified_controllers.empty());
    REQUIRE(legacy.v1_roots.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct");
    REQUIRE(legacy.v1_roots.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct");
    REQUIRE(legacy.v1_roots.at("net_prio") == "/sys/fs/cgroup/net_cls,net_prio");
    REQUIRE(legacy.v1_roots.at("cpuset") == "/sys/fs/cgroup/cpuset");
    REQUIRE(legacy.v1_roots.at("name=systemd") == "/sys/fs/cgroup/systemd");
    for (const char* flag : {"xattr", "clone_children", "release_agent", "rw"}) REQUIRE_FALSE(legacy.v1_roots.count(flag));

    REQUIRE(detect_from_mountinfo("", "").layout == Layout::None);
    // Only a named hierarchy: no controllers, so no usable cgroups.
    REQUIRE(detect_from_mountinfo("26 25 0:23 / /x rw - cgroup cgroup rw,name=systemd\n", "").layout == Layout::None);
}

TEST_CASE("detect: escaped mount points and subtree binds", "[cgroups]") {
    auto host = detect_from_mountinfo(
        "50 1 0:40 /docker/abc /mnt/bound rw - cgroup2 cgroup2 rw\n"
        "51 1 0:40 / /mnt/my\\040cgroup rw,relatime shared:1 master:2 - cgroup2 none rw\n",
        "memory pids");
    REQUIRE(host.layout == Layout::Unified);
    REQUIRE(host.unified_root == "/mnt/my cgroup");
    REQUIRE(host.unified_controllers == std::vector<std::string>{"memory", "pids"});
}

TEST_CASE("detect_host reads this machine", "[cgroups]") {
    auto host = detect_host();
    REQUIRE(host);
    if (!host->unified_root.empty()) REQUIRE(std::filesystem::exists(host->unified_root + "/cgroup.controllers"));
}

TEST_CASE("plan_v2: memory", "[cgroups]") {
    Resources r;
    r.memory.limit = 2000;
    r.memory.reservation = 1000;
    r.memory.swap = 3000;  // memory+swap
    r.memory.swappiness = 10;  // no v2 file: dropped
    REQUIRE(render(plan_v2(r).value()) == Lines{"memory.max=2000", "memory.low=1000", "memory.swap.max=1000"});
    REQUIRE(plan_v2(r).value()[0].controller == "memory");
    REQUIRE(plan_v2(r).value()[2].field == "linux.resources.memory.swap");

    r.memory = {};
    r.memory.limit = 2000;
    r.memory.swap = -1;
    REQUIRE(render(plan_v2(r).value()) == Lines{"memory.max=2000", "memory.swap.max=max"});

    r.memory = {};
    r.memory.limit = -1;
    REQUIRE(render(plan_v2(r).value()) == Lines{"memory.max=max", "memory.swap.max=max"});

    r.memory = {};
    r.memory.limit = 2000;
    r.memory.swap = 2000;  // no swap at all
    REQUIRE(render(plan_v2(r).value()) == Lines{"memory.max=2000", "memory.swap.max=0"});

    r.memory.limit = 0;  // unset, as runc reads it
    r.memory.swap = std::nullopt;
    REQUIRE(plan_v2(r).value().empty());
}

TEST_CASE("plan_v2/plan_v1: memory errors name the field", "[cgroups]") {
    Resources r;
    r.memory.limit = 2000;
    r.memory.swap = 1000;
    const char* smaller = "linux.resources.memory.swap: swap (1000) is smaller than the memory limit (2000)";
    REQUIRE(error_of(plan_v2(r)) == smaller);
    REQUIRE(error_of(plan_v1(r)) == smaller);

    r.memory.limit = std::nullopt;
    REQUIRE(error_of(plan_v2(r)) == "linux.resources.memory.swap: a swap limit (1000) needs a memory limit");

    r.memory = {};
    r.memory.limit = -5;
    REQUIRE(error_of(plan_v2(r)) == "linux.resources.memory.limit: invalid value -5 (use -1 for unlimited)");

    r.memory = {};
    r.memory.swappiness = 101;
    REQUIRE(error_of(plan_v1(r)) == "linux.resources.memory.swappiness: invalid value 101 (0-100)");
}

TEST_CASE("plan_v2: cpu shares become weight", "[cgroups]") {
    auto weight = [](uint64_t shares) {
        Resources r;
        r.cpu.shares = shares;
        auto writes = plan_v2(r).value();
        REQUIRE(writes.size() == 1);
        REQUIRE(writes[0].file == "cpu.weight");
        return writes[0].value;
    };
    CHECK(weight(2) == "1");
    CHECK(weight(1) == "1");
    CHECK(weight(512) == "20");
    CHECK(weight(1024) == "39");
    CHECK(weight(262144) == "10000");
    CHECK(weight(1000000) == "10000");
}

TEST_CASE("plan_v2: cpu quota, period, burst, idle and cpuset", "[cgroups]") {
    auto cpu_max = [](std::optional<int64_t> quota, std::optional<uint64_t> period) {
        Resources r;
        r.cpu.quota = quota;
        r.cpu.period = period;
        return render(plan_v2(r).value());
    };
    CHECK(cpu_max(50000, 100000) == Lines{"cpu.max=50000 100000"});
    CHECK(cpu_max(20000, std::nullopt) == Lines{"cpu.max=20000 100000"});
    CHECK(cpu_max(-1, 50000) == Lines{"cpu.max=max 50000"});
    CHECK(cpu_max(std::nullopt, 200000) == Lines{"cpu.max=max 200000"});
    CHECK(cpu_max(-1, std::nullopt) == Lines{"cpu.max=max 100000"});
    CHECK(cpu_max(0, std::nullopt).empty());
    CHECK(error_of(plan_v2([] { Resources r; r.cpu.quota = -2; return r; }())) ==
          "linux.resources.cpu.quota: invalid value -2 (use -1 for unlimited)");

    Resources r;
    r.cpu.burst = 1000;
    r.cpu.idle = 1;
    r.cpu.cpus = "0-1";
    r.cpu.mems = "0";
    auto writes = plan_v2(r).value();
    REQUIRE(render(writes) == Lines{"cpu.max.burst=1000", "cpu.idle=1", "cpuset.cpus=0-1", "cpuset.mems=0"});
    REQUIRE(writes[2].controller == "cpuset");
}

TEST_CASE("plan_v2: pids, io, hugetlb", "[cgroups]") {
    auto pids = [](int64_t limit) {
        Resources r;
        r.pids_limit = limit;
        return render(plan_v2(r).value());
    };
    CHECK(pids(100) == Lines{"pids.max=100"});
    CHECK(pids(-1) == Lines{"pids.max=max"});
    CHECK(pids(0) == Lines{"pids.max=max"});

    Resources r;
    r.io.weight = 500;
    r.io.weight_device = {{8, 0, 300}};
    r.io.throttle_read_bps = {{8, 0, 1048576}};
    r.io.throttle_write_bps = {{8, 16, 2097152}};
    r.io.throttle_read_iops = {{8, 0, 100}};
    r.io.throttle_write_iops = {{8, 0, 50}};
    r.hugepage_limits = {{"2MB", 4194304}, {"1GB", 0}};
    auto writes = plan_v2(r).value();
    REQUIRE(render(writes) == Lines{"io.weight=default 4950", "io.weight=8:0 2930", "io.max=8:0 rbps=1048576",
                                    "io.max=8:16 wbps=2097152", "io.max=8:0 riops=100", "io.max=8:0 wiops=50",
                                    "hugetlb.2MB.max=4194304", "hugetlb.1GB.max=0"});
    REQUIRE(writes[0].controller == "io");
    REQUIRE(writes[3].field == "linux.resources.blockIO.throttleWriteBpsDevice");
    REQUIRE(writes[6].controller == "hugetlb");

    r = {};
    r.hugepage_limits = {{"../2MB", 1}};
    REQUIRE(error_of(plan_v2(r)) == "linux.resources.hugepageLimits: invalid page size '../2MB'");
}

TEST_CASE("plan_v2: unified entries are written last and validated", "[cgroups]") {
    Resources r;
    r.memory.limit = 4096;
    r.unified = {{"memory.high", "3000"}, {"cgroup.freeze", "0"}};
    auto writes = plan_v2(r).value();
    REQUIRE(render(writes) == Lines{"memory.max=4096", "cgroup.freeze=0", "memory.high=3000"});
    REQUIRE(writes[1].controller == "cgroup");
    REQUIRE(writes[2].controller == "memory");
    REQUIRE(writes[2].field == "linux.resources.unified[\"memory.high\"]");

    for (const char* bad : {"../memory.max", "memory/max", "nodot", ".max", "memory.", "memory..max"}) {
        Resources bad_r;
        bad_r.unified = {{bad, "1"}};
        auto error = error_of(plan_v2(bad_r));
        INFO(bad);
        REQUIRE(error == std::string("linux.resources.unified[\"") + bad +
                             "\"]: not a cgroup file name (want 'controller.file')");
    }
}

TEST_CASE("plan_v1: file names and values", "[cgroups]") {
    Resources r;
    r.memory.limit = 2000;
    r.memory.reservation = 1000;
    r.memory.swap = 3000;
    r.memory.swappiness = 60;
    r.memory.disable_oom_killer = true;
    r.cpu.shares = 1024;
    r.cpu.quota = -1;
    r.cpu.period = 50000;
    r.cpu.burst = 1000;
    r.cpu.cpus = "0";
    r.cpu.mems = "0";
    r.pids_limit = -1;
    r.io.weight = 500;
    r.io.weight_device = {{8, 0, 300}};
    r.io.throttle_read_bps = {{8, 0, 1048576}};
    r.io.throttle_write_iops = {{8, 0, 50}};
    r.hugepage_limits = {{"2MB", 4194304}};
    auto writes = plan_v1(r).value();
    REQUIRE(render(writes) == Lines{"memory.limit_in_bytes=2000",
                                    "memory.soft_limit_in_bytes=1000",
                                    "memory.memsw.limit_in_bytes=3000",
                                    "memory.swappiness=60",
                                    "memory.oom_control=1",
                                    "cpu.shares=1024",
                                    "cpu.cfs_period_us=50000",
                                    "cpu.cfs_quota_us=-1",
                                    "cpu.cfs_burst_us=1000",
                                    "cpuset.cpus=0",
                                    "cpuset.mems=0",
                                    "pids.max=max",
                                    "blkio.weight=500",
                                    "blkio.weight_device=8:0 300",
                                    "blkio.throttle.read_bps_device=8:0 1048576",
                                    "blkio.throttle.write_iops_device=8:0 50",
                                    "hugetlb.2MB.limit_in_bytes=4194304"});
    REQUIRE(writes[12].controller == "blkio");
    REQUIRE(writes[9].controller == "cpuset");

    r = {};
    r.memory.limit = -1;
    r.memory.swap = -1;
    REQUIRE(render(plan_v1(r).value()) == Lines{"memory.limit_in_bytes=-1", "memory.memsw.limit_in_bytes=-1"});

    r = {};
    r.unified = {{"memory.high", "1"}};
    REQUIRE(error_of(plan_v1(r)) == "linux.resources.unified needs cgroup v2");
}

TEST_CASE("resolve_path", "[cgroups]") {
    CHECK(resolve_path("", "c1").value() == "/berth/c1");
    CHECK(resolve_path("/machine/c1", "c1").value() == "/machine/c1");
    CHECK(resolve_path("pod/c1", "c1").value() == "/berth/pod/c1");
    CHECK(resolve_path("//a//./b/", "c1").value() == "/a/b");
    for (const char* bad : {"/a/../b", "../x", "a/..", "/.."}) {
        auto resolved = resolve_path(bad, "c1");
        REQUIRE_FALSE(resolved);
        REQUIRE(resolved.error().message == std::string("cgroupsPath '") + bad + "': '..' is not allowed");
    }
    REQUIRE_FALSE(resolve_path("", ".."));
    REQUIRE_FALSE(resolve_path("/", "c1"));
    REQUIRE_FALSE(resolve_path("", ""));
}

TEST_CASE("create: limits no controller can honour are errors naming field and controller", "[cgroups]") {
    Resources memory;
    memory.memory.limit = 1 << 20;

    auto hybrid = detect_from_mountinfo(kHybridMountinfo, "hugetlb");
    hybrid.v1_roots.erase("memory");
    auto created = Cgroup::create(hybrid, "/berth/c1", memory);
    REQUIRE_FALSE(created);
    REQUIRE(created.error().message ==
            "linux.resources.memory.limit: the memory controller is not available (cgroup2 at /sys/fs/cgroup/unified "
            "has no memory controller and no cgroup v1 memory hierarchy is mounted)");

    auto unified = detect_from_mountinfo(kUnifiedMountinfo, "cpu pids");
    created = Cgroup::create(unified, "/berth/c1", memory);
    REQUIRE_FALSE(created);
    REQUIRE(created.error().message ==
            "linux.resources.memory.limit: the memory controller is not available (cgroup2 at /sys/fs/cgroup has no "
            "memory controller)");

    Resources unified_entry;
    unified_entry.unified = {{"memory.high", "1"}};
    auto legacy = detect_from_mountinfo(kLegacyMountinfo, "");
    created = Cgroup::create(legacy, "/berth/c1", unified_entry);
    REQUIRE_FALSE(created);
    REQUIRE(created.error().message == "linux.resources.unified needs cgroup v2");

    Resources io;
    io.io.weight = 100;
    created = Cgroup::create(legacy, "/berth/c1", io);
    REQUIRE_FALSE(created);
    REQUIRE(created.error().message ==
            "linux.resources.blockIO.weight: the io controller is not available (no cgroup v1 blkio hierarchy is "
            "mounted and there is no cgroup2)");

    created = Cgroup::create(HostCgroups{}, "/berth/c1", memory);
    REQUIRE_FALSE(created);
    REQUIRE(created.error().message ==
            "linux.resources.memory.limit: the memory controller is not available (no cgroup filesystem is mounted)");
}

TEST_CASE("create: without controllers and without limits runs with a warning", "[cgroups]") {
    TempDir root;
    HostCgroups host;
    host.layout = Layout::Unified;
    host.unified_root = root.path;
    auto created = Cgroup::create(host, "/berth/c1", std::nullopt);
    REQUIRE(created);
    REQUIRE(created->warnings() == std::vector<std::string>{"cgroup2 has no controllers; running without resource limits"});
    REQUIRE(std::filesystem::is_directory(root.path + "/berth/c1"));

    auto none = Cgroup::create(HostCgroups{}, "/berth/c1", Resources{});
    REQUIRE(none);
    REQUIRE(none->warnings() == std::vector<std::string>{"no cgroup filesystem is mounted; running without cgroups"});
    REQUIRE(none->add_process(1));  // nothing to join
}

TEST_CASE("create: on a fake cgroup2 tree, delegates controllers and writes the files", "[cgroups]") {
    // Regular files stand in for the kernel's: create() only writes files that already exist.
    TempDir root;
    std::filesystem::create_directories(root.path + "/c1");
    for (const char* file : {"/cgroup.subtree_control", "/c1/memory.max", "/c1/pids.max"})
        REQUIRE(sys::write_file(root.path + file, ""));
    HostCgroups host;
    host.layout = Layout::Unified;
    host.unified_root = root.path;
    host.unified_controllers = {"cpu", "memory", "pids"};
    Resources r;
    r.memory.limit = 1 << 20;
    r.memory.swappiness = 0;
    r.pids_limit = 64;
    auto created = Cgroup::create(host, "/c1", r);
    REQUIRE(created);
    CHECK(sys::read_file(root.path + "/cgroup.subtree_control").value() == "+memory +pids");
    CHECK(sys::read_file(root.path + "/c1/memory.max").value() == "1048576");
    CHECK(sys::read_file(root.path + "/c1/pids.max").value() == "64");
    CHECK(created->warnings() == std::vector<std::string>{"linux.resources.memory.swappiness has no cgroup v2 equivalent; ignored"});

    // A write the "kernel" refuses (here: a missing file) names the field; a new leaf is removed again.
    r = {};
    r.cpu.shares = 1024;
    auto failed = Cgroup::create(host, "/c2", r);
    REQUIRE_FALSE(failed);
    REQUIRE(failed.error().message.rfind("linux.resources.cpu.shares: open '" + root.path + "/c2/cpu.weight'", 0) == 0);
    REQUIRE_FALSE(std::filesystem::exists(root.path + "/c2"));
}
