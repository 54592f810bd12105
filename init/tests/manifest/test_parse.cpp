// parse_manifest: each key of the format reaches ServiceManifest, defaults are documented
// values, and strictness holds for the cases the corpus does not spell out.
#include <csignal>

#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace berth::manifest;
using namespace berth::manifest::test;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

namespace {

ServiceManifest good(const std::string& name) {
    std::string text = replace_all(read_text(data_dir() + "/good/" + name + ".toml"), "@DATA@", data_dir());
    return parse_ok(text, name + ".toml");
}

const std::string kMinimal = "[container]\nimage = \"app\"\ncommand = [\"/bin/app\"]\n";

}  // namespace

TEST_CASE("a minimal manifest gets the documented defaults", "[unit][manifest][parse]") {
    ServiceManifest m = good("minimal");
    CHECK(m.name == "minimal");
    CHECK(m.file_path == "minimal.toml");
    CHECK(m.type == ServiceType::Service);
    CHECK_FALSE(m.critical);
    CHECK_FALSE(m.privileged);
    CHECK(m.after.empty());
    CHECK(m.required_services.empty());
    CHECK(m.container.image == "app");
    CHECK(m.container.command == Strings{"/usr/bin/app"});
    CHECK(m.container.workdir == "/");
    CHECK(m.container.user.empty());
    CHECK(m.container.read_only);
    CHECK(m.container.network == NetworkMode::None);
    CHECK(m.container.pid == PidMode::Private);
    CHECK(m.container.seccomp == SeccompMode::Default);
    CHECK(m.mounts.empty());
    CHECK_FALSE(m.resources.memory_bytes);
    CHECK(m.ready.kind == ReadyKind::None);
    CHECK(m.ready.timeout == 30s);
    CHECK_FALSE(m.health);
    CHECK(m.restart.policy == RestartPolicy::OnFailure);
    CHECK(m.restart.delay == 100ms);
    CHECK(m.restart.max_delay == 30s);
    CHECK(m.restart.reset_after == 60s);
    CHECK(m.stop.signal == SIGTERM);
    CHECK(m.stop.signal_name == "TERM");
    CHECK(m.stop.timeout == 10s);
    CHECK(m.warnings.empty());
}

TEST_CASE("every key of a full service reaches the manifest", "[unit][manifest][parse]") {
    ServiceManifest m = good("web");
    CHECK(m.description == "Web front end");
    CHECK(m.critical);
    CHECK(m.after == Strings{"syslog"});
    CHECK(m.required_services == Strings{"db"});
    const ContainerSection& c = m.container;
    CHECK(c.command == Strings{"/usr/sbin/httpd", "-f"});
    CHECK(c.args == Strings{"-p", "8080"});
    CHECK(c.env == std::map<std::string, std::string>{{"LISTEN", "0.0.0.0:8080"}, {"MODE", "production"}});
    CHECK(c.workdir == "/srv/www");
    CHECK(c.user == "www");
    CHECK(c.group == "www");
    CHECK(c.hostname == "web-1");
    CHECK(c.network == NetworkMode::Host);
    CHECK(m.resources.memory_bytes == 256ULL << 20);
    CHECK(m.resources.cpus == 1.5);
    CHECK(m.resources.pids == 200);
    CHECK(m.resources.io_weight == 200);
    CHECK(m.ready.kind == ReadyKind::Tcp);
    CHECK(m.ready.tcp_port == 8080);
    CHECK(m.ready.timeout == 20s);
    REQUIRE(m.health);
    CHECK(m.health->exec.size() == 5);
    CHECK(m.health->interval == 10s);
    CHECK(m.health->timeout == 2s);
    CHECK(m.health->retries == 5);
    CHECK(m.health->start_period == 30s);
    CHECK(m.restart.policy == RestartPolicy::Always);
    CHECK(m.restart.delay == 200ms);
    CHECK(m.restart.max_delay == 1min);
    CHECK(m.restart.reset_after == 5min);
    CHECK(m.stop.signal == SIGQUIT);
    CHECK(m.stop.signal_name == "QUIT");
    CHECK(m.stop.timeout == 90s);
}

TEST_CASE("oneshot services default to no restart", "[unit][manifest][parse]") {
    CHECK(parse_ok("type = \"oneshot\"\n" + kMinimal).restart.policy == RestartPolicy::No);
    ServiceManifest m = good("oneshot");
    CHECK(m.type == ServiceType::Oneshot);
    CHECK(m.critical);
    CHECK(m.restart.policy == RestartPolicy::OnFailure);
}

