// The root slot through dm-verity: the berth.verity* words of the kernel command line (strict:
// every malformed word is named), the verity table and the device-mapper requests built from them.
#include <catch2/catch.hpp>

#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>

#include <cstring>

#include "berth/pid1/early_boot.hpp"
#include "berth/pid1/verity.hpp"

using namespace berth::pid1;

namespace {

const std::string kHash = "4b6093eec09f0cb6b6860ea209923abe93ce3d9efba74385894cef2f4a96f2d3";
const std::string kSalt = "2b5cc91a28d4bc4dbb6ed09e8ec9d464a4b98a2a926760697b952c437abc20ec";
const std::string kWords = "berth.verity=" + kHash + " berth.verity.salt=" + kSalt +
                           " berth.verity.blocks=1221 berth.verity.hash_offset=5001216";

std::string error_of(const std::string& cmdline) {
    auto p = parse_boot_parameters("root=PARTLABEL=root-a " + cmdline);
    return p ? "(accepted)" : p.error().describe();
}

}  // namespace

TEST_CASE("the verity words of a boot entry give the slot's parameters", "[unit][verity]") {
    auto p = parse_boot_parameters("root=PARTLABEL=root-a berth.slot=a " + kWords + " ro console=ttyS0,115200 panic=-1\n");
    REQUIRE(p);
    REQUIRE(p->verity);
    CHECK(p->verity->root_hash == kHash);
    CHECK(p->verity->salt == kSalt);
    CHECK(p->verity->data_blocks == 1221);
    CHECK(p->verity->hash_offset == 5001216);
    CHECK(p->root == "PARTLABEL=root-a");

    // Upper-case hex is the same hash; "-" is dm-verity's "no salt".
    auto upper = parse_boot_parameters("root=/dev/vda2 berth.verity=" + std::string(64, 'A') +
                                       " berth.verity.salt=- berth.verity.blocks=1 berth.verity.hash_offset=4096");
    REQUIRE(upper);
    REQUIRE(upper->verity);
    CHECK(upper->verity->root_hash == std::string(64, 'a'));
    CHECK(upper->verity->salt == "-");
}

TEST_CASE("without verity words the root is unverified, as on old entries", "[unit][verity]") {
    auto p = parse_boot_parameters("root=PARTLABEL=root-a berth.slot=a ro verity=1 berth.verityx=2");
    REQUIRE(p);
    CHECK_FALSE(p->verity);
}

TEST_CASE("a malformed verity word is an error naming it", "[unit][verity]") {
    const std::string rest_salt = " berth.verity.salt=" + kSalt;
    const std::string rest_sizes = " berth.verity.blocks=1221 berth.verity.hash_offset=5001216";
    CHECK(error_of("berth.verity=" + kHash.substr(1) + rest_salt + rest_sizes) ==
          "kernel command line: berth.verity='" + kHash.substr(1) + "' is not a sha256 root hash (64 hex digits)");
    CHECK(error_of("berth.verity=" + kHash.substr(1) + "g" + rest_salt + rest_sizes) ==
          "kernel command line: berth.verity='" + kHash.substr(1) + "g' is not a sha256 root hash (64 hex digits)");
    CHECK(error_of("berth.verity=" + rest_salt + rest_sizes) ==
          "kernel command line: berth.verity='' is not a sha256 root hash (64 hex digits)");
    for (std::string salt : {std::string(), std::string("abc"), std::string("xy"), std::string(514, 'a')})
        CHECK(error_of("berth.verity=" + kHash + " berth.verity.salt=" + salt + rest_sizes) ==
              "kernel command line: berth.verity.salt='" + salt + "' is not hex bytes (2..512 hex digits, or -)");
    for (std::string blocks : {"0", "-1", "12x", "0x10", "99999999999999999999", "1099511627777"})
        CHECK(error_of("berth.verity=" + kHash + rest_salt + " berth.verity.blocks=" + blocks +
                       " berth.verity.hash_offset=5001216") ==
              "kernel command line: berth.verity.blocks='" + blocks + "' is not a number (1..1099511627776)");
    CHECK(error_of("berth.verity=" + kHash + rest_salt + " berth.verity.blocks=1221 berth.verity.hash_offset=5001217") ==
          "kernel command line: berth.verity.hash_offset=5001217 is not a multiple of 4096");
    CHECK(error_of("berth.verity=" + kHash + rest_salt + " berth.verity.blocks=1221 berth.verity.hash_offset=4096") ==
          "kernel command line: berth.verity.hash_offset=4096 lies inside the data (berth.verity.blocks=1221 ends at byte 5001216)");
    CHECK(error_of("berth.verity=" + kHash + rest_salt + " berth.verity.blocks=1221 berth.verity.hash_offset=") ==
          "kernel command line: berth.verity.hash_offset='' is not a number (4096..9007199254740992)");
}

