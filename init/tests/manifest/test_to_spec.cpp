// to_container_spec: the plan berth-init hands to the runtime, field by field.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/cgroups.hpp"
#include "berth/runtime/defaults.hpp"
#include "fixtures.hpp"

using namespace berth;
using namespace berth::manifest;
using namespace berth::manifest::test;
using runtime::ContainerSpec;
using runtime::NamespaceType;
using Strings = std::vector<std::string>;

namespace {

const std::string kApp = "[container]\nimage = \"app\"\ncommand = [\"/bin/app\"]\n";

ContainerSpec plan(const FakeImages& images, const std::string& text, const std::string& file = "svc.toml") {
    auto spec = to_container_spec(parse_ok(text, file), images.context);
    if (!spec) FAIL(spec.error().describe());
    return *spec;
}

std::string plan_error(const FakeImages& images, const std::string& text) {
    auto spec = to_container_spec(parse_ok(text), images.context);
    return spec ? "<planned>" : spec.error().describe();
}

const runtime::Mount* find_mount(const ContainerSpec& spec, const std::string& destination) {
    for (const auto& m : spec.mounts)
        if (m.destination == destination) return &m;
    return nullptr;
}

bool has_env(const ContainerSpec& spec, const std::string& entry) {
    return std::find(spec.process.env.begin(), spec.process.env.end(), entry) != spec.process.env.end();
}

int cap(const char* name) { return *runtime::caps::from_name(name); }

bool has_cap(const std::vector<int>& set, const char* name) {
    return std::find(set.begin(), set.end(), cap(name)) != set.end();
}

std::vector<runtime::cgroups::FileWrite> cgroup_plan(const ContainerSpec& spec) {
    REQUIRE(spec.resources);
    auto writes = runtime::cgroups::plan_v2(*spec.resources);
    REQUIRE(writes);
    return *writes;
}

std::string cgroup_value(const std::vector<runtime::cgroups::FileWrite>& writes, const std::string& file) {
    for (const auto& w : writes)
        if (w.file == file) return w.value;
    return "<unset>";
}

}  // namespace

TEST_CASE("a minimal service keeps the default isolation", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp);
    ContainerSpec defaults = runtime::default_spec();
    CHECK(spec.root_path == images.app_root);
    CHECK(spec.root_readonly);
    CHECK(spec.hostname == "svc");
    CHECK(spec.cgroups_path == "/berth/svc");
    CHECK(spec.annotations.at("org.berth.service") == "svc");
    CHECK(spec.process.args == Strings{"/bin/app"});
    CHECK(spec.process.cwd == "/");
    CHECK(spec.process.user.uid == 0);
    CHECK(spec.process.user.gid == 0);
    CHECK(spec.process.env == Strings{"HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    CHECK(spec.process.no_new_privileges);
    REQUIRE(spec.process.capabilities);
    std::vector<int> docker = runtime::caps::docker_default();
    std::sort(docker.begin(), docker.end());
    CHECK(spec.process.capabilities->bounding == docker);
    CHECK(spec.process.capabilities->ambient.empty());
    CHECK(spec.namespaces.size() == defaults.namespaces.size());
    for (auto type : {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount, NamespaceType::Ipc,
                      NamespaceType::Uts, NamespaceType::Cgroup})
        CHECK(spec.has_namespace(type));
    CHECK(spec.masked_paths == defaults.masked_paths);
    CHECK(spec.readonly_paths == defaults.readonly_paths);
    CHECK(spec.mounts.size() == defaults.mounts.size());
    REQUIRE(spec.seccomp);
    CHECK(spec.seccomp->syscalls.size() == defaults.seccomp->syscalls.size());
    CHECK_FALSE(spec.resources);
    CHECK(spec.devices.empty());
    CHECK(spec.sysctl.empty());
}

TEST_CASE("images by name live under the images root, absolute paths are kept", "[unit][manifest][spec]") {
    FakeImages images;
    CHECK(plan(images, kApp).root_path == images.context.images_root + "/app");
    CHECK(plan(images, "[container]\nimage = \"" + images.app_root + "\"\ncommand = [\"x\"]\n").root_path ==
          images.app_root);
    CHECK_FALSE(plan(images, kApp + "read_only = false\n").root_readonly);
}

TEST_CASE("process: command + args, workdir, env over PATH and HOME", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, "[container]\nimage = \"app\"\ncommand = [\"/bin/httpd\", \"-f\"]\n"
                                      "args = [\"-p\", \"80\"]\nworkdir = \"/srv\"\n"
                                      "env = { PATH = \"/opt/bin\", LANG = \"C.UTF-8\" }\n");
    CHECK(spec.process.args == Strings{"/bin/httpd", "-f", "-p", "80"});
    CHECK(spec.process.cwd == "/srv");
    CHECK(spec.process.env == Strings{"HOME=/root", "LANG=C.UTF-8", "PATH=/opt/bin"});
}

