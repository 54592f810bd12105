#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "berth/update/boot_record.hpp"

using namespace berth::update;

namespace {
BootRecord sample() {
    return {"a", "0.2.0", "berth-a+2-1.conf", BootOutcome::Failed, "critical service",
            "critical service 'web' failed: exited with code 1", "2026-12-03T13:00:00.000Z", 2};
}
}  // namespace

TEST_CASE("a boot record is one JSON object, and parses back") {
    std::string text = format_boot_record(sample());
    CHECK(text ==
          "{\"slot\":\"a\",\"version\":\"0.2.0\",\"entry\":\"berth-a+2-1.conf\",\"outcome\":\"failed\","
          "\"step\":\"critical service\",\"reason\":\"critical service 'web' failed: exited with code 1\","
          "\"time\":\"2026-12-03T13:00:00.000Z\",\"tries_left\":2}\n");
    auto parsed = parse_boot_record(text);
    REQUIRE(parsed);
    CHECK(*parsed == sample());
    BootRecord blessed = sample();
    blessed.outcome = BootOutcome::Blessed;
    CHECK(parse_boot_record(format_boot_record(blessed))->outcome == BootOutcome::Blessed);
}

TEST_CASE("boot records: unknown keys are ignored, the rest is strict") {
    auto with = [](const std::string& replace, const std::string& by) {
        std::string text = format_boot_record(sample());
        text.replace(text.find(replace), replace.size(), by);
        return parse_boot_record(text);
    };
    CHECK(with("\"tries_left\"", "\"later\":[1,2],\"tries_left\""));
    CHECK(with("\"failed\"", "\"rolled\"").error().describe().find("'outcome' must be") != std::string::npos);
    CHECK(with("\"slot\":\"a\"", "\"slot\":\"A/..\"").error().describe().find("'slot'") != std::string::npos);
    CHECK(with("\"slot\":\"a\",", "").error().describe().find("'slot' must be a string") != std::string::npos);
    CHECK(with("\"tries_left\":2", "\"tries_left\":\"2\"").error().describe().find("tries_left") != std::string::npos);
    CHECK(with("\"tries_left\":2", "\"tries_left\":-5").error().describe().find("tries_left") != std::string::npos);
    CHECK_FALSE(parse_boot_record("[1]"));
    CHECK_FALSE(parse_boot_record("{\"slot\":"));
    CHECK_FALSE(parse_boot_record(std::string(70000, ' ')));
}

TEST_CASE("read_boot_records reads boot-*.json of a directory, by slot") {
    auto dir = std::filesystem::temp_directory_path() / ("berth-records-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    CHECK(read_boot_records(dir.string())->empty());  // no directory: no records
    std::filesystem::create_directories(dir);
    BootRecord b = sample();
    b.slot = "b";
    b.outcome = BootOutcome::Blessed;
    std::ofstream(boot_record_path(dir.string(), "b")) << format_boot_record(b);
    std::ofstream(boot_record_path(dir.string(), "a")) << format_boot_record(sample());
    std::ofstream(dir / "other.json") << "not a record";
    auto records = read_boot_records(dir.string());
    REQUIRE(records);
    REQUIRE(records->size() == 2);
    CHECK((*records)[0] == sample());
    CHECK((*records)[1] == b);
    std::ofstream(boot_record_path(dir.string(), "c")) << "{}";
    auto bad = read_boot_records(dir.string());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().describe().find("boot-c.json") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("an early-boot failure note parses back and is matched to an entry by root hash") {
    const std::string hash(64, 'a');
    EarlyFailure note{"b", hash, "dm-verity: Input/output error", "2026-12-03T10:00:00Z"};
    CHECK(parse_early_failure(format_early_failure(note)) == note);
    CHECK(early_failure_path("/var/lib/berth/update", "b") == "/var/lib/berth/update/early-failure-b.json");
    CHECK_FALSE(parse_early_failure("{}"));
    CHECK_FALSE(parse_early_failure("not json"));
    CHECK_FALSE(parse_early_failure(R"({"slot":"b","root_hash":"","reason":"x","time":"t"})"));

    CHECK(early_failure_is_for(note, "title x\noptions root=PARTLABEL=root-b berth.verity=" + hash + " ro\n"));
    CHECK(early_failure_is_for(note, "options berth.verity=" + hash));
    CHECK_FALSE(early_failure_is_for(note, "options berth.verity=" + hash + "0 ro\n"));   // a longer hash
    CHECK_FALSE(early_failure_is_for(note, "title berth.verity=" + hash + "\noptions ro\n"));  // not the options line
    CHECK_FALSE(early_failure_is_for(note, "options xberth.verity=" + hash + "\n"));
}
