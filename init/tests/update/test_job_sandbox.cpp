// The update job's sandbox as a plan: which host paths it sees, writable or not, and which
// capabilities each of its two processes keeps.
#include <linux/capability.h>

#include <catch2/catch.hpp>

#include <algorithm>

#include "berth/update/job_sandbox.hpp"

using namespace berth::update;
using Missing = SandboxBind::Missing;

namespace {

JobNeeds host_needs(const std::string& action) {
    JobNeeds needs;
    needs.action = action;
    needs.target_device = "/dev/vda3";
    return needs;
}

std::vector<std::string> paths_of(const JobSandbox& sandbox) {
    std::vector<std::string> paths;
    for (const auto& b : sandbox.binds) paths.push_back(b.path);
    return paths;
}

const SandboxBind& bind_of(const JobSandbox& sandbox, const std::string& path) {
    auto it = std::find_if(sandbox.binds.begin(), sandbox.binds.end(), [&](const SandboxBind& b) { return b.path == path; });
    REQUIRE(it != sandbox.binds.end());
    return *it;
}

}  // namespace

TEST_CASE("apply on a host: its target partition and /dev/null are its only devices and the ESP is held for it") {
    auto sandbox = plan_job_sandbox(host_needs("apply"));
    REQUIRE(sandbox);
    CHECK(paths_of(*sandbox) == std::vector<std::string>{"/dev/null", "/dev/vda3", "/efi", "/etc/os-release", "/run/berth/boot-slot",
                                                         "/run/berth/esp.lock", "/usr/lib/berth/compatible",
                                                         "/usr/lib/berth/update-keys", "/var/lib/berth/update"});
    CHECK(bind_of(*sandbox, "/dev/vda3") == SandboxBind{"/dev/vda3", true, true, Missing::Skip});
    CHECK(bind_of(*sandbox, "/dev/null") == SandboxBind{"/dev/null", true, true, Missing::Skip});
    // Bound read-only: the holder remounts it read-write for the job, and read-only again.
    CHECK(bind_of(*sandbox, "/efi") == SandboxBind{"/efi", false, false, Missing::Skip});
    CHECK(bind_of(*sandbox, "/run/berth/esp.lock") == SandboxBind{"/run/berth/esp.lock", true, false, Missing::CreateFile});
    CHECK(bind_of(*sandbox, "/var/lib/berth/update") == SandboxBind{"/var/lib/berth/update", true, false, Missing::CreateDirectory});
    for (const char* identity : {"/etc/os-release", "/run/berth/boot-slot", "/usr/lib/berth/compatible", "/usr/lib/berth/update-keys"})
        CHECK_FALSE(bind_of(*sandbox, identity).writable);
    CHECK(sandbox->esp_to_hold == "/efi");
    CHECK(sandbox->holder_caps == std::vector<int>{CAP_SYS_ADMIN});
    CHECK(sandbox->worker_caps.empty());
}

TEST_CASE("status sees no device but /dev/null, writes nothing, and keeps no capability") {
    auto sandbox = plan_job_sandbox(host_needs("status"));
    REQUIRE(sandbox);
    CHECK(paths_of(*sandbox) == std::vector<std::string>{"/dev/null", "/efi", "/etc/os-release", "/run/berth/boot-slot",
                                                         "/usr/lib/berth/compatible", "/var/lib/berth/update"});
    for (const auto& b : sandbox->binds) CHECK((b.writable == (b.path == "/dev/null")));
    CHECK(bind_of(*sandbox, "/var/lib/berth/update").missing == Missing::Skip);
    CHECK(sandbox->esp_to_hold.empty());
    CHECK(sandbox->holder_caps.empty());
    CHECK(sandbox->worker_caps.empty());
}

TEST_CASE("rollback writes the ESP and the records, and no device") {
    auto sandbox = plan_job_sandbox(host_needs("rollback"));
    REQUIRE(sandbox);
    auto paths = paths_of(*sandbox);
    CHECK(std::count(paths.begin(), paths.end(), "/dev/vda3") == 0);
    CHECK(std::count(paths.begin(), paths.end(), "/usr/lib/berth/update-keys") == 0);
    CHECK(sandbox->esp_to_hold == "/efi");
    CHECK(bind_of(*sandbox, "/var/lib/berth/update").writable);
    CHECK(sandbox->holder_caps == std::vector<int>{CAP_SYS_ADMIN});
}

TEST_CASE("an ESP that is a plain directory is bound writable and held by nobody, one not mounted is not there") {
    auto needs = host_needs("apply");
    needs.esp = EspView::Directory;
    auto directory = plan_job_sandbox(needs);
    REQUIRE(directory);
    CHECK(bind_of(*directory, "/efi").writable);
    CHECK(directory->esp_to_hold.empty());
    CHECK(directory->holder_caps.empty());
    auto paths = paths_of(*directory);
    CHECK(std::count(paths.begin(), paths.end(), "/run/berth/esp.lock") == 0);

    needs.esp = EspView::NotMounted;
    auto absent = plan_job_sandbox(needs);
    REQUIRE(absent);
    paths = paths_of(*absent);
    CHECK(std::count(paths.begin(), paths.end(), "/efi") == 0);
    CHECK(absent->esp_to_hold.empty());
}

TEST_CASE("a target device not found is not bound (apply reports it) and a path met twice is bound once") {
    auto needs = host_needs("apply");
    needs.target_device.clear();
    auto sandbox = plan_job_sandbox(needs);
    REQUIRE(sandbox);
    CHECK(std::none_of(sandbox->binds.begin(), sandbox->binds.end(), [](const SandboxBind& b) { return b.device && b.path != "/dev/null"; }));

    needs.paths.state_dir = needs.paths.keys_dir;  // odd, but one mount: the writable one
    auto twice = plan_job_sandbox(needs);
    REQUIRE(twice);
    auto paths = paths_of(*twice);
    CHECK(std::count(paths.begin(), paths.end(), needs.paths.keys_dir) == 1);
    CHECK(bind_of(*twice, needs.paths.keys_dir).writable);
}

TEST_CASE("parents are bound before what is inside them") {
    auto needs = host_needs("apply");
    needs.esp = EspView::Directory;
    needs.paths.esp = "/t/esp";
    needs.paths.state_dir = "/t/esp/state";
    needs.target_device = "/t/root-b";
    auto sandbox = plan_job_sandbox(needs);
    REQUIRE(sandbox);
    auto paths = paths_of(*sandbox);
    CHECK(std::find(paths.begin(), paths.end(), "/t/esp") < std::find(paths.begin(), paths.end(), "/t/esp/state"));
}

TEST_CASE("relative paths and unknown actions are refused") {
    auto needs = host_needs("apply");
    needs.paths.state_dir = "state";
    auto relative = plan_job_sandbox(needs);
    REQUIRE_FALSE(relative);
    CHECK(relative.error().describe() == "the update job's paths must be absolute: 'state'");
    auto unknown = plan_job_sandbox(host_needs("format"));
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().describe() == "no sandbox for the action 'format'");
}
