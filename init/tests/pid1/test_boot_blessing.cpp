// The boot blessing's children's work on a scratch tree (an ESP, efivars, the records): what a
// trial boot is, the rename and the records written, the other slot's spent tries.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "boot_blessing.hpp"

using namespace berth::pid1;
using namespace berth::update;
namespace fs = std::filesystem;

namespace {

constexpr const char* kVariable = "efivars/LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
constexpr const char* kSelected = "efivars/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";
constexpr const char* kNow = "2026-12-03T13:00:00.000Z";

struct EspScratch {
    std::string root;
    EspScratch() {
        std::string pattern = (fs::temp_directory_path() / "boot-blessing-XXXXXX").string();
        root = ::mkdtemp(pattern.data());
        fs::create_directories(root + "/efi/loader/entries");
        fs::create_directories(root + "/efivars");
        write("os-release", "NAME=Berth\nVERSION_ID=0.2.0\n");
    }
    ~EspScratch() {
        std::error_code ignored;
        fs::remove_all(root, ignored);
    }
    BootBlessingPaths paths() const { return {root + "/efi", root + "/efivars", root + "/records", root + "/os-release"}; }
    void write(const std::string& name, const std::string& text) const { std::ofstream(root + "/" + name) << text; }
    std::string read(const std::string& name) const {
        std::ifstream in(root + "/" + name);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    void efi_string(const char* variable, const std::string& text) const {
        std::string value("\x07\x00\x00\x00", 4);
        for (char c : text) value += std::string{c, '\0'};
        write(variable, value + std::string("\0\0", 2));
    }
    void boot_count_path(const std::string& path) const { efi_string(kVariable, path); }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(root + "/efi/loader/entries")) names.push_back(e.path().filename());
        std::sort(names.begin(), names.end());
        return names;
    }
};

const TrialVerdict kHealthy{TrialVerdict::Healthy, "healthy", "every critical service healthy for 3s"};

}  // namespace

TEST_CASE("a trial boot is found in LoaderBootCountPath and blessed on the ESP") {
    EspScratch esp;
    esp.write("efi/loader/entries/berth-a+2-1.conf", "title A\nversion 0.2.0\n");
    esp.write("efi/loader/entries/berth-b.conf", "title B\nversion 0.1.0~fallback\n");
    esp.boot_count_path("\\loader\\entries\\berth-a+2-1.conf");
    auto [boot, lines] = inspect_trial_boot(esp.paths(), "x", kNow);
    CHECK(boot.entry == "berth-a+2-1.conf");
    CHECK(boot.slot == "a");  // the entry's name wins over berth.slot
    CHECK(boot.version == "0.2.0");
    CHECK(boot.fallback);
    CHECK(lines.empty());

    auto blessed = bless_boot(esp.paths(), boot, kNow, kHealthy, false);
    REQUIRE(blessed);
    CHECK(*blessed == "berth-a.conf");
    CHECK(esp.entries() == std::vector<std::string>{"berth-a.conf", "berth-b.conf"});
    auto record = parse_boot_record(esp.read("records/boot-a.json"));
    REQUIRE(record);
    CHECK(*record == BootRecord{"a", "0.2.0", "berth-a+2-1.conf", BootOutcome::Blessed, "healthy",
                                "every critical service healthy for 3s", kNow, 2});
    CHECK_FALSE(fs::exists(esp.root + "/records/boot-a.json.new"));
}

TEST_CASE("no variable, or an entry without a counter: nothing to bless") {
    EspScratch esp;
    auto [boot, lines] = inspect_trial_boot(esp.paths(), "a", kNow);
    CHECK(boot.entry.empty());
    CHECK(boot.slot == "a");
    CHECK_FALSE(boot.fallback);
    // systemd-boot names an entry without a counter in LoaderEntrySelected only.
    esp.efi_string(kSelected, "berth-b.conf");
    auto selected = inspect_trial_boot(esp.paths(), "a", kNow).first;
    CHECK(selected.entry == "berth-b.conf");
    CHECK(selected.slot == "b");
    esp.boot_count_path("\\loader\\entries\\berth-a.conf");
    CHECK(inspect_trial_boot(esp.paths(), "a", kNow).first.entry == "berth-a.conf");
    auto refused = bless_boot(esp.paths(), {"berth-a.conf", "a", "0.2.0"}, kNow, kHealthy, false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().describe() == "'berth-a.conf' has no boot counter");
    esp.write(kVariable, "garbage");
    auto garbled = inspect_trial_boot(esp.paths(), "a", kNow);
    CHECK(garbled.first.entry == "berth-b.conf");  // LoaderEntrySelected still names it
    CHECK(garbled.second == std::vector<std::string>{"LoaderBootCountPath does not name a boot entry"});
}

TEST_CASE("a failed trial boot is recorded with its step, reason and tries left") {
    EspScratch esp;
    TrialVerdict failed{TrialVerdict::Failed, "critical service", "critical service 'doomed' failed: exited with code 3"};
    REQUIRE(record_failed_boot(esp.paths(), {"berth-a+1-1.conf", "a", "0.2.0"}, kNow, failed));
    CHECK(*parse_boot_record(esp.read("records/boot-a.json")) ==
          BootRecord{"a", "0.2.0", "berth-a+1-1.conf", BootOutcome::Failed, "critical service",
                     "critical service 'doomed' failed: exited with code 3", kNow, 1});
}