TEST_CASE("mounts of all three kinds", "[unit][manifest][parse]") {
    ServiceManifest m = good("mounts");
    CHECK_FALSE(m.container.read_only);
    REQUIRE(m.mounts.size() == 4);
    CHECK(m.mounts[0].type == MountType::Bind);
    CHECK(m.mounts[0].source == "/etc/app");
    CHECK(m.mounts[0].read_only);
    CHECK(m.mounts[1].type == MountType::Tmpfs);
    CHECK(m.mounts[1].source.empty());
    // Sizes in tmpfs options use the manifest's units and reach the kernel in bytes.
    CHECK(m.mounts[1].options == Strings{"size=67108864", "mode=1777", "exec"});
    CHECK(m.mounts[2].type == MountType::Volume);
    CHECK(m.mounts[2].source == "app-cache");
    CHECK(m.mounts[2].options == Strings{"noexec", "nosuid"});
    CHECK_FALSE(m.mounts[3].read_only);
}

TEST_CASE("capability names are canonical, with or without CAP_, any case", "[unit][manifest][parse]") {
    ServiceManifest m = good("capabilities");
    CHECK(m.container.capabilities_add == Strings{"CAP_NET_ADMIN", "CAP_NET_RAW"});
    CHECK(m.container.capabilities_drop == Strings{"CAP_MKNOD", "CAP_SETFCAP"});
    CHECK(good("minimal-caps").container.capabilities_drop == Strings{"ALL"});
}

TEST_CASE("privileged and unconfined services carry loud warnings", "[unit][manifest][parse]") {
    ServiceManifest p = good("privileged");
    CHECK(p.privileged);
    REQUIRE(p.warnings.size() == 1);
    CHECK(p.warnings[0] ==
          "privileged.toml:2:14: privileged: service 'privileged' runs privileged: every capability, no seccomp "
          "filter, the host's devices, writable /sys and /proc");
    ServiceManifest s = good("seccomp");
    CHECK(s.container.seccomp == SeccompMode::Unconfined);
    REQUIRE(s.warnings.size() == 1);
    CHECK(s.warnings[0] == "seccomp.toml:4:11: container.seccomp: service 'seccomp' runs without a seccomp filter");
    ServiceManifest profile = good("seccomp-profile");
    CHECK(profile.container.seccomp == SeccompMode::Profile);
    CHECK(profile.container.seccomp_profile == data_dir() + "/profiles/deny-ptrace.json");
    CHECK(profile.warnings.empty());
}

TEST_CASE("sysctl names may be quoted or written as dotted keys", "[unit][manifest][parse]") {
    ServiceManifest m = good("sysctls");
    CHECK(m.container.sysctls == std::map<std::string, std::string>{{"kernel.shmmax", "68719476736"},
                                                                    {"net.ipv4.conf.all.rp_filter", "2"},
                                                                    {"net.ipv4.ip_forward", "1"}});
}

TEST_CASE("readiness kinds", "[unit][manifest][parse]") {
    CHECK(good("ready-exec").ready.exec == Strings{"/usr/bin/app-ctl", "ping"});
    CHECK(good("ready-file").ready.file == "/run/app/ready");
    CHECK(good("ready-file").ready.timeout == 1min);
    CHECK(good("db").ready.kind == ReadyKind::Notify);
    // notify = false is no readiness check at all, so it combines with one.
    CHECK(parse_ok(kMinimal + "[ready]\nnotify = false\ntcp = 80\n").ready.kind == ReadyKind::Tcp);
    CHECK(parse_error(kMinimal + "[ready]\nnotify = true\nfile = \"/x\"\n") ==
          "svc.toml:6:1: ready: 'notify' and 'file' are mutually exclusive (one readiness check per service)");
}

TEST_CASE("dotted keys and inline tables are the same manifest", "[unit][manifest][parse]") {
    ServiceManifest m = good("dotted");
    CHECK(m.container.image == "app");
    CHECK(m.container.env.at("GREETING") == "hello");
    CHECK(m.restart.policy == RestartPolicy::No);
    CHECK(m.stop.timeout == 3s);
    REQUIRE(m.mounts.size() == 1);
    CHECK(m.mounts[0].target == "/scratch");
}

TEST_CASE("user and group may be numbers", "[unit][manifest][parse]") {
    ServiceManifest m = good("numeric-user");
    CHECK(m.container.user == "4242");
    CHECK(m.container.group == "4343");
    CHECK(parse_error(kMinimal + "user = -1\n") == "svc.toml:4:8: container.user: -1 is out of range (0..4294967295)");
    CHECK(parse_error(kMinimal + "user = \"\"\n") == "svc.toml:4:8: container.user: invalid user name ''");
    CHECK(parse_error(kMinimal + "group = true\n") ==
          "svc.toml:4:9: container.group: expected a name or a number, got a boolean");
}

TEST_CASE("a matching name key is allowed", "[unit][manifest][parse]") {
    CHECK(parse_ok("name = \"svc\"\n" + kMinimal).name == "svc");
    CHECK(parse_ok(kMinimal, "/etc/berth/services/ntp.toml").name == "ntp");
}

