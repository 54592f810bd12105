// apply_bundle on files standing in for the disk: slot partitions are files, the ESP a directory.
#include <catch2/catch.hpp>

#include <map>

#include "berth/sys.hpp"
#include "berth/update/slot_writer.hpp"
#include "bundle_fixture.hpp"

using namespace berth::update;
using namespace berth::update::test;

namespace {

constexpr size_t kSlotBytes = 400000;

// A host booted from slot A, with an old system in slot B, as files.
struct Host : Fixture {
    SlotLayout layout;
    HostFacts facts{"0.1.0", "x86_64", "berth-x86_64-efi", {}};
    ApplyOptions options{.memory_budget = 64 << 20};
    std::vector<Progress> seen;

    Host() {
        fs::path esp = work.dir / "esp";
        fs::create_directories(esp / "loader/entries");
        fs::create_directories(esp / "berth/a");
        fs::create_directories(esp / "berth/b");
        work.write("esp/loader/loader.conf", "timeout 0\ndefault berth-*\n");
        work.write("esp/loader/entries/berth-a.conf", "version 0.1.0\n");
        work.write("esp/loader/entries/berth-b.conf", "version 0.1.0~fallback\n");
        for (const char* slot : {"a", "b"}) {
            work.write(std::string("esp/berth/") + slot + "/vmlinuz", "old kernel " + std::string(slot));
            work.write(std::string("esp/berth/") + slot + "/initramfs.img", "old initramfs " + std::string(slot));
        }
        work.write("root-a", random_bytes(kSlotBytes, 10));
        work.write("root-b", random_bytes(kSlotBytes, 11));
        layout = {"a", "b", (work.dir / "root-b").string(), esp.string()};
    }

    berth::Result<ApplyReport> apply(const std::string& bytes) {
        MemorySource source(bytes);
        return apply_bundle(source, trusted, layout, facts, options, [this](const Progress& p) { seen.push_back(p); });
    }

    // Every file of the "disk": the slots and the ESP tree, path → content.
    std::map<std::string, std::string> disk() const {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::recursive_directory_iterator(work.dir)) {
            auto rel = fs::relative(e.path(), work.dir).string();
            if (rel.rfind("esp", 0) != 0 && rel.rfind("root-", 0) != 0) continue;
            files[rel] = e.is_regular_file() ? *berth::sys::read_file(e.path().string()) : "<dir>";
        }
        return files;
    }
};

std::string head(const std::string& path, size_t n) { return berth::sys::read_file(path)->substr(0, n); }

}  // namespace

TEST_CASE("apply: the bundle lands in the other slot and its entry counts boots") {
    for (uint64_t budget : {uint64_t{64} << 20, uint64_t{0}}) {  // staged in memory, and streamed
        Host host;
        host.options.memory_budget = budget;
        auto before = host.disk();
        auto report = host.apply(host.bundle);
        REQUIRE(report);
        CHECK(report->staged == (budget > 0));
        CHECK(report->entry == "berth-b+3.conf");

        auto after = host.disk();
        CHECK(head(host.layout.target_device, host.parts[0].size()) == host.parts[0]);
        CHECK(after["root-b"].substr(host.parts[0].size()) == before["root-b"].substr(host.parts[0].size()));
        CHECK(after["esp/berth/b/vmlinuz"] == host.parts[1]);
        CHECK(after["esp/berth/b/initramfs.img"] == host.parts[2]);
        CHECK(after["esp/loader/entries/berth-b+3.conf"] ==
              "title      Berth 0.2.0 (slot B)\nversion    0.2.0\nsort-key   berth\nlinux      /berth/b/vmlinuz\n"
              "initrd     /berth/b/initramfs.img\noptions    root=PARTLABEL=root-b berth.slot=b berth.verity=" + kRootHash + "\n");
        CHECK_FALSE(after.count("esp/loader/entries/berth-b.conf"));
        // The booted slot: not a byte changed.
        for (const char* path : {"root-a", "esp/loader/entries/berth-a.conf", "esp/berth/a/vmlinuz", "esp/berth/a/initramfs.img",
                                 "esp/loader/loader.conf"})
            CHECK(after[path] == before[path]);
        // Nothing temporary left behind.
        for (const auto& [path, content] : after) CHECK_FALSE((path.ends_with(".new")));
        REQUIRE_FALSE(host.seen.empty());
        CHECK(host.seen.back().phase == "done");
        CHECK(std::any_of(host.seen.begin(), host.seen.end(), [](const Progress& p) { return p.phase == "verify" && p.done == p.total; }));
    }
}

