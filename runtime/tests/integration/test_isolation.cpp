// Each isolation feature, read back from inside a busybox container run by the real binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "bundle.hpp"
#include "skip.hpp"

using berth::test::Bundle;
using berth::test::run_command;
using nlohmann::json;

#define REQUIRE_ROOT() \
    if (!berth::test::have_root()) return berth::test::skip("needs root")

namespace {

std::string status_field(const std::string& status, const std::string& field) {
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) {
            auto value = line.substr(field.size() + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            value.erase(value.find_last_not_of(" \t") + 1);
            return value;
        }
    return "<missing " + field + ">";
}

std::string read_host_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("the process is PID 1 and sees its own hostname", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["hostname"] = "berth-test-host";
    b.set_command("echo $$ $(hostname); ps -o pid= | sort -n | tail -1");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    // Only the shell and its pipeline exist: the pid namespace hides every host process.
    REQUIRE_THAT(r.out, Catch::StartsWith("1 berth-test-host\n"));
    int highest_pid = std::stoi(r.out.substr(r.out.find('\n') + 1));
    CHECK(highest_pid >= 2);
    CHECK(highest_pid <= 5);
}

TEST_CASE("default capabilities are Docker's 14", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("cat /proc/self/status");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.out, "CapEff") == "00000000a80425fb");
    CHECK(status_field(r.out, "CapPrm") == "00000000a80425fb");
    CHECK(status_field(r.out, "CapBnd") == "00000000a80425fb");
    CHECK(status_field(r.out, "CapInh") == "0000000000000000");
    CHECK(status_field(r.out, "NoNewPrivs") == "1");
    CHECK(status_field(r.out, "Seccomp") == "2");
}

TEST_CASE("configured capability sets are applied exactly", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"}},
                                           {"effective", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                           {"permitted", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                           {"inheritable", {"CAP_NET_BIND_SERVICE"}},
                                           {"ambient", {"CAP_NET_BIND_SERVICE"}}};
    b.set_command("cat /proc/self/status");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.out, "CapEff") == "0000000000000420");
    CHECK(status_field(r.out, "CapBnd") == "0000000000000421");
    CHECK(status_field(r.out, "CapInh") == "0000000000000400");
    CHECK(status_field(r.out, "CapAmb") == "0000000000000400");
}

TEST_CASE("a syscall denied by seccomp returns the configured errno", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
    b.set_command("mkdir /tmp/x; echo rc=$?");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "rc=1\n");
    CHECK_THAT(r.err, Catch::Contains("Function not implemented"));  // ENOSYS = 38
}

TEST_CASE("the default seccomp profile denies what Docker's denies", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    // unshare(CLONE_NEWUSER) needs no capability, so only seccomp can refuse it.
    b.set_command("unshare -U true; echo rc=$?");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "rc=1\n");
    CHECK_THAT(r.err, Catch::Contains("Operation not permitted"));
}

TEST_CASE("a readonly root refuses writes", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["root"]["readonly"] = true;
    b.set_command("touch /newfile; echo rc=$?; touch /dev/shm/ok && echo shm-writable");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "rc=1\nshm-writable\n");
    CHECK_THAT(r.err, Catch::Contains("Read-only file system"));
}

TEST_CASE("masked paths are empty and readonly paths refuse writes", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    // /proc/timer_list is masked by default and is never empty on the host.
    REQUIRE(read_host_file("/proc/timer_list").size() > 0);
    b.set_command("wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname; echo rc=$?");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "0\n0\nrc=1\n");
    CHECK_THAT(r.err, Catch::Contains("Read-only file system"));
}

TEST_CASE("rlimits, oom score, umask, cwd and env are applied", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 123}, {"hard", 456}}};
    b.config["process"]["oomScoreAdj"] = 517;
    b.config["process"]["user"]["umask"] = 63;  // 077
    b.config["process"]["cwd"] = "/tmp";
    b.config["process"]["env"] = {"PATH=/bin", "GREETING=hello world"};
    b.set_command("ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; umask; pwd; echo \"$GREETING\"");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "123\n456\n517\n0077\n/tmp\nhello world\n");
}