TEST_CASE("service names follow the file name rules", "[unit][manifest][parse]") {
    CHECK(is_valid_service_name("a"));
    CHECK(is_valid_service_name("0day"));
    CHECK(is_valid_service_name("web-2"));
    CHECK(is_valid_service_name(std::string(63, 'a')));
    CHECK_FALSE(is_valid_service_name(std::string(64, 'a')));
    CHECK_FALSE(is_valid_service_name(""));
    CHECK_FALSE(is_valid_service_name("-web"));
    CHECK_FALSE(is_valid_service_name("Web"));
    CHECK_FALSE(is_valid_service_name("web_2"));
    CHECK_FALSE(is_valid_service_name("web.2"));
    CHECK(parse_error(kMinimal, "/srv/web.d/.toml") ==
          "/srv/web.d/.toml: invalid service name '.toml' (from the file name): use a-z, 0-9 and '-', not "
          "starting with '-', at most 63 characters");
}

TEST_CASE("positions of keys are kept for errors found later", "[unit][manifest][parse]") {
    ServiceManifest m = good("web");
    CHECK(position_of(m, "container.user") == "web.toml:14:8");
    CHECK(position_of(m, "ready.tcp") == "web.toml:26:7");
    CHECK(position_of(m, "no.such.key") == "web.toml");
}

TEST_CASE("strictness beyond the corpus", "[unit][manifest][parse]") {
    // Unknown keys are reported in file order, with a suggestion only when one is close.
    CHECK(parse_error("zzz = 1\nrestrat = 2\n" + kMinimal) == "svc.toml:1:1: zzz: unknown key");
    CHECK(parse_error(kMinimal + "[healt]\nexec = [\"x\"]\n") ==
          "svc.toml:4:2: healt: unknown key; did you mean 'health'?");
    CHECK(parse_error(kMinimal + "[resources]\nmemroy = \"1G\"\n") ==
          "svc.toml:5:1: resources.memroy: unknown key; did you mean 'memory'?");
    CHECK(parse_error(kMinimal + "[resources]\nimage = \"x\"\n") ==
          "svc.toml:5:1: resources.image: unknown key; 'image' belongs in [container]");
    CHECK(parse_error(kMinimal + "[container.sysctls]\n\"kernel.shmmax\" = true\n") ==
          "svc.toml:5:19: container.sysctls.kernel.shmmax: expected a string, got a boolean");
    CHECK(parse_error(kMinimal + "env = { A = 1 }\n") == "svc.toml:4:13: container.env.A: expected a string, got an integer");
    CHECK(parse_error(kMinimal + "env = { \"A=B\" = \"1\" }\n") == "svc.toml:4:7: container.env: invalid variable name 'A=B'");
    CHECK(parse_error(kMinimal + "args = [\"a\\u0000b\"]\n") == "svc.toml:4:9: container.args[0]: contains a NUL character");
    CHECK(parse_error(kMinimal + "workdir = \"/srv/../etc\"\n") ==
          "svc.toml:4:11: container.workdir: '/srv/../etc' is not an absolute path (or contains '.' or '..')");
    CHECK(parse_error(kMinimal + "hostname = \"bad host\"\n") ==
          "svc.toml:4:12: container.hostname: invalid hostname 'bad host' (letters, digits, '-' and '.', at most 64 characters)");
    CHECK(parse_error("[container]\nimage = \"app\"\ncommand = []\n") == "svc.toml:3:11: container.command: must not be empty");
    CHECK(parse_error("container = \"app\"\n") == "svc.toml:1:13: container: expected a table, got a string");
    CHECK(parse_error("[[container]]\nimage = \"app\"\n") ==
          "svc.toml:1:3: container: expected a table ([container]), got an array of tables");
    CHECK(parse_error(kMinimal + "[resources]\ncpus = \"half\"\n") == "svc.toml:5:8: resources.cpus: expected a number, got a string");
    CHECK(parse_error(kMinimal + "[resources]\ncpus = nan\n") == "svc.toml:5:8: resources.cpus: expected a finite number");
    CHECK(parse_error(kMinimal + "[resources]\npids = 0\n") == "svc.toml:5:8: resources.pids: 0 is out of range (1..4194304)");
    CHECK(parse_error(kMinimal + "[resources]\nmemory = 1.5\n") ==
          "svc.toml:5:10: resources.memory: expected a size like \"64M\" or a number of bytes, got a float");
    CHECK(parse_error(kMinimal + "[health]\ninterval = \"5s\"\n") ==
          "svc.toml:4:1: health: 'exec' is required (the command that checks health)");
    CHECK(parse_error(kMinimal + "[ready]\ntcp = 80\ntimeout = \"0s\"\n") == "svc.toml:6:11: ready.timeout: must be longer than 0s");
    CHECK(parse_error(kMinimal + "[[mount]]\ntarget = \"/x\"\n") ==
          "svc.toml:4:1: mount[0]: 'type' is required (\"bind\", \"tmpfs\" or \"volume\")");
    CHECK(parse_error(kMinimal + "[[mount]]\ntype = \"volume\"\ntarget = \"/x\"\nsource = \"../etc\"\n") ==
          "svc.toml:7:10: mount[0].source: invalid volume name '../etc' (letters, digits, '-', '_' and '.', at most 63)");
    CHECK(parse_error(kMinimal + "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/\"\n") ==
          "svc.toml:6:10: mount[0].target: cannot mount over the container's root");
    CHECK(parse_error(kMinimal + "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/t\"\noptions = [\"size=1q\"]\n") ==
          "svc.toml:7:12: mount[0].options[0]: invalid size '1q': unknown suffix 'q' (use K, M, G, T or Ki, Mi, Gi, Ti)");
    CHECK(parse_error(kMinimal + "[[mount]]\ntype = \"bind\"\nsource = \"/s\"\ntarget = \"/t\"\noptions = [\"size=1M\"]\n") ==
          "svc.toml:8:12: mount[0].options[0]: unknown mount option 'size=1M'");
    CHECK(parse_error(kMinimal + "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/t\"\noptions = [\"mode=0999\"]\n") ==
          "svc.toml:7:12: mount[0].options[0]: invalid value in 'mode=0999' (expected octal digits)");
    CHECK(parse_error(kMinimal + "mount = [1]\n") == "svc.toml:4:1: container.mount: unknown key; 'mount' belongs in the top level");
    CHECK(parse_error("mount = [1]\n" + kMinimal) == "svc.toml:1:10: mount[0]: expected a table, got an integer");
    CHECK(parse_error("type = \"oneshot\"\n" + kMinimal + "[health]\nexec = [\"x\"]\n") ==
          "svc.toml:5:2: health: a oneshot service has no health check; remove [health]");
    CHECK(parse_error("privileged = true\n" + kMinimal + "devices = [\"/dev/kvm\"]\n") ==
          "svc.toml:5:11: container.devices: privileged = true already sees every host device");
    CHECK(parse_error(kMinimal + "capabilities_add = [\"ALL\"]\ncapabilities_drop = [\"all\"]\n") ==
          "svc.toml:5:22: container.capabilities_drop[0]: 'ALL' is also in capabilities_add");
    CHECK(parse_error(kMinimal + "[stop]\nsignal = \"SIGFOO\"\n") == "svc.toml:5:10: stop.signal: unknown signal 'SIGFOO'");
}