TEST_CASE("user and group resolve from the image's passwd and group", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec app = plan(images, kApp + "user = \"app\"\n");
    CHECK(app.process.user.uid == 1000);
    CHECK(app.process.user.gid == 1000);
    CHECK(app.process.user.additional_gids == std::vector<uint32_t>{29, 44});
    CHECK(has_env(app, "HOME=/home/app"));

    ContainerSpec grouped = plan(images, kApp + "user = \"app\"\ngroup = \"video\"\n");
    CHECK(grouped.process.user.gid == 44);
    CHECK(grouped.process.user.additional_gids == std::vector<uint32_t>{29});  // video is now primary

    ContainerSpec numeric = plan(images, kApp + "user = 33\n");
    CHECK(numeric.process.user.uid == 33);
    CHECK(numeric.process.user.gid == 33);
    CHECK(has_env(numeric, "HOME=/var/www"));

    ContainerSpec unlisted = plan(images, kApp + "user = 5000\ngroup = 5001\n");
    CHECK(unlisted.process.user.uid == 5000);
    CHECK(unlisted.process.user.gid == 5001);
    CHECK(has_env(unlisted, "HOME=/"));

    CHECK(plan_error(images, kApp + "user = \"mysql\"\n") ==
          "svc.toml:4:8: container.user: unknown user 'mysql' (not in " + images.app_root + "/etc/passwd)");
    CHECK(plan_error(images, kApp + "user = \"app\"\ngroup = \"wheel\"\n") ==
          "svc.toml:5:9: container.group: unknown group 'wheel' (not in " + images.app_root + "/etc/group)");
    // The error names the image's file even when the image has none.
    CHECK(plan_error(images, "[container]\nimage = \"missing\"\ncommand = [\"x\"]\nuser = \"app\"\n") ==
          "svc.toml:4:8: container.user: unknown user 'app' (not in " + images.context.images_root +
              "/missing/etc/passwd)");
}

TEST_CASE("network and pid \"host\" leave those namespaces out", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec host = plan(images, kApp + "network = \"host\"\npid = \"host\"\n");
    CHECK_FALSE(host.has_namespace(NamespaceType::Network));
    CHECK_FALSE(host.has_namespace(NamespaceType::Pid));
    // The host's network comes with the host's name and resolver configuration.
    CHECK_FALSE(host.has_namespace(NamespaceType::Uts));
    CHECK(host.hostname.empty());
    const runtime::Mount* resolv = find_mount(host, "/etc/resolv.conf");
    REQUIRE(resolv);
    CHECK(resolv->source == "/etc/resolv.conf");
    CHECK(resolv->type == "bind");
    CHECK(resolv->options == Strings{"rbind", "rprivate", "ro"});
    CHECK(host.has_namespace(NamespaceType::Mount));
    CHECK(host.has_namespace(NamespaceType::Ipc));

    ContainerSpec named = plan(images, kApp + "network = \"host\"\nhostname = \"edge\"\n");
    CHECK(named.has_namespace(NamespaceType::Uts));
    CHECK(named.hostname == "edge");

    CHECK_FALSE(host.loopback_up);  // the host's loopback is not the container's to change

    ContainerSpec isolated = plan(images, kApp + "network = \"none\"\n");
    CHECK(isolated.has_namespace(NamespaceType::Network));
    CHECK(isolated.loopback_up);  // a namespace of its own, with loopback up
    CHECK_FALSE(find_mount(isolated, "/etc/resolv.conf"));
}

