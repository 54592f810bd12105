// berth-init as PID 1 of a fresh pid + mount namespace, supervising busybox services, driven
// through berthctl exactly as an operator would.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "init_host.hpp"
#include "skip.hpp"

using berth::test::have_unshare;
using berth::test::InitHost;
using berth::test::looping;
using berth::test::Output;
using berth::test::run_command;
using nlohmann::json;

namespace {

size_t position(const std::string& text, const std::string& needle) {
    auto p = text.find(needle);
    INFO("looking for: " << needle << "\nin:\n" << text);
    REQUIRE(p != std::string::npos);
    return p;
}

}  // namespace

TEST_CASE("berth-init starts services in order, supervises and shuts down", "[priv][init]") {
    if (!have_unshare()) return berth::test::skip("needs root and unshare");
    InitHost host;
    host.service("db", looping("[ready]\nfile = \"/tmp/ready\"\ntimeout = \"5s\"\n", "echo db log line; sleep 0.3; touch /tmp/ready; "));
    host.service("web", looping("requires = [\"db\"]\n[restart]\npolicy = \"always\"\ndelay = \"200ms\"\n"));
    host.service("setup", "type = \"oneshot\"\n[container]\nimage = \"bb\"\ncommand = [\"/bin/sh\", \"-c\", \"echo oneshot ran\"]\n");
    host.service("broken", "[container]\nimage = \"bb\"\ncomand = [\"true\"]\n");
    host.service("nocmd", "[container]\nimage = \"bb\"\ncommand = [\"/bin/no-such-program\"]\n");
    host.service("sick", looping("[health]\nexec = [\"test\", \"-f\", \"/tmp/healthy\"]\ninterval = \"200ms\"\nretries = 2\n"
                                 "timeout = \"1s\"\n[restart]\npolicy = \"on-failure\"\ndelay = \"100ms\"\n"));
    host.start();

    SECTION("ordering and readiness are respected; the bad manifest is reported, the others run") {
        auto web = host.wait_state("web", "ready");
        CHECK(web["state"] == "ready");
        auto log = host.ctl({"logs", "berth-init"}).out;
        CHECK(position(log, "db: ready") < position(log, "web: starting"));
        auto broken = host.service_status("broken");
        CHECK(broken["state"] == "invalid");
        // berth-init reads its own resident memory from /proc/self/status ("VmRSS:\t 1440 kB").
        auto status = nlohmann::json::parse(host.ctl({"--json", "status"}).out);
        CHECK(status["init_resident_kib"].is_number_integer());
        CHECK(status["init_resident_kib"].get<long>() > 256);
        CHECK(broken["last_error"].get<std::string>().find("broken.toml:3:1: container.comand: unknown key; did you mean 'command'?") !=
              std::string::npos);
        // A container that fails while setting itself up: the reason comes from its init.
        auto nocmd = host.wait_state("nocmd", "failed");
        CHECK(nocmd["state"] == "failed");
        CHECK_THAT(nocmd["last_error"].get<std::string>(), Catch::Contains("executable '/bin/no-such-program' not found"));
        // A service's cgroup: cgroup2's (at unified/ on this hybrid host), plus v1 hierarchies only
        // for the limits it sets.
        for (int i = 0; i < 100 && access("/sys/fs/cgroup/unified/berth/nocmd", F_OK) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(access("/sys/fs/cgroup/unified/berth/nocmd", F_OK) != 0);
        CHECK(access("/sys/fs/cgroup/berth/nocmd", F_OK) != 0);
        auto table = host.ctl({"services"});
        REQUIRE(table.exit_code == 0);
        CHECK_THAT(table.out, Catch::StartsWith("NAME"));
        CHECK_THAT(table.out, Catch::Contains("broken"));
    }

    SECTION("a oneshot runs once, to completion") {
        auto setup = host.wait_state("setup", "exited");
        CHECK(setup["state"] == "exited");
        CHECK(setup["last_exit"]["code"] == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK(host.ctl({"logs", "setup"}).out.find("oneshot ran") != std::string::npos);
        auto lines = host.ctl({"logs", "setup"}).out;
        CHECK(std::count(lines.begin(), lines.end(), '\n') == 1);
        CHECK(host.service_status("setup")["restarts"] == 0);
    }

    SECTION("kill -9 of a service restarts it per policy") {
        auto web = host.wait_state("web", "ready");
        REQUIRE(web["pid"].is_number());
        // The service's pid is in berth-init's namespace; find it on the host through its cgroup.
        auto pids = run_command({"/bin/sh", "-c", "cat /sys/fs/cgroup/unified/berth/web/cgroup.procs /sys/fs/cgroup/berth/web/cgroup.procs 2>/dev/null | head -1"});
        REQUIRE(!pids.out.empty());
        REQUIRE(kill(std::stoi(pids.out), SIGKILL) == 0);
        json after;
        for (int i = 0; i < 100; ++i) {
            after = host.service_status("web");
            if (after["restarts"] == 1 && after["state"] == "ready") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(after["restarts"] == 1);
        CHECK(after["state"] == "ready");
        CHECK(after["last_exit"]["signal"] == "SIGKILL");
        CHECK(after["pid"] != web["pid"]);
        CHECK(host.ctl({"logs", "berth-init"}).out.find("web: killed by SIGKILL; restarting in 200ms") != std::string::npos);
    }

    SECTION("a failing health check restarts the service") {
        json sick;
        for (int i = 0; i < 200; ++i) {
            sick = host.service_status("sick");
            if (sick["restarts"].get<int>() >= 1) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(sick["restarts"].get<int>() >= 1);
        CHECK(host.ctl({"logs", "berth-init"}).out.find("sick: health check failed") != std::string::npos);
    }

    SECTION("logs, stop and start through berthctl; bad requests get clear errors") {
        host.wait_state("db", "ready");
        auto logs = host.ctl({"logs", "-n", "5", "db"});
        REQUIRE(logs.exit_code == 0);
        CHECK_THAT(logs.out, Catch::Contains(" O db log line"));
        CHECK(host.ctl({"stop", "web"}).exit_code == 0);
        CHECK(host.wait_state("web", "stopped")["state"] == "stopped");
        CHECK(host.ctl({"start", "web"}).exit_code == 0);
        CHECK(host.wait_state("web", "ready")["state"] == "ready");
        auto unknown = host.ctl({"stop", "nope"});
        CHECK(unknown.exit_code == 1);
        CHECK_THAT(unknown.err, Catch::Contains("unknown service 'nope'"));
        auto bad_n = host.ctl({"logs", "-n", "x", "db"});
        CHECK(bad_n.exit_code == 1);
        CHECK_THAT(bad_n.err, Catch::Contains("-n needs a positive number, not 'x'"));
    }

    SECTION("berthctl add: the whole manifest takes effect; a bad one is refused with its location; remove") {
        // Manifests are parsed in a helper process and sent back to berth-init: every field must
        // survive the trip.
        std::string extra = host.dir() + "/extra.toml";
        std::ofstream(extra) << "description = \"added at run time\"\n"
                                "[container]\nimage = \"bb\"\nread_only = false\nworkdir = \"/tmp\"\nhostname = \"extra-host\"\n"
                                "command = [\"/bin/sh\", \"-c\"]\n"
                                "args = [\"echo env=$GREETING host=$(hostname) cwd=$(pwd); touch /tmp/up; "
                                "trap 'exit 0' USR1; while :; do sleep 0.1; done\"]\n"
                                "env = { GREETING = \"hello\" }\n"
                                "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/scratch\"\n"
                                "[resources]\npids = 50\n"
                                "[ready]\nexec = [\"test\", \"-f\", \"/tmp/up\"]\ntimeout = \"5s\"\n"
                                "[stop]\nsignal = \"USR1\"\ntimeout = \"2s\"\n";
        auto added = host.ctl({"add", extra});
        INFO(added.err);
        REQUIRE(added.exit_code == 0);
        CHECK(host.wait_state("extra", "ready")["state"] == "ready");
        std::string logs;
        for (int i = 0; i < 50 && logs.find("env=") == std::string::npos; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            logs = host.ctl({"logs", "extra"}).out;
        }
        CHECK_THAT(logs, Catch::Contains("env=hello host=extra-host cwd=/tmp"));
        auto limit = run_command({"/bin/sh", "-c", "cat /sys/fs/cgroup/pids/berth/extra/pids.max /sys/fs/cgroup/berth/extra/pids.max 2>/dev/null"});
        CHECK(limit.out == "50\n");

        std::string bad = host.dir() + "/bad.toml";
        std::ofstream(bad) << "[container]\nimage = \"bb\"\ncommand = [\"true\"]\n[stop]\nsignal = \"NOPE\"\n";
        auto refused = host.ctl({"add", bad});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("bad.toml:5:10: stop.signal: unknown signal 'NOPE'"));

        CHECK(host.ctl({"remove", "extra"}).exit_code == 0);
        for (int i = 0; i < 100 && !host.service_status("extra").is_null(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK(host.service_status("extra").is_null());
        CHECK_THAT(host.init_log(), Catch::Contains("extra: stopping with SIGUSR1"));
    }

    SECTION("SIGTERM shuts down in reverse dependency order and leaves nothing behind") {
        host.wait_state("web", "ready");
        pid_t init = host.init_pid();
        REQUIRE(init > 0);
        REQUIRE(kill(init, SIGTERM) == 0);
        REQUIRE(host.wait_exit(15000));
        std::string log = host.init_log();
        CHECK(position(log, "web: stopped") < position(log, "db: stopping"));
        auto leftovers = run_command({"/bin/sh", "-c", "cat /sys/fs/cgroup/unified/berth/*/cgroup.procs /sys/fs/cgroup/berth/*/cgroup.procs 2>/dev/null | wc -l"});
        CHECK(leftovers.out == "0\n");
        auto dirs = run_command({"/bin/sh", "-c", "ls -d /sys/fs/cgroup/berth/db /sys/fs/cgroup/berth/web /sys/fs/cgroup/*/berth/db "
                                                 "/sys/fs/cgroup/*/berth/web 2>/dev/null | wc -l"});
        CHECK(dirs.out == "0\n");
    }
}

TEST_CASE("logs reach logd, including lines written before logd was ready", "[priv][init]") {
    if (!have_unshare()) return berth::test::skip("needs root and unshare");
    // logd's image is just its binary, which must then be static (the release preset).
    if (run_command({"/usr/bin/ldd", LOGD_BINARY}).exit_code == 0) 
        return berth::test::skip("logd is dynamically linked; build with BERTH_STATIC");
    InitHost host;
    REQUIRE(run_command({"/bin/sh", "-c", "mkdir -p " + host.dir() + "/images/logd " + host.dir() + "/run/logd " +
                                              host.dir() + "/log && cp " + LOGD_BINARY + " " + host.dir() + "/images/logd/logd"})
                .exit_code == 0);
    host.service("early", "type = \"oneshot\"\n[container]\nimage = \"bb\"\n"
                          "command = [\"/bin/sh\", \"-c\", \"echo written before logd; echo to stderr >&2\"]\n");
    host.service("logd", "after = [\"early\"]\n[container]\nimage = \"logd\"\n"
                         "command = [\"/logd\", \"--dir\", \"/var/log/berth\", \"--ingest\", \"/run/logd/ingest.sock\", "
                         "\"--syslog\", \"\", \"--kmsg\", \"\"]\n"
                         "[[mount]]\ntype = \"bind\"\nsource = \"" + host.dir() + "/run/logd\"\ntarget = \"/run/logd\"\n"
                         "[[mount]]\ntype = \"bind\"\nsource = \"" + host.dir() + "/log\"\ntarget = \"/var/log/berth\"\n"
                         "[ready]\nnotify = true\ntimeout = \"10s\"\n");
    host.start();
    CHECK(host.wait_state("logd", "ready")["state"] == "ready");
    std::string early;
    for (int i = 0; i < 100 && early.find("to stderr") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream f(host.dir() + "/log/early.log");
        early.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    CHECK_THAT(early, Catch::Contains(" early stdout written before logd\n"));
    CHECK_THAT(early, Catch::Contains(" early stderr to stderr\n"));
    // berth-init's own events are persisted too.
    std::ifstream f(host.dir() + "/log/berth-init.log");
    std::string events((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK_THAT(events, Catch::Contains("early: finished"));
}

TEST_CASE("TCP readiness: a port in the host's network namespace, one in the service's own, one never open", "[priv][init]") {
    if (!have_unshare()) return berth::test::skip("needs root and unshare");
    InitHost host;
    // The host-network service listens on the host's loopback: a port unlikely to be taken.
    int host_port = 20000 + static_cast<int>(getpid() % 20000);
    auto web = [](const std::string& network, int port, int ready_port, const std::string& timeout) {
        return "[container]\nimage = \"bb\"\nread_only = false\nnetwork = \"" + network + "\"\n"
               "command = [\"/bin/sh\", \"-c\", \"sleep 0.3; exec httpd -f -h /tmp -p 127.0.0.1:" + std::to_string(port) + "\"]\n"
               "[ready]\ntcp = " + std::to_string(ready_port) + "\ntimeout = \"" + timeout + "\"\n"
               "[restart]\npolicy = \"no\"\n[stop]\ntimeout = \"2s\"\n";
    };
    host.service("hostnet", web("host", host_port, host_port, "10s"));   // probed by PID 1 itself
    host.service("ownnet", web("none", 8080, 8080, "10s"));               // probed from a child in its namespace
    host.service("closed", web("none", 8080, 8081, "1s"));                // listens, but not where it says
    host.start();
    CHECK(host.wait_state("hostnet", "ready")["state"] == "ready");
    CHECK(host.wait_state("ownnet", "ready")["state"] == "ready");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto closed = host.service_status("closed");
    INFO(closed.dump() << "\n" << host.init_log());
    CHECK(closed["state"] != "ready");
    CHECK_THAT(host.init_log(), Catch::Contains("closed: not ready"));
}
