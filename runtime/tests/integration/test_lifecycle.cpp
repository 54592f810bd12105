// The lifecycle through the CLI: create/start/state/kill/delete, exec, pause/resume,
// and bad input that must fail clearly and leave nothing behind.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "bundle.hpp"
#include "skip.hpp"

using berth::test::Bundle;
using berth::test::Output;
using berth::test::run_command;
using nlohmann::json;

#define REQUIRE_ROOT() \
    if (!berth::test::have_root()) return berth::test::skip("needs root")

namespace {

std::string status_of(const Bundle& b, const std::string& id) {
    auto r = b.berth({"state", id});
    if (r.exit_code != 0) return "error: " + r.err;
    return json::parse(r.out)["status"];
}

bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

// A container cgroup lives at <hierarchy>/berth/<id> unless cgroupsPath says otherwise.
bool any_cgroup_dir(const std::string& relative) {
    DIR* d = opendir("/sys/fs/cgroup");
    if (!d) return false;
    bool found = exists("/sys/fs/cgroup" + relative);
    while (struct dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != ".." && exists("/sys/fs/cgroup/" + name + relative)) found = true;
    }
    closedir(d);
    return found;
}

}  // namespace

TEST_CASE("create, start, state, kill and delete", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("trap 'exit 0' TERM; while :; do sleep 0.05; done");
    std::string pid_file = b.dir() + "/pid";
    auto created = b.berth({"create", "--bundle", b.dir(), "--pid-file", pid_file, "life"});
    INFO(created.err);
    REQUIRE(created.exit_code == 0);
    auto state = json::parse(b.berth({"state", "life"}).out);
    CHECK(state["status"] == "created");
    CHECK(state["id"] == "life");
    CHECK(state["bundle"] == b.dir());
    CHECK(state["ociVersion"] == "1.0.2");
    int pid = state["pid"];
    std::ifstream pf(pid_file);
    int pid_from_file = 0;
    pf >> pid_from_file;
    CHECK(pid_from_file == pid);
    CHECK(any_cgroup_dir("/berth/life"));

    REQUIRE(b.berth({"start", "life"}).exit_code == 0);
    CHECK(status_of(b, "life") == "running");
    CHECK(b.berth({"start", "life"}).exit_code == 1);  // not in created state any more

    auto ps = b.berth({"ps", "--format", "json", "life"});
    REQUIRE(ps.exit_code == 0);
    CHECK(json::parse(ps.out).size() >= 1);

    auto list = json::parse(b.berth({"list", "--format", "json"}).out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["id"] == "life");
    CHECK(list[0]["status"] == "running");

    auto refused = b.berth({"delete", "life"});
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("container 'life' is running: stop it first or use --force"));

    REQUIRE(b.berth({"kill", "life", "TERM"}).exit_code == 0);
    for (int i = 0; i < 200 && status_of(b, "life") != "stopped"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(status_of(b, "life") == "stopped");
    CHECK(b.berth({"kill", "life", "KILL"}).exit_code == 1);
    REQUIRE(b.berth({"delete", "life"}).exit_code == 0);
    CHECK_FALSE(exists(b.state_root() + "/life"));
    CHECK_FALSE(any_cgroup_dir("/berth/life"));
    berth::test::reap_orphans();
    CHECK(kill(pid, 0) != 0);  // no process, no zombie: pid is gone
}