TEST_CASE("parse_manifest never throws on hostile input", "[unit][manifest][parse]") {
    const std::string inputs[] = {
        "",
        std::string("\0\0\0", 3),
        "[",
        "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        std::string(100000, '['),
        "[container]\nimage = \"app\"\ncommand = [\"x\"]\nenv = { " + std::string(5000, 'a') + " = \"x\" }",
        "\xff\xfe\xfd",
        "container = { image = \"app\", command = [\"x\"], sysctls = { a = { b = { c = { d = 1 } } } } }",
        "[container]\nimage = \"app\"\ncommand = [\"x\"]\n[resources]\ncpus = 1e308\nmemory = 9223372036854775807\n",
        "[container]\nimage = \"app\"\ncommand = [\"x\"]\n[stop]\ntimeout = \"" + std::string(400, '9') + "s\"\n",
    };
    for (const auto& input : inputs) {
        INFO("input size " << input.size());
        CHECK_NOTHROW(parse_manifest(input, "svc.toml"));
    }
}

TEST_CASE("inputs that hit toml++ 3.3.0 bugs become plain parse errors", "[unit][manifest][parse]") {
    // Found by the fuzzer; see init/manifest/src/toml.hpp.
    CHECK(parse_error("a = 1\xc3\xa9") == "svc.toml:1:6: invalid TOML: Error while parsing decimal integer: expected digit, saw '\xc3\xa9'");
    CHECK(parse_error("\xcc\xaa") ==
          "svc.toml:1:1: invalid TOML: Error while parsing root table: expected keys, tables, whitespace or "
          "comments, saw '\xcc\xaa'");
    CHECK(parse_error("[[[x]]") ==
          "svc.toml:1:3: invalid TOML: Error while parsing key: expected bare key starting character or string "
          "delimiter, saw '['");
    CHECK(parse_error("[=]") ==
          "svc.toml:1:2: invalid TOML: Error while parsing key: expected bare key starting character or string "
          "delimiter, saw '='");
    CHECK(parse_error("s = \"\"\"\\\n\xc2\xa7\"\"\"") == "svc.toml:1:1: s: unknown key");
}