TEST_CASE("capabilities: Docker's rule, then the seccomp profile follows", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "capabilities_add = [\"SYS_ADMIN\", \"NET_ADMIN\"]\n"
                                             "capabilities_drop = [\"MKNOD\"]\n");
    const auto& sets = *spec.process.capabilities;
    for (const auto* set : {&sets.bounding, &sets.effective, &sets.permitted}) {
        CHECK(has_cap(*set, "CAP_SYS_ADMIN"));
        CHECK(has_cap(*set, "CAP_NET_ADMIN"));
        CHECK(has_cap(*set, "CAP_CHOWN"));
        CHECK_FALSE(has_cap(*set, "CAP_MKNOD"));
        CHECK(std::is_sorted(set->begin(), set->end()));
    }
    CHECK(sets.bounding.size() == runtime::caps::docker_default().size() + 1);
    CHECK(sets.ambient.empty());  // root keeps its capabilities across execve anyway
    // refresh_default_seccomp ran: CAP_SYS_ADMIN unlocks mount(2), as in Docker.
    ContainerSpec expected = spec;
    runtime::refresh_default_seccomp(expected);
    REQUIRE(spec.seccomp);
    CHECK(spec.seccomp->syscalls.size() == expected.seccomp->syscalls.size());
    CHECK(spec.seccomp->syscalls.size() != plan(images, kApp).seccomp->syscalls.size());
}

TEST_CASE("drop ALL keeps only what is added", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "capabilities_drop = [\"ALL\"]\ncapabilities_add = [\"SYS_TIME\"]\n");
    CHECK(spec.process.capabilities->bounding == std::vector<int>{cap("CAP_SYS_TIME")});
    CHECK(spec.process.capabilities->effective == std::vector<int>{cap("CAP_SYS_TIME")});
    ContainerSpec nothing = plan(images, kApp + "capabilities_drop = [\"ALL\"]\n");
    CHECK(nothing.process.capabilities->bounding.empty());
    ContainerSpec all = plan(images, kApp + "capabilities_add = [\"ALL\"]\ncapabilities_drop = [\"SYS_MODULE\"]\n");
    CHECK(all.process.capabilities->bounding.size() == runtime::caps::all().size() - 1);
    CHECK_FALSE(has_cap(all.process.capabilities->bounding, "CAP_SYS_MODULE"));
}

TEST_CASE("a non-root user keeps explicitly added capabilities as ambient", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "user = \"app\"\ncapabilities_add = [\"NET_BIND_SERVICE\", \"NET_ADMIN\"]\n");
    const auto& sets = *spec.process.capabilities;
    std::vector<int> added{cap("CAP_NET_ADMIN"), cap("CAP_NET_BIND_SERVICE")};
    std::sort(added.begin(), added.end());
    CHECK(sets.ambient == added);
    CHECK(sets.inheritable == added);
    CHECK(has_cap(sets.bounding, "CAP_CHOWN"));  // the defaults stay in the bounding set, not ambient
    CHECK(plan(images, kApp + "user = \"app\"\n").process.capabilities->ambient.empty());
}

TEST_CASE("seccomp: unconfined removes the filter, a profile replaces it", "[unit][manifest][spec]") {
    FakeImages images;
    CHECK_FALSE(plan(images, kApp + "seccomp = \"unconfined\"\n").seccomp);
    ContainerSpec custom = plan(images, kApp + "seccomp = \"" + data_dir() + "/profiles/deny-ptrace.json\"\n");
    REQUIRE(custom.seccomp);
    CHECK(custom.seccomp->default_action == runtime::SeccompAction::Allow);
    REQUIRE(custom.seccomp->syscalls.size() == 1);
    CHECK(custom.seccomp->syscalls[0].names == Strings{"ptrace", "process_vm_readv"});
    CHECK(custom.seccomp->syscalls[0].errno_ret == 1u);
    CHECK(plan_error(images, kApp + "seccomp = \"/nonexistent/profile.json\"\n") ==
          "svc.toml:4:11: container.seccomp: cannot read '/nonexistent/profile.json': No such file or directory");
    TempDir dir;
    std::string not_json = dir.write("p.json", "{ nope");
    CHECK(plan_error(images, kApp + "seccomp = \"" + not_json + "\"\n") ==
          "svc.toml:4:11: container.seccomp: '" + not_json + "' is not a JSON object");
    CHECK(plan_error(images, kApp + "seccomp = \"/dev\"\n") ==
          "svc.toml:4:11: container.seccomp: cannot read '/dev': not a regular file");
}