TEST_CASE("exec joins a running container", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["hostname"] = "exec-host";
    b.set_command("sleep 100");
    REQUIRE(b.berth({"run", "--detach", "--bundle", b.dir(), "ex"}).exit_code == 0);
    auto r = b.berth({"exec", "ex", "/bin/sh", "-c", "echo $(hostname) $(cat /proc/1/cmdline | tr '\\0' ' ')"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("exec-host sleep 100"));
    CHECK(b.berth({"exec", "ex", "/bin/sh", "-c", "exit 3"}).exit_code == 3);

    json process = {{"args", {"/bin/sh", "-c", "id -u; grep CapEff /proc/self/status"}},
                    {"cwd", "/tmp"}, {"env", {"PATH=/bin"}}, {"user", {{"uid", 33}, {"gid", 33}}}};
    std::ofstream(b.dir() + "/process.json") << process.dump();
    auto p = b.berth({"exec", "--process", b.dir() + "/process.json", "ex"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    CHECK(p.out == "33\nCapEff:\t0000000000000000\n");

    auto missing = b.berth({"exec", "ex", "/no/such/binary"});
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.err, Catch::Contains("executable '/no/such/binary' not found"));
    REQUIRE(b.berth({"delete", "--force", "ex"}).exit_code == 0);
    auto gone = b.berth({"exec", "ex", "true"});
    CHECK(gone.exit_code == 1);
    CHECK_THAT(gone.err, Catch::Contains("container 'ex' does not exist"));
}

TEST_CASE("pause and resume through the cgroup freezer", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    // Written aside and renamed into place: a read never sees the file truncated but not yet written.
    b.set_command("i=0; while :; do i=$((i+1)); echo $i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.02; done");
    REQUIRE(b.berth({"run", "--detach", "--bundle", b.dir(), "pz"}).exit_code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto paused = b.berth({"pause", "pz"});
    if (paused.exit_code != 0 && paused.err.find("freezer") != std::string::npos)
        return berth::test::skip("no cgroup freezer on this host: " + paused.err);
    REQUIRE(paused.exit_code == 0);
    CHECK(status_of(b, "pz") == "paused");
    auto read_counter = [&] {
        std::ifstream f(b.rootfs() + "/tmp/counter");
        int v = -1;
        f >> v;
        return v;
    };
    int before = read_counter();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(read_counter() == before);  // frozen: no progress
    REQUIRE(b.berth({"resume", "pz"}).exit_code == 0);
    CHECK(status_of(b, "pz") == "running");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(read_counter() > before);
    REQUIRE(b.berth({"kill", "--all", "pz", "KILL"}).exit_code == 0);
    REQUIRE(b.berth({"delete", "--force", "pz"}).exit_code == 0);
}

TEST_CASE("bad input fails clearly and leaves nothing behind", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    auto expect_create_error = [&](const std::string& message) {
        auto r = b.berth({"create", "--bundle", b.dir(), "bad"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains(message));
        CHECK_FALSE(exists(b.state_root() + "/bad"));
        CHECK_FALSE(any_cgroup_dir("/berth/bad"));
    };

    SECTION("malformed JSON") {
        b.write();
        std::ofstream(b.dir() + "/config.json") << "{\"ociVersion\": \"1.0.2\",\n \"root\": {";
        auto r = run_command({berth::test::berth_binary(), "--root", b.state_root(), "create", "--bundle", b.dir(), "bad"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains(b.dir() + "/config.json: invalid JSON"));
        CHECK_THAT(r.err, Catch::Contains("line 2"));
        CHECK_FALSE(exists(b.state_root() + "/bad"));
    }
    SECTION("unknown namespace type") {
        b.config["linux"]["namespaces"][1]["type"] = "netwrk";
        expect_create_error("linux.namespaces[1].type: unknown namespace type 'netwrk'");
    }
    SECTION("missing rootfs") {
        b.config["root"]["path"] = "no-such-rootfs";
        expect_create_error("root.path '" + b.dir() + "/no-such-rootfs': No such file or directory");
    }
    SECTION("missing executable") {
        b.config["process"]["args"] = {"/bin/nonexistent"};
        expect_create_error("executable '/bin/nonexistent' not found in the container: No such file or directory");
    }
    SECTION("an executable that is not executable") {
        b.config["process"]["args"] = {"/etc/passwd"};
        expect_create_error("exec '/etc/passwd': Permission denied");
    }
    SECTION("an id that exists") {
        b.set_command("sleep 100");
        REQUIRE(b.berth({"create", "--bundle", b.dir(), "dup"}).exit_code == 0);
        auto r = b.berth({"create", "--bundle", b.dir(), "dup"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("container 'dup' already exists"));
        CHECK(status_of(b, "dup") == "created");  // the first one is untouched
        REQUIRE(b.berth({"delete", "dup"}).exit_code == 0);
    }
    SECTION("a container that does not exist") {
        for (auto args : std::vector<std::vector<std::string>>{{"state", "ghost"}, {"start", "ghost"}, {"kill", "ghost"},
                                                                {"delete", "ghost"}, {"pause", "ghost"}}) {
            auto r = b.berth(args);
            CHECK(r.exit_code == 1);
            CHECK_THAT(r.err, Catch::Contains("container 'ghost' does not exist"));
        }
        // A forced delete of what is already gone succeeds, as runc's does (podman relies on it).
        CHECK(b.berth({"delete", "--force", "ghost"}).exit_code == 0);
    }
    SECTION("bad command line") {
        auto r = b.berth({"kill", "x", "SIGNOPE"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("unknown signal 'SIGNOPE'"));
        r = b.berth({"create", "--bundle"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("flag '--bundle' needs a value"));
        r = b.berth({"frobnicate"});
        CHECK(r.exit_code == 2);
        CHECK_THAT(r.err, Catch::Contains("unknown command 'frobnicate'"));
        r = b.berth({"create", "--bundle", b.dir(), "../escape"});
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("invalid container id '../escape'"));
    }
}

TEST_CASE("errors go to the log file as JSON for podman", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    std::string log = b.dir() + "/log.json";
    auto argv = std::vector<std::string>{berth::test::berth_binary(), "--root", b.state_root(), "--log", log,
                                         "--log-format", "json", "state", "ghost"};
    auto r = run_command(argv);
    CHECK(r.exit_code == 1);
    std::ifstream f(log);
    std::string line;
    std::getline(f, line);
    auto j = json::parse(line);
    CHECK(j["level"] == "error");
    CHECK(j["msg"] == "state: container 'ghost' does not exist");
}

TEST_CASE("run leaves no state, cgroup or process behind", "[priv][lifecycle]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("sleep 0.1 & sleep 0.1 & echo done");
    auto r = b.run("clean");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "done\n");
    CHECK_FALSE(exists(b.state_root() + "/clean"));
    CHECK_FALSE(any_cgroup_dir("/berth/clean"));
}