TEST_CASE("the boot that fell back records the other slot's spent tries, once, with its reason") {
    EspScratch esp;
    esp.write("efi/loader/entries/berth-a+0-2.conf", "title A\nversion 0.2.0\n");
    esp.write("efi/loader/entries/berth-b.conf", "title B\nversion 0.1.0~fallback\n");
    esp.boot_count_path("\\loader\\entries\\berth-b.conf");
    TrialVerdict failed{TrialVerdict::Failed, "critical service", "critical service 'doomed' failed: exited with code 3"};
    REQUIRE(record_failed_boot(esp.paths(), {"berth-a+0-2.conf", "a", "0.2.0"}, kNow, failed));

    auto [boot, lines] = inspect_trial_boot(esp.paths(), "b", kNow);
    CHECK(boot.entry == "berth-b.conf");
    std::string reason = "critical service: critical service 'doomed' failed: exited with code 3; slot b booted instead";
    CHECK(lines == std::vector<std::string>{"slot a failed (tries spent): " + reason});
    BootRecord expected{"a", "0.2.0", "berth-a+0-2.conf", BootOutcome::Failed, "tries spent", reason, kNow, 0};
    CHECK(*parse_boot_record(esp.read("records/boot-a.json")) == expected);

    // The next boot of B says it again, and leaves the record as it is.
    auto again = inspect_trial_boot(esp.paths(), "b", "2026-12-04T00:00:00.000Z");
    CHECK(again.second == std::vector<std::string>{"slot a failed before (tries spent): " + reason});
    CHECK(*parse_boot_record(esp.read("records/boot-a.json")) == expected);
}

TEST_CASE("a later version that spends its tries under the same entry name is recorded anew") {
    EspScratch esp;
    // 0.2.0 failed in slot A and was recorded; then 0.3.0 went to slot A and hung on every try
    // (no verdict of its own): its entry ends with the same name, berth-a+0-3.conf.
    esp.write("efi/loader/entries/berth-a+0-3.conf", "title A\nversion 0.3.0\n");
    esp.write("efi/loader/entries/berth-b.conf", "title B\nversion 0.1.0\n");
    fs::create_directories(esp.root + "/records");
    BootRecord old_failure{"a", "0.2.0", "berth-a+0-3.conf", BootOutcome::Failed, "tries spent",
                           "critical service: 'doomed' failed; slot b booted instead", kNow, 0};
    esp.write("records/boot-a.json", format_boot_record(old_failure));
    auto [boot, lines] = inspect_trial_boot(esp.paths(), "b", kNow);
    std::string reason = "no try of berth-a+0-3.conf reached a verdict (a reset, a hang or a power cut); slot b booted instead";
    CHECK(lines == std::vector<std::string>{"slot a failed (tries spent): " + reason});
    CHECK(*parse_boot_record(esp.read("records/boot-a.json")) ==
          BootRecord{"a", "0.3.0", "berth-a+0-3.conf", BootOutcome::Failed, "tries spent", reason, kNow, 0});
}

TEST_CASE("spent tries without any record of that boot: failed all the same") {
    EspScratch esp;
    esp.write("efi/loader/entries/berth-b+0-3.conf", "title B\nversion 0.3.0\n");
    BootRecord old_success{"b", "0.1.0", "berth-b+2-1.conf", BootOutcome::Blessed, "healthy", "ok", kNow, 2};
    fs::create_directories(esp.root + "/records");
    esp.write("records/boot-b.json", format_boot_record(old_success));
    auto [boot, lines] = inspect_trial_boot(esp.paths(), "a", kNow);
    REQUIRE(lines.size() == 1);
    auto record = parse_boot_record(esp.read("records/boot-b.json"));
    REQUIRE(record);
    CHECK(*record == BootRecord{"b", "0.3.0", "berth-b+0-3.conf", BootOutcome::Failed, "tries spent",
                                "no try of berth-b+0-3.conf reached a verdict (a reset, a hang or a power cut); "
                                "slot a booted instead",
                                kNow, 0});
}

TEST_CASE("spent tries of a slot whose root never mounted: the initramfs's note gives the reason") {
    const std::string hash(64, 'c');
    EspScratch esp;
    esp.write("efi/loader/entries/berth-b+0-3.conf", "title B\nversion 0.3.0\noptions root=PARTLABEL=root-b berth.verity=" + hash + " ro\n");
    fs::create_directories(esp.root + "/records");
    // A note about another system of slot B (an older root hash) is not this failure's reason.
    esp.write("records/early-failure-b.json", format_early_failure({"b", std::string(64, 'd'), "old reason", kNow}));
    inspect_trial_boot(esp.paths(), "a", kNow);
    CHECK_THAT(parse_boot_record(esp.read("records/boot-b.json"))->reason, Catch::StartsWith("no try of berth-b+0-3.conf"));

    fs::remove(esp.root + "/records/boot-b.json");
    esp.write("records/early-failure-b.json",
              format_early_failure({"b", hash, "mount root /dev/dm-0: Input/output error", kNow}));
    auto [boot, lines] = inspect_trial_boot(esp.paths(), "a", kNow);
    REQUIRE(lines.size() == 1);
    auto record = parse_boot_record(esp.read("records/boot-b.json"));
    REQUIRE(record);
    CHECK(*record == BootRecord{"b", "0.3.0", "berth-b+0-3.conf", BootOutcome::Failed, "tries spent",
                                "its root could not be mounted: mount root /dev/dm-0: Input/output error; slot a booted instead",
                                kNow, 0});
}