TEST_CASE("apply: a bad bundle is refused and the other slot keeps every byte") {
    Host host;
    size_t root = host.header_bytes, kernel = root + host.parts[0].size(), initramfs = kernel + host.parts[1].size();
    struct Case {
        std::string name, bytes, says;
    };
    auto newer_min = base_manifest();
    newer_min.min_version = "0.1.5";
    newer_min.version = "0.2.0";
    auto other_arch = base_manifest();
    other_arch.architecture = "aarch64";
    auto older = base_manifest();
    older.version = "0.0.9";
    older.min_version = "0.0.1";
    auto other_family = base_manifest();
    other_family.compatible = "berth-rpi4";
    std::vector<Case> cases{
        {"bad signature", flipped(host.bundle, host.header_bytes - 5), "does not match the manifest"},
        {"unknown key", host.make({host.other}), "not trusted"},
        {"flipped root byte", flipped(host.bundle, root + 1000), "part root"},
        {"flipped kernel byte", flipped(host.bundle, kernel + 10), "part kernel"},
        {"flipped initramfs byte", flipped(host.bundle, initramfs + 4990), "part initramfs"},
        {"truncated in the root", host.bundle.substr(0, root + 200000), "truncated bundle"},
        {"truncated in the initramfs", host.bundle.substr(0, host.bundle.size() - 1), "truncated bundle"},
        {"trailing bytes", host.bundle + "junk", "goes on after the last part"},
        {"wrong architecture", host.make({host.key}, other_arch), "this host is x86_64"},
        {"other image family", host.make({host.key}, other_family), "image family 'berth-rpi4'"},
        {"older version", host.make({host.key}, older), "not newer than the running 0.1.0"},
        {"too old to update from", host.make({host.key}, newer_min), "updates 0.1.5 and newer"},
    };
    {
        // A root one byte bigger than the slot.
        Host big;
        big.parts[0] = random_bytes(kSlotBytes + 1, 5);
        cases.push_back({"root too big", big.make({host.key}), "its slot only 400000"});
    }
    auto before = host.disk();
    for (const auto& c : cases) {
        INFO(c.name);
        auto result = host.apply(c.bytes);
        REQUIRE_FALSE(result);
        CHECK_THAT(result.error().describe(), Catch::Contains(c.says));
        CHECK(host.disk() == before);
    }
}

TEST_CASE("apply: streamed, a bad root leaves the slot without an entry, never half-trusted") {
    Host host;
    host.options.memory_budget = 0;
    auto result = host.apply(flipped(host.bundle, host.header_bytes + 5));
    REQUIRE_FALSE(result);
    CHECK_THAT(result.error().describe(), Catch::Contains("part root"));
    auto after = host.disk();
    for (const auto& [path, content] : after) CHECK_FALSE(is_slot_entry(fs::path(path).filename().string(), "b"));
    CHECK(after.count("esp/loader/entries/berth-a.conf"));
}

TEST_CASE("apply: versions that failed here need --force, downgrades --allow-downgrade") {
    auto m = base_manifest();
    HostFacts host{"0.1.0", "x86_64", "berth-x86_64-efi", {"0.2.0"}};
    auto refused = check_applicable(m, host, {});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().describe(), Catch::Contains("already failed to boot on this host (--force"));
    CHECK(check_applicable(m, host, {.force = true}));
    host.failed_versions.clear();
    host.version = "0.2.0";
    CHECK_FALSE(check_applicable(m, host, {}));  // the same version again
    CHECK(check_applicable(m, host, {.allow_downgrade = true}));
}