TEST_CASE("user, group and additional groups", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {2000, 3000}}};
    b.set_command("cat /proc/self/status");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.out, "Uid") == "1000\t1000\t1000\t1000");
    CHECK(status_field(r.out, "Gid") == "1001\t1001\t1001\t1001");
    CHECK(status_field(r.out, "Groups") == "2000 3000");
    // A non-root user keeps no effective capabilities.
    CHECK(status_field(r.out, "CapEff") == "0000000000000000");
}

TEST_CASE("a user namespace maps root to an unprivileged host uid", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    b.set_command("cat /proc/self/uid_map; id -u; sleep 0.5");
    b.write();
    auto r = b.run();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matches("\\s*0\\s+100000\\s+65536\\s*\n0\n"));
}

TEST_CASE("joining an existing network namespace by path", "[priv][isolation]") {
    REQUIRE_ROOT();
    std::string name = "berth-it-" + std::to_string(getpid());
    REQUIRE(run_command({"/bin/ip", "netns", "add", name}).exit_code == 0);
    struct stat st{};
    REQUIRE(stat(("/run/netns/" + name).c_str(), &st) == 0);
    Bundle b;
    for (auto& ns : b.config["linux"]["namespaces"])
        if (ns["type"] == "network") ns["path"] = "/run/netns/" + name;
    b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    b.set_command("readlink /proc/self/ns/net; cat /proc/sys/net/ipv4/ip_forward");
    auto r = b.run();
    run_command({"/bin/ip", "netns", "delete", name});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "net:[" + std::to_string(st.st_ino) + "]\n1\n");
}

TEST_CASE("mounts are applied in order with their options", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    std::string host_dir = b.dir() + "/shared";
    REQUIRE(run_command({"/bin/sh", "-c", "mkdir -p " + host_dir + " && echo from-host > " + host_dir + "/file"}).exit_code == 0);
    b.config["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", host_dir}, {"options", {"rbind", "ro", "nosuid"}}});
    b.config["mounts"].push_back({{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m", "noexec"}}});
    b.set_command("cat /data/file; touch /data/new; echo rc=$?; grep -E ' /(data|scratch) ' /proc/self/mountinfo | cut -d' ' -f5,6;"
                  " df -k /scratch | tail -1 | awk '{print $2}'");
    auto r = b.run();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("from-host\nrc=1\n"));
    CHECK_THAT(r.out, Catch::Contains("/data ro,nosuid"));
    CHECK_THAT(r.out, Catch::Contains("/scratch rw,noexec"));
    CHECK_THAT(r.out, Catch::EndsWith("\n1024\n"));
}

TEST_CASE("a minimal /dev with the default devices and symlinks", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("ls /dev | tr '\\n' ' '; echo; readlink /dev/fd; readlink /dev/ptmx; stat -c '%t:%T' /dev/null /dev/urandom");
    auto r = b.run();
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n"
                   "/proc/self/fd\npts/ptmx\n1:3\n1:9\n");
}

TEST_CASE("hooks run at their points with the container state", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    std::string out = b.dir() + "/hooks";
    REQUIRE(mkdir(out.c_str(), 0755) == 0);
    auto hook = [&](const std::string& name) {
        return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + out + "/" + name}}};
    };
    b.config["hooks"] = {{"prestart", {hook("prestart")}},
                         {"createRuntime", {hook("createRuntime")}},
                         {"createContainer", {hook("createContainer")}},
                         {"poststart", {hook("poststart")}},
                         {"poststop", {hook("poststop")}}};
    // startContainer runs inside the container: its path resolves in the container's root.
    b.config["hooks"]["startContainer"] = {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /tmp/startContainer"}}}};
    b.set_command("cat /tmp/startContainer");
    auto r = b.run("hooked");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto inside = json::parse(r.out);
    CHECK(inside["id"] == "hooked");
    for (const char* name : {"prestart", "createRuntime", "createContainer", "poststart", "poststop"}) {
        INFO(name);
        auto state = json::parse(read_host_file(out + "/" + name));
        CHECK(state["id"] == "hooked");
        CHECK(state["bundle"] == b.dir());
        if (std::string(name) == "poststop") {
            CHECK(state["status"] == "stopped");
        } else {
            CHECK(state["pid"].get<int>() > 1);
            CHECK(state["status"] == (std::string(name) == "poststart" ? "running" : "creating"));
        }
    }
}

