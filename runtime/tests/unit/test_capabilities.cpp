#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "berth/runtime/capabilities.hpp"
#include "berth/sys.hpp"
#include "skip.hpp"

using namespace berth;
using namespace berth::runtime;

namespace {

constexpr int kChown = 0, kKill = 5, kSetpcap = 8, kSysAdmin = 21;

// "CapEff" → mask, from /proc/<pid>/status text.
std::map<std::string, uint64_t> cap_lines(const std::string& status) {
    std::map<std::string, uint64_t> masks;
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Cap", 0) == 0) {
            auto colon = line.find(':');
            masks[line.substr(0, colon)] = std::stoull(line.substr(colon + 1), nullptr, 16);
        }
    return masks;
}

// Runs `body` in a forked child (so capability changes cannot leak into the test process)
// and returns what it wrote to the pipe.
template <typename Body>
std::string run_in_child(Body body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out = body();
        (void)sys::write_all(fds[1], out);
        ::_exit(0);
    }
    ::close(fds[1]);
    auto out = sys::read_all(fds[0]);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(out);
    REQUIRE(WIFEXITED(status));
    return *out;
}

}  // namespace

TEST_CASE("capability names convert both ways", "[caps]") {
    REQUIRE(caps::from_name("CAP_SYS_ADMIN").value() == kSysAdmin);
    REQUIRE(caps::from_name("CAP_CHOWN").value() == kChown);
    REQUIRE(caps::to_name(kSysAdmin) == "CAP_SYS_ADMIN");
    REQUIRE(caps::to_name(kKill) == "CAP_KILL");
    REQUIRE(caps::to_name(63) == "CAP_63");
    for (int cap = 0; cap <= caps::last_cap(); ++cap) REQUIRE(caps::from_name(caps::to_name(cap)).value() == cap);
}

TEST_CASE("unknown or malformed capability names are errors", "[caps]") {
    auto unknown = caps::from_name("CAP_FOO");
    REQUIRE_FALSE(unknown);
    REQUIRE(unknown.error().message == "unknown capability 'CAP_FOO'");
    // libcap alone would accept these.
    for (const char* name : {"21", "cap_chown", "CAP_CHOWN,CAP_KILL", "CHOWN", "CAP_", ""})
        REQUIRE_FALSE(caps::from_name(name));
}

TEST_CASE("capability masks", "[caps]") {
    REQUIRE(caps::docker_default().size() == 14);
    REQUIRE(caps::to_mask(caps::docker_default()) == 0xa80425fbULL);
    REQUIRE(caps::to_mask({kChown, kKill}) == 0x21);
    REQUIRE(caps::from_mask(0x21) == std::vector<int>{kChown, kKill});
    REQUIRE(caps::from_mask(caps::to_mask(caps::docker_default())).size() == 14);
    REQUIRE(caps::to_mask(caps::from_mask(0xa80425fbULL)) == 0xa80425fbULL);
    REQUIRE(caps::from_mask(0).empty());
    REQUIRE(caps::to_mask({63, 64, -1}) == (uint64_t{1} << 63));  // out-of-range numbers ignored
    REQUIRE(caps::last_cap() >= 37);                              // CAP_AUDIT_READ, Linux 3.16
    REQUIRE(caps::all().size() == static_cast<size_t>(caps::last_cap() + 1));
}

TEST_CASE("apply and drop_bounding set the process's capability sets", "[caps]") {
    auto own = cap_lines(sys::read_file("/proc/self/status").value());
    if (!(own["CapEff"] & (uint64_t{1} << kSetpcap)) || (own["CapPrm"] & 0x21) != 0x21) {
        return berth::test::skip("needs CAP_SETPCAP, CAP_CHOWN and CAP_KILL");
    }
    CapabilitySets sets;
    sets.bounding = {kChown, kKill};
    sets.effective = sets.permitted = {kChown, kKill, 63};  // 63: unknown to the kernel, skipped
    sets.inheritable = {kChown};
    sets.ambient = {kChown};

    auto status = run_in_child([&]() -> std::string {
        if (auto r = caps::drop_bounding(sets.bounding); !r) return "error: " + r.error().describe();
        if (auto r = caps::apply(sets); !r) return "error: " + r.error().describe();
        return sys::read_file("/proc/self/status").value_or("error: read status");
    });
    INFO(status);
    REQUIRE(status.rfind("error", 0) != 0);
    auto masks = cap_lines(status);
    CHECK(masks["CapEff"] == 0x21);
    CHECK(masks["CapPrm"] == 0x21);
    CHECK(masks["CapBnd"] == 0x21);
    CHECK(masks["CapInh"] == 0x1);
    CHECK(masks["CapAmb"] == 0x1);
}

TEST_CASE("an ambient capability outside the inheritable set fails clearly", "[caps]") {
    auto own = cap_lines(sys::read_file("/proc/self/status").value());
    if ((own["CapPrm"] & 0x21) != 0x21) {
        return berth::test::skip("needs CAP_CHOWN and CAP_KILL");
    }
    CapabilitySets sets;
    sets.effective = sets.permitted = {kChown, kKill};
    sets.ambient = {kKill};
    auto error = run_in_child([&]() -> std::string {
        auto r = caps::apply(sets);
        return r ? "ok" : r.error().describe();
    });
    REQUIRE(error.find("raise ambient CAP_KILL") != std::string::npos);
}