TEST_CASE("verity words that are missing, alone or unknown are errors", "[unit][verity]") {
    CHECK(error_of("berth.verity=" + kHash + " berth.verity.blocks=1221 berth.verity.hash_offset=5001216") ==
          "kernel command line: berth.verity= needs berth.verity.salt= as well");
    CHECK(error_of("berth.verity=" + kHash + " berth.verity.salt=" + kSalt + " berth.verity.hash_offset=5001216") ==
          "kernel command line: berth.verity= needs berth.verity.blocks= as well");
    CHECK(error_of("berth.verity=" + kHash + " berth.verity.salt=" + kSalt + " berth.verity.blocks=1") ==
          "kernel command line: berth.verity= needs berth.verity.hash_offset= as well");
    // A root hash dropped from an entry must not leave a quietly unverified root.
    CHECK(error_of("berth.verity.salt=" + kSalt + " berth.verity.blocks=1") ==
          "kernel command line: berth.verity.blocks= without berth.verity=<root hash>");
    CHECK(error_of(kWords + " berth.verity.hashoffset=4096") ==
          "kernel command line: unknown word berth.verity.hashoffset= (expected berth.verity, berth.verity.salt, "
          "berth.verity.blocks, berth.verity.hash_offset)");
}

TEST_CASE("the verity table maps the data and finds the tree after it", "[unit][verity]") {
    VerityParameters params{kHash, kSalt, 1221, 5001216};
    CHECK(verity_table(params, "254:2") ==
          "1 254:2 254:2 4096 4096 1221 1221 sha256 " + kHash + " " + kSalt);
    // A tree further on (a slot with room left between data and tree): its block number.
    params.hash_offset = 8 * 1024 * 1024;
    params.salt = "-";
    CHECK(verity_table(params, "/dev/vda2") == "1 /dev/vda2 /dev/vda2 4096 4096 1221 2048 sha256 " + kHash + " -");
}

TEST_CASE("a device-mapper table load carries one read-only verity target", "[unit][verity]") {
    const std::string table = "1 254:2 254:2 4096 4096 1221 1221 sha256 " + kHash + " " + kSalt;
    auto request = dm_request("root", "", DM_READONLY_FLAG, DmTarget{1221 * 8, "verity", table});
    REQUIRE(request);
    const auto* bytes = reinterpret_cast<const char*>(request->data());
    const auto* header = reinterpret_cast<const dm_ioctl*>(bytes);
    CHECK(header->version[0] == DM_VERSION_MAJOR);
    CHECK(header->data_size == request->size() * 8);
    CHECK(header->data_start == sizeof(dm_ioctl));
    CHECK(header->target_count == 1);
    CHECK(header->flags == DM_READONLY_FLAG);
    CHECK(std::string(header->name) == "root");
    const auto* spec = reinterpret_cast<const dm_target_spec*>(bytes + header->data_start);
    CHECK(spec->sector_start == 0);
    CHECK(spec->length == 1221 * 8);
    CHECK(std::string(spec->target_type) == "verity");
    CHECK(spec->next % 8 == 0);
    CHECK(spec->next >= sizeof(dm_target_spec) + table.size() + 1);
    CHECK(header->data_start + spec->next <= header->data_size);
    CHECK(std::string(bytes + header->data_start + sizeof(dm_target_spec)) == table);

    auto create = dm_request("root", "berth-verity-" + kHash, 0, std::nullopt);
    REQUIRE(create);
    const auto* created = reinterpret_cast<const dm_ioctl*>(create->data());
    CHECK(created->target_count == 0);
    CHECK(std::string(created->uuid) == "berth-verity-" + kHash);
    CHECK(created->data_size >= sizeof(dm_ioctl));

    CHECK_FALSE(dm_request(std::string(DM_NAME_LEN, 'x'), "", 0, std::nullopt));
    CHECK_FALSE(dm_request("", "", 0, std::nullopt));
}