TEST_CASE("a failing prestart hook fails the run and leaves nothing behind", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["hooks"] = {{"prestart", {{{"path", "/bin/false"}}}}};
    auto r = b.run("badhook");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("hooks.prestart[0] '/bin/false': exited with status 1"));
    struct stat st{};
    CHECK(stat((b.state_root() + "/badhook").c_str(), &st) != 0);
}

TEST_CASE("exit codes and signals propagate through run", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("exit 42");
    CHECK(b.run().exit_code == 42);
    // Without a pid namespace the shell is not an init, so SIGKILL from itself kills it.
    auto& nss = b.config["linux"]["namespaces"];
    for (size_t i = 0; i < nss.size(); ++i)
        if (nss[i]["type"] == "pid") nss.erase(i);
    b.set_command("kill -9 $$");
    CHECK(b.run().exit_code == 137);
}

TEST_CASE("signals sent to berth run reach the container", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.set_command("trap 'echo got-term; exit 9' TERM; touch /tmp/ready; while :; do sleep 0.05; done");
    b.write();
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(berth::test::berth_binary().c_str(), "berth", "--root", b.state_root().c_str(), "run", "--bundle",
              b.dir().c_str(), "sig", nullptr);
        _exit(126);
    }
    for (int i = 0; i < 400 && access((b.rootfs() + "/tmp/ready").c_str(), F_OK) != 0; ++i) usleep(10000);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 9);
}

TEST_CASE("resource limits are enforced through the host's cgroups", "[priv][isolation]") {
    REQUIRE_ROOT();
    Bundle b;
    b.config["linux"]["resources"] = {{"pids", {{"limit", 8}}}, {"memory", {{"limit", 64 * 1024 * 1024}}}};
    // A child shell forks sleepers until the pids limit stops it; PID 1 then only execs.
    b.set_command("sh -c 'i=0; while [ $i -lt 12 ]; do sleep 30 & i=$((i+1)); done' 2>/tmp/err; echo $? > /tmp/inner;"
                  " exec sleep 30");
    REQUIRE(b.berth({"run", "--detach", "--bundle", b.dir(), "limited"}).exit_code == 0);
    for (int i = 0; i < 500 && read_host_file(b.rootfs() + "/tmp/inner").empty(); ++i) usleep(10000);
    CHECK(read_host_file(b.rootfs() + "/tmp/inner") == "2\n");  // ash exits 2 when it cannot fork
    CHECK_THAT(read_host_file(b.rootfs() + "/tmp/err"), Catch::Contains("can't fork"));
    // Read the limits back where this host keeps them (v1 hierarchies here, cgroup2 elsewhere).
    std::string pids_max = read_host_file("/sys/fs/cgroup/pids/berth/limited/pids.max");
    if (pids_max.empty()) pids_max = read_host_file("/sys/fs/cgroup/berth/limited/pids.max");
    CHECK(pids_max == "8\n");
    std::string memory = read_host_file("/sys/fs/cgroup/memory/berth/limited/memory.limit_in_bytes");
    if (memory.empty()) memory = read_host_file("/sys/fs/cgroup/berth/limited/memory.max");
    CHECK(memory == "67108864\n");
    CHECK(b.berth({"delete", "--force", "limited"}).exit_code == 0);
}

TEST_CASE("limits that cannot be honoured fail clearly", "[priv][isolation]") {
    REQUIRE_ROOT();
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string all((std::istreambuf_iterator<char>(mountinfo)), std::istreambuf_iterator<char>());
    if (all.find(" - cgroup ") == std::string::npos)
        return berth::test::skip("pure cgroup2 host: unified limits are honoured here");
    Bundle b;
    b.config["linux"]["resources"] = {{"unified", {{"memory.high", "1000000"}}}};
    auto r = b.run("unhonoured");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("linux.resources.unified"));
    struct stat st{};
    CHECK(stat((b.state_root() + "/unhonoured").c_str(), &st) != 0);
}
