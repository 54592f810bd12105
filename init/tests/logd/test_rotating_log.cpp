#include <catch2/catch.hpp>

#include <filesystem>

#include "berth/logd/rotating_log.hpp"
#include "temp_dir.hpp"

using namespace berth::logd;
using berth::logd::test::TempDir;
using berth::logd::test::read_text;
namespace fs = std::filesystem;

namespace {

// "line-NN" padded to exactly 25 bytes with its newline.
std::string line(int n) {
    std::string text = "line-" + std::to_string(n);
    text.resize(24, '.');
    return text + "\n";
}

// The directory listing as "name size" in name order.
std::vector<std::string> listing(const TempDir& dir) {
    std::vector<std::string> entries;
    for (const auto& entry : fs::directory_iterator(dir.path()))
        entries.push_back(entry.path().filename().string() + " " + std::to_string(entry.file_size()));
    std::sort(entries.begin(), entries.end());
    return entries;
}

RotatingLog open_log(const TempDir& dir, RotationPolicy policy) {
    auto log = RotatingLog::open(dir.path(), "web", policy);
    REQUIRE(log);
    return std::move(*log);
}

}  // namespace

TEST_CASE("a file may reach max_bytes exactly, the next line rotates") {
    TempDir dir;
    RotatingLog log = open_log(dir, {.max_bytes = 100, .keep = 2});
    for (int i = 1; i <= 4; ++i) REQUIRE(log.append(line(i)));
    REQUIRE(log.flush());
    CHECK(listing(dir) == std::vector<std::string>{"web.log 100"});

    REQUIRE(log.append(line(5)));
    REQUIRE(log.flush());
    CHECK(listing(dir) == std::vector<std::string>{"web.log 25", "web.log.1 100"});
    CHECK(read_text(dir / "web.log") == line(5));
    CHECK(read_text(dir / "web.log.1") == line(1) + line(2) + line(3) + line(4));
}

TEST_CASE("rotation shifts files and deletes the oldest beyond keep") {
    TempDir dir;
    RotatingLog log = open_log(dir, {.max_bytes = 50, .keep = 2});  // two lines per file
    for (int i = 1; i <= 7; ++i) REQUIRE(log.append(line(i)));
    REQUIRE(log.flush());
    // Files held 1-2, 3-4, 5-6, 7: the first was deleted when the third rotation happened.
    CHECK(listing(dir) == std::vector<std::string>{"web.log 25", "web.log.1 50", "web.log.2 50"});
    CHECK(read_text(dir / "web.log.2") == line(3) + line(4));
    CHECK(read_text(dir / "web.log.1") == line(5) + line(6));
    CHECK(read_text(dir / "web.log") == line(7));
}

TEST_CASE("keep = 0 truncates by deleting") {
    TempDir dir;
    RotatingLog log = open_log(dir, {.max_bytes = 50, .keep = 0});
    for (int i = 1; i <= 3; ++i) REQUIRE(log.append(line(i)));
    REQUIRE(log.flush());
    CHECK(listing(dir) == std::vector<std::string>{"web.log 25"});
    CHECK(read_text(dir / "web.log") == line(3));
}

TEST_CASE("a line longer than max_bytes gets a file of its own") {
    TempDir dir;
    RotatingLog log = open_log(dir, {.max_bytes = 30, .keep = 3});
    std::string big(40, 'x');
    big += '\n';
    REQUIRE(log.append(line(1)));
    REQUIRE(log.append(big));
    REQUIRE(log.append(line(2)));
    REQUIRE(log.flush());
    CHECK(listing(dir) == std::vector<std::string>{"web.log 25", "web.log.1 41", "web.log.2 25"});
}

TEST_CASE("nothing reaches the file before flush, except at rotation") {
    TempDir dir;
    RotatingLog log = open_log(dir, {.max_bytes = 50, .keep = 1});
    REQUIRE(log.append(line(1)));
    CHECK(read_text(dir / "web.log").empty());
    CHECK(log.size() == 25);
    REQUIRE(log.append(line(2)));
    REQUIRE(log.append(line(3)));  // rotation writes lines 1-2 out first
    CHECK(read_text(dir / "web.log.1") == line(1) + line(2));
    CHECK(read_text(dir / "web.log").empty());
}

TEST_CASE("reopening continues the existing file's size") {
    TempDir dir;
    {
        RotatingLog log = open_log(dir, {.max_bytes = 100, .keep = 2});
        for (int i = 1; i <= 3; ++i) REQUIRE(log.append(line(i)));
        REQUIRE(log.flush());
    }
    RotatingLog log = open_log(dir, {.max_bytes = 100, .keep = 2});
    CHECK(log.size() == 75);
    REQUIRE(log.append(line(4)));  // fills to exactly 100: no rotation
    REQUIRE(log.append(line(5)));  // rotates
    REQUIRE(log.flush());
    CHECK(listing(dir) == std::vector<std::string>{"web.log 25", "web.log.1 100"});
    CHECK(read_text(dir / "web.log.1") == line(1) + line(2) + line(3) + line(4));
}

TEST_CASE("log names are restricted to [a-z0-9_.-]") {
    TempDir dir;
    for (const char* bad : {"", ".", "..", ".hidden", "a/b", "../etc", "Web", "web log", "wéb"}) {
        auto log = RotatingLog::open(dir.path(), bad, {});
        REQUIRE_FALSE(log);
        CHECK(log.error().message == "invalid log name '" + std::string(bad) + "'");
    }
    CHECK(RotatingLog::open(dir.path(), "berth-init", {}));
    CHECK(RotatingLog::open(dir.path(), "a.b_c-9", {}));
    CHECK_FALSE(RotatingLog::open(dir.path(), std::string(65, 'a'), {}));
    CHECK(RotatingLog::open(dir.path(), std::string(64, 'a'), {}));
}

TEST_CASE("a missing directory is an error, not a crash") {
    auto log = RotatingLog::open("/nonexistent/logd", "web", {});
    REQUIRE_FALSE(log);
    CHECK(log.error().errnum == ENOENT);
}