TEST_CASE("privileged: every capability, no seccomp, no masks, the host's /dev", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, "privileged = true\n" + kApp);
    CHECK(spec.process.capabilities->bounding == runtime::caps::all());
    CHECK(spec.process.capabilities->effective == runtime::caps::all());
    CHECK(spec.process.capabilities->permitted == runtime::caps::all());
    CHECK_FALSE(spec.seccomp);
    CHECK(spec.masked_paths.empty());
    CHECK(spec.readonly_paths.empty());
    CHECK_FALSE(spec.process.no_new_privileges);
    const runtime::Mount* dev = find_mount(spec, "/dev");
    REQUIRE(dev);
    CHECK(dev->type == "bind");
    CHECK(dev->source == "/dev");
    CHECK(dev->options == Strings{"rbind", "nosuid", "rprivate"});
    const runtime::Mount* sys = find_mount(spec, "/sys");
    REQUIRE(sys);
    CHECK(std::find(sys->options.begin(), sys->options.end(), "ro") == sys->options.end());
    // Still its own namespaces unless asked otherwise.
    CHECK(spec.has_namespace(NamespaceType::Pid));
    CHECK(spec.has_namespace(NamespaceType::Network));
}

TEST_CASE("devices are the host's nodes, by number", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "devices = [\"/dev/null\"]\n");
    REQUIRE(spec.devices.size() == 1);
    struct stat st;
    REQUIRE(::stat("/dev/null", &st) == 0);
    const runtime::Device& d = spec.devices[0];
    CHECK(d.path == "/dev/null");
    CHECK(d.type == 'c');
    CHECK(d.major == major(st.st_rdev));
    CHECK(d.minor == minor(st.st_rdev));
    CHECK(d.file_mode == (st.st_mode & 07777));
    CHECK(plan_error(images, kApp + "devices = [\"/dev/shm\"]\n") ==
          "svc.toml:4:12: container.devices[0]: '/dev/shm' is not a device");
}

TEST_CASE("mounts: binds, tmpfs and volumes in parent-first order", "[unit][manifest][spec]") {
    FakeImages images;
    images.context.volumes_root = "/data/volumes";
    ContainerSpec spec = plan(images, kApp +
                                          "[[mount]]\ntype = \"volume\"\nsource = \"cache\"\ntarget = \"/var/cache/app\"\n"
                                          "[[mount]]\ntype = \"bind\"\nsource = \"/etc/app\"\ntarget = \"/etc/app\"\nread_only = true\n"
                                          "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/tmp\"\noptions = [\"exec\", \"size=16Mi\"]\n"
                                          "[[mount]]\ntype = \"tmpfs\"\ntarget = \"/run\"\noptions = [\"mode=0755\"]\n");
    size_t defaults = runtime::default_spec().mounts.size();
    REQUIRE(spec.mounts.size() == defaults + 4);
    // Shallower targets first (a parent before what is mounted inside it), else manifest order.
    CHECK(spec.mounts[defaults + 0].destination == "/tmp");
    CHECK(spec.mounts[defaults + 1].destination == "/run");
    CHECK(spec.mounts[defaults + 2].destination == "/etc/app");
    CHECK(spec.mounts[defaults + 3].destination == "/var/cache/app");

    const runtime::Mount* tmp = find_mount(spec, "/tmp");
    CHECK(tmp->type == "tmpfs");
    CHECK(tmp->source == "tmpfs");
    CHECK(tmp->options == Strings{"nosuid", "nodev", "noexec", "mode=1777", "exec", "size=16777216"});
    CHECK(find_mount(spec, "/run")->options == Strings{"nosuid", "nodev", "noexec", "mode=0755"});
    const runtime::Mount* etc = find_mount(spec, "/etc/app");
    CHECK(etc->type == "bind");
    CHECK(etc->source == "/etc/app");
    CHECK(etc->options == Strings{"rbind", "rprivate", "ro"});
    const runtime::Mount* cache = find_mount(spec, "/var/cache/app");
    CHECK(cache->type == "bind");
    CHECK(cache->source == "/data/volumes/cache");
    CHECK(cache->options == Strings{"rbind", "rprivate"});
    CHECK(volume_path("cache", images.context) == "/data/volumes/cache");
}