TEST_CASE("apply: the ESP must hold kernel and initramfs, counting what they replace") {
    auto m = base_manifest();
    m.part(PartIndex::Root).size = 1000;
    m.part(PartIndex::Kernel).size = 10 << 20;
    m.part(PartIndex::Initramfs).size = 2 << 20;
    SpaceFacts space{.target_device_bytes = 1000, .esp_free_bytes = 4 << 20, .esp_block_size = 4096, .replaced_esp_bytes = 9 << 20};
    CHECK(check_space(m, space));
    space.replaced_esp_bytes = 4 << 20;
    auto full = check_space(m, space);
    REQUIRE_FALSE(full);
    CHECK_THAT(full.error().describe(), Catch::Contains("need 13 MiB on the ESP, which has 8 MiB free"));
    space.target_device_bytes = 999;
    CHECK_THAT(check_space(m, space).error().describe(), Catch::Contains("the root is 1000 bytes, its slot only 999"));
}

TEST_CASE("boot entries of a slot are told by name") {
    for (const char* yes : {"berth-b.conf", "berth-b+3.conf", "berth-b+2-1.conf", "berth-b+0-3.conf", "berth-b+3.conf.new"})
        CHECK(is_slot_entry(yes, "b"));
    for (const char* no : {"berth-a.conf", "berth-b", "berth-bb.conf", "berth-b+.conf", "berth-b+x.conf", "berth-b+1-.conf",
                           "berth-b.conf~", "other-b.conf", "berth-b+3.conf.old"})
        CHECK_FALSE(is_slot_entry(no, "b"));
}

TEST_CASE("apply: the steps come in their documented order, staged and streamed") {
    for (uint64_t budget : {uint64_t{64} << 20, uint64_t{0}}) {
        Host host;
        host.options.memory_budget = budget;
        std::vector<std::string> steps;
        host.options.at_step = [&](std::string_view step, const BundleManifest& m) -> berth::Result<void> {
            CHECK(m.version == "0.2.0");
            steps.emplace_back(step);
            return {};
        };
        REQUIRE(host.apply(host.bundle));
        CHECK(steps == std::vector<std::string>(kApplySteps.begin(), kApplySteps.end()));
    }
    CHECK(is_apply_step("root-half"));
    CHECK_FALSE(is_apply_step("root"));
}

// What a crash at each step leaves, as the next boot sees it: the target slot has no entry (the
// loader passes it over) or it is complete; the booted slot never changes; the next apply succeeds.
TEST_CASE("apply: cut off at any step, the target slot is unbootable or complete, and the next apply succeeds") {
    for (uint64_t budget : {uint64_t{64} << 20, uint64_t{0}}) {
        for (auto cut : kApplySteps) {
            INFO("cut at " << cut << (budget ? ", staged" : ", streamed"));
            Host host;
            host.options.memory_budget = budget;
            auto before = host.disk();
            host.options.at_step = [&](std::string_view step, const BundleManifest&) -> berth::Result<void> {
                if (step == cut) return berth::fail("power cut");
                return {};
            };
            REQUIRE_FALSE(host.apply(host.bundle));
            auto after = host.disk();
            for (const char* path : {"root-a", "esp/loader/entries/berth-a.conf", "esp/berth/a/vmlinuz", "esp/berth/a/initramfs.img"})
                CHECK(after[path] == before[path]);
            bool complete = cut == "entry-renamed" || cut == "installed";
            if (cut == "clearing-target") {
                CHECK(after == before);
            } else if (complete) {
                CHECK(after["esp/loader/entries/berth-b+3.conf"].find("version    0.2.0\n") != std::string::npos);
                CHECK(after["esp/berth/b/vmlinuz"] == host.parts[1]);
                CHECK(after["esp/berth/b/initramfs.img"] == host.parts[2]);
                CHECK(head(host.layout.target_device, host.parts[0].size()) == host.parts[0]);
            } else {
                for (const auto& [path, content] : after)
                    if (path.starts_with("esp/loader/entries/")) CHECK_FALSE((path.ends_with(".conf") && path.find("berth-b") != std::string::npos));
            }
            host.options.at_step = nullptr;
            auto again = host.apply(host.bundle);
            REQUIRE(again);
            auto last = host.disk();
            CHECK(last["esp/berth/b/vmlinuz"] == host.parts[1]);
            for (const auto& [path, content] : last) CHECK_FALSE((path.ends_with(".new")));
            CHECK(last.count("esp/loader/entries/berth-b+3.conf"));
        }
    }
}
