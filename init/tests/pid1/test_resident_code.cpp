// Dropping the mappings of PID 1's idle code, tried on this test process: the pages go, the code
// still runs (it faults back in), and private data is never lost.
#include <catch2/catch.hpp>
#include <charconv>
#include <string>

#include "berth/sys.hpp"
#include "resident_code.hpp"

namespace {

long status_kib(const std::string& field) {
    auto status = berth::sys::read_file("/proc/self/status");
    REQUIRE(status);
    auto at = status->find("\n" + field + ":");
    REQUIRE(at != std::string::npos);
    std::string_view rest = std::string_view(*status).substr(at + field.size() + 2);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    long kib = 0;
    std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    return kib;
}

int written_before = 41;  // data of the program: must survive (it is never a candidate)

}  // namespace

TEST_CASE("drop_idle_code: clean read-only mappings of the program go, data stays") {
    written_before += 1;
    long file_before = status_kib("RssFile");
    size_t dropped = berth::pid1::drop_idle_code();
    long file_after = status_kib("RssFile");
    CHECK(dropped > 0);
    CHECK(file_after < file_before);
    CHECK(written_before == 42);
    // The code runs on: calling it again works and finds (much) less to drop than it mapped.
    CHECK(berth::pid1::drop_idle_code() > 0);
}
