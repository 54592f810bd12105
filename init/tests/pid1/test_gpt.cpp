// Growing the state partition to the disk's end, on disk images made by sgdisk (as the image build
// makes them) and checked by sgdisk afterwards.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "berth/pid1/gpt.hpp"
#include "berth/sys.hpp"
#include "skip.hpp"

using berth::pid1::grow_last_partition;
using berth::pid1::plan_growth;

namespace {

std::string shell(const std::string& command) {
    std::string out;
    if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
        char buf[4096];
        while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

// The image's layout in small: esp, root-a, root-b, state (MiB sizes), then the disk grown to `mib`.
std::string make_disk(const std::string& path, int mib) {
    shell("rm -f " + path + " && truncate -s 22M " + path +
          " && sgdisk -o -a 2048 -n1:2048:+4M -c1:esp -n2:0:+4M -c2:root-a -n3:0:+4M -c3:root-b -n4:0:+8M -c4:state " + path);
    shell("truncate -s " + std::to_string(mib) + "M " + path);
    return path;
}

std::string head_of(const std::string& path) { return berth::sys::read_file(path)->substr(0, 34 * 512); }

}  // namespace

TEST_CASE("the state partition grows to the disk's end, and sgdisk finds the table sound") {
    if (::system("command -v sgdisk >/dev/null") != 0) return berth::test::skip("needs sgdisk (package gdisk)");
    std::string disk = make_disk("/tmp/berth-gpt-test.img", 200);
    auto fd = berth::sys::open(disk, O_RDWR);
    REQUIRE(fd);
    uint64_t bytes = 200ull << 20;
    auto grown = grow_last_partition(fd->get(), bytes, 512, u"state");
    REQUIRE(grown);
    REQUIRE(grown->has_value());
    CHECK((*grown)->number == 4);
    CHECK((*grown)->old_last_lba == (13 + 8) * 2048 - 1);
    // The last MiB-aligned sector before the backup table (33 sectors at the end).
    CHECK((*grown)->new_last_lba == 199 * 2048 - 1);

    std::string verified = shell("sgdisk -v " + disk);
    INFO(verified);
    CHECK_THAT(verified, Catch::Contains("No problems found"));
    std::string info = shell("sgdisk -i 4 " + disk);
    CHECK_THAT(info, Catch::Contains("Last sector: " + std::to_string(199 * 2048 - 1)));
    CHECK_THAT(info, Catch::Contains("Partition name: 'state'"));
    CHECK_THAT(shell("sgdisk -i 1 " + disk), Catch::Contains("Last sector: 10239"));  // the others as they were

    // A second boot finds nothing to do.
    auto again = grow_last_partition(fd->get(), bytes, 512, u"state");
    REQUIRE(again);
    CHECK_FALSE(again->has_value());
    ::unlink(disk.c_str());
}

TEST_CASE("the partition table is left alone when in doubt") {
    if (::system("command -v sgdisk >/dev/null") != 0) return berth::test::skip("needs sgdisk (package gdisk)");
    std::string disk = make_disk("/tmp/berth-gpt-test2.img", 100);
    std::string head = head_of(disk);
    uint64_t bytes = 100ull << 20;
    // The disk is no bigger than the table says: nothing to do.
    auto same = plan_growth(head, 22ull << 20, 512, u"state");
    REQUIRE(same);
    CHECK_FALSE(same->has_value());
    // Not the last partition.
    auto middle = plan_growth(head, bytes, 512, u"root-b");
    REQUIRE_FALSE(middle);
    CHECK_THAT(middle.error().describe(), Catch::Contains("not the last one"));
    // No such partition.
    CHECK_FALSE(plan_growth(head, bytes, 512, u"data"));
    // A damaged header or entry array.
    std::string bad_header = head;
    bad_header[512 + 40] ^= 1;
    CHECK_THAT(plan_growth(bad_header, bytes, 512, u"state").error().describe(), Catch::Contains("primary header's CRC"));
    std::string bad_entries = head;
    bad_entries[1024 + 200] ^= 1;
    CHECK_THAT(plan_growth(bad_entries, bytes, 512, u"state").error().describe(), Catch::Contains("entry array's CRC"));
    // Not a GPT disk at all.
    CHECK_FALSE(plan_growth(std::string(34 * 512, '\0'), bytes, 512, u"state"));
    ::unlink(disk.c_str());
}