TEST_CASE("notify readiness: a socket directory from the state dir at /run/berth", "[unit][manifest][spec]") {
    FakeImages images;
    images.context.state_dir = "/run/berth-init";
    ContainerSpec spec = plan(images, kApp + "[ready]\nnotify = true\n", "db.toml");
    CHECK(has_env(spec, std::string("NOTIFY_SOCKET=") + kNotifySocketInContainer));
    const runtime::Mount* run = find_mount(spec, "/run");
    REQUIRE(run);
    CHECK(run->type == "tmpfs");
    const runtime::Mount* socket_dir = find_mount(spec, "/run/berth");
    REQUIRE(socket_dir);
    CHECK(socket_dir->source == "/run/berth-init/db");
    CHECK(socket_dir->type == "bind");
    CHECK(service_state_dir(parse_ok(kApp, "db.toml"), images.context) == "/run/berth-init/db");
    // The notify mount comes after /run exists.
    CHECK(run < socket_dir);
    CHECK_FALSE(has_env(plan(images, kApp), std::string("NOTIFY_SOCKET=") + kNotifySocketInContainer));
}

TEST_CASE("a service's own mounts under /run/berth are not hidden by the notify directory", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "[[mount]]\ntype = \"bind\"\nsource = \"/srv/x\"\ntarget = \"/run/berth/x\"\n"
                                             "[ready]\nnotify = true\n", "db.toml");
    const runtime::Mount* socket_dir = find_mount(spec, "/run/berth");
    const runtime::Mount* own = find_mount(spec, "/run/berth/x");
    REQUIRE(socket_dir);
    REQUIRE(own);
    CHECK(socket_dir < own);
}

TEST_CASE("logd's syslog socket directory is offered as /dev/log", "[unit][manifest][spec]") {
    FakeImages images;
    CHECK_FALSE(find_mount(plan(images, kApp), "/dev/.berth-syslog"));
    images.context.syslog_dir = "/run/berth/syslog";
    ContainerSpec spec = plan(images, kApp);
    const runtime::Mount* dir = find_mount(spec, "/dev/.berth-syslog");
    REQUIRE(dir);
    CHECK(dir->source == "/run/berth/syslog");
    CHECK(dir->options == Strings{"rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"});
    CHECK(find_mount(spec, "/dev") < dir);
    REQUIRE(spec.symlinks.size() == 1);
    CHECK(spec.symlinks[0] == std::pair<std::string, std::string>{".berth-syslog/log", "/dev/log"});
    // A service that brings its own /dev/log keeps it.
    ContainerSpec own = plan(images, kApp + "[[mount]]\ntype = \"bind\"\nsource = \"/srv/log\"\ntarget = \"/dev/log\"\n");
    CHECK_FALSE(find_mount(own, "/dev/.berth-syslog"));
    CHECK(own.symlinks.empty());
}

TEST_CASE("resources become cgroup limits", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "[resources]\nmemory = \"64Mi\"\ncpus = 0.5\npids = 100\nio_weight = 100\n");
    REQUIRE(spec.resources);
    CHECK(spec.resources->memory.limit == 64 << 20);
    CHECK(spec.resources->cpu.quota == 50000);
    CHECK(spec.resources->cpu.period == 100000u);
    CHECK(spec.resources->pids_limit == 100);
    auto writes = cgroup_plan(spec);
    CHECK(cgroup_value(writes, "memory.max") == "67108864");
    CHECK(cgroup_value(writes, "cpu.max") == "50000 100000");
    CHECK(cgroup_value(writes, "pids.max") == "100");
    // io.weight passes through OCI's blkio scale (10..1000), so it lands on the nearest of
    // the values that scale can express, about 10 apart.
    std::string io = cgroup_value(writes, "io.weight");
    REQUIRE(io.rfind("default ", 0) == 0);
    int weight = std::stoi(io.substr(8));
    CHECK(weight >= 90);
    CHECK(weight <= 110);
    CHECK(cgroup_value(cgroup_plan(plan(images, kApp + "[resources]\nio_weight = 10000\n")), "io.weight") == "default 10000");
    CHECK(cgroup_value(cgroup_plan(plan(images, kApp + "[resources]\nio_weight = 1\n")), "io.weight") == "default 1");
    CHECK(plan(images, kApp + "[resources]\ncpus = 2\n").resources->cpu.quota == 200000);
}

TEST_CASE("sysctls pass through", "[unit][manifest][spec]") {
    FakeImages images;
    ContainerSpec spec = plan(images, kApp + "sysctls = { \"net.ipv4.ip_forward\" = 1, \"fs.mqueue.msg_max\" = \"64\" }\n");
    CHECK(spec.sysctl == std::map<std::string, std::string>{{"fs.mqueue.msg_max", "64"}, {"net.ipv4.ip_forward", "1"}});
}
