// config.json parsing and validation: good configs become the right plan, and each
// bad config is refused with an error that names the field.
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "berth/runtime/container.hpp"
#include "berth/runtime/defaults.hpp"
#include "berth/runtime/mounts.hpp"
#include "berth/runtime/oci_config.hpp"

using namespace berth::runtime;
using nlohmann::json;

namespace {

json minimal_config() {
    return json{{"ociVersion", "1.0.2"},
                {"root", {{"path", "rootfs"}}},
                {"process", {{"args", {"/bin/true"}}, {"cwd", "/"}}},
                {"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "mount"}}}}}}};
}

std::string error_of(const json& config) {
    auto r = parse_config(config.dump(), "/bundle");
    if (r) return "<parsed>";
    return r.error().describe();
}

}  // namespace

TEST_CASE("a minimal config parses into the plan", "[unit][config]") {
    auto spec = parse_config(minimal_config().dump(), "/bundle");
    REQUIRE(spec);
    CHECK(spec->root_path == "/bundle/rootfs");
    CHECK(spec->process.args == std::vector<std::string>{"/bin/true"});
    REQUIRE(spec->namespaces.size() == 2);
    CHECK(spec->namespaces[0].type == NamespaceType::Pid);
    CHECK(spec->namespaces[1].path.empty());
    CHECK_FALSE(spec->seccomp);
    CHECK_FALSE(spec->resources);
}

TEST_CASE("every field of a full config reaches the plan", "[unit][config]") {
    json c = minimal_config();
    c["root"] = {{"path", "/abs/root"}, {"readonly", true}};
    c["hostname"] = "h";
    c["linux"]["namespaces"].push_back({{"type", "uts"}});
    c["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/run/netns/x"}});
    c["process"]["user"] = {{"uid", 10}, {"gid", 20}, {"umask", 18}, {"additionalGids", {30, 40}}};
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 20}}};
    c["process"]["capabilities"] = {{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL", "CAP_CHOWN"}}};
    c["process"]["oomScoreAdj"] = -500;
    c["process"]["noNewPrivileges"] = true;
    c["mounts"] = {{{"destination", "/data"}, {"type", "bind"}, {"source", "/srv"}, {"options", {"rbind", "ro"}}}};
    c["hooks"] = {{"poststop", {{{"path", "/bin/hook"}, {"args", {"hook", "x"}}, {"timeout", 5}}}}};
    c["linux"]["resources"] = {{"memory", {{"limit", 1048576}}}, {"pids", {{"limit", 64}}}};
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ERRNO"},
                             {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
    c["linux"]["maskedPaths"] = {"/proc/kcore"};
    c["linux"]["uidMappings"] = json::array();
    auto spec = parse_config(c.dump(), "/bundle");
    REQUIRE(spec);
    CHECK(spec->root_path == "/abs/root");
    CHECK(spec->root_readonly);
    CHECK(spec->process.user.uid == 10);
    CHECK(spec->process.user.gid == 20);
    CHECK(*spec->process.user.umask == 18);
    CHECK(spec->process.user.additional_gids == std::vector<uint32_t>{30, 40});
    REQUIRE(spec->process.rlimits.size() == 1);
    CHECK(spec->process.rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(spec->process.capabilities->effective == std::vector<int>{5, 0});
    CHECK(*spec->process.oom_score_adj == -500);
    CHECK(spec->find_namespace(NamespaceType::Network)->path == "/run/netns/x");
    CHECK(spec->mounts[0].options == std::vector<std::string>{"rbind", "ro"});
    CHECK(spec->hooks.poststop[0].args == std::vector<std::string>{"hook", "x"});
    CHECK(*spec->hooks.poststop[0].timeout_seconds == 5);
    CHECK(*spec->resources->memory.limit == 1048576);
    CHECK(*spec->resources->pids_limit == 64);
    CHECK(spec->sysctl.at("net.ipv4.ip_forward") == "1");
    CHECK(spec->seccomp->default_action == SeccompAction::Errno);
    CHECK(spec->masked_paths == std::vector<std::string>{"/proc/kcore"});
}

TEST_CASE("bad configs are refused with the field named", "[unit][config]") {
    struct Case {
        const char* name;
        std::function<void(json&)> edit;
        std::string error;
    };
    std::vector<Case> cases = {
        {"no ociVersion", [](json& c) { c.erase("ociVersion"); }, "ociVersion: is required"},
        {"old ociVersion", [](json& c) { c["ociVersion"] = "0.9"; }, "ociVersion: unsupported version '0.9' (expected 1.x)"},
        {"no root", [](json& c) { c.erase("root"); }, "root: is required"},
        {"root not object", [](json& c) { c["root"] = "rootfs"; }, "root: expected an object, got string"},
        {"readonly not bool", [](json& c) { c["root"]["readonly"] = "yes"; }, "root.readonly: expected a boolean, got string"},
        {"no process", [](json& c) { c.erase("process"); }, "process: is required"},
        {"empty args", [](json& c) { c["process"]["args"] = json::array(); }, "process.args: at least one argument is required"},
        {"arg not string", [](json& c) { c["process"]["args"] = {"sh", 3}; }, "process.args[1]: expected a string, got number"},
        {"relative cwd", [](json& c) { c["process"]["cwd"] = "tmp"; }, "process.cwd: 'tmp' is not an absolute path"},
        {"missing cwd", [](json& c) { c["process"].erase("cwd"); }, "process.cwd: is required"},
        {"bad env", [](json& c) { c["process"]["env"] = {"PATH=/bin", "NOVALUE"}; }, "process.env[1]: 'NOVALUE' is not NAME=VALUE"},
        {"negative uid", [](json& c) { c["process"]["user"] = {{"uid", -1}}; }, "process.user.uid: -1 is out of range"},
        {"uid not number", [](json& c) { c["process"]["user"] = {{"uid", "root"}}; }, "process.user.uid: expected an integer, got string"},
        {"unknown capability", [](json& c) { c["process"]["capabilities"] = {{"effective", {"CAP_KILL", "CAP_FLY"}}}; },
         "process.capabilities.effective[1]: unknown capability 'CAP_FLY'"},
        {"unknown rlimit", [](json& c) { c["process"]["rlimits"] = {{{"type", "RLIMIT_FOO"}, {"soft", 1}, {"hard", 1}}}; },
         "process.rlimits[0].type: unknown rlimit type 'RLIMIT_FOO'"},
        {"soft over hard", [](json& c) { c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 5}}}; },
         "process.rlimits[0]: soft limit 10 exceeds hard limit 5"},
        {"oom out of range", [](json& c) { c["process"]["oomScoreAdj"] = 1001; }, "process.oomScoreAdj: 1001 is outside -1000..1000"},
        {"unknown namespace", [](json& c) { c["linux"]["namespaces"][1]["type"] = "mnt"; },
         "linux.namespaces[1].type: unknown namespace type 'mnt' (expected pid, network, mount, ipc, uts, user, cgroup or time)"},
        {"duplicate namespace", [](json& c) { c["linux"]["namespaces"].push_back({{"type", "pid"}}); },
         "linux.namespaces[2]: duplicate namespace type 'pid'"},
        {"relative namespace path", [](json& c) { c["linux"]["namespaces"][0]["path"] = "proc/1/ns/pid"; },
         "linux.namespaces[0].path: 'proc/1/ns/pid' is not an absolute path"},
        {"user ns without mappings", [](json& c) { c["linux"]["namespaces"].push_back({{"type", "user"}}); },
         "linux.uidMappings: a new user namespace needs uidMappings and gidMappings"},
        {"mapping without user ns", [](json& c) { c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}; },
         "linux.uidMappings: mappings are only valid with a new user namespace"},
        {"mapping of size zero", [](json& c) { c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}}; },
         "linux.uidMappings[0].size: must be greater than zero"},
        {"hostname without uts", [](json& c) { c["hostname"] = "h"; }, "hostname: setting a hostname needs a new uts namespace"},
        {"relative mount destination", [](json& c) { c["mounts"] = {{{"destination", "data"}, {"type", "tmpfs"}}}; },
         "mounts[0].destination: 'data' is not an absolute path"},
        {"relative hook path", [](json& c) { c["hooks"] = {{"prestart", {{{"path", "hook.sh"}}}}}; },
         "hooks.prestart[0].path: 'hook.sh' is not an absolute path"},
        {"zero hook timeout", [](json& c) { c["hooks"] = {{"poststart", {{{"path", "/h"}, {"timeout", 0}}}}}; },
         "hooks.poststart[0].timeout: must be greater than zero"},
        {"bad device type", [](json& c) { c["linux"]["devices"] = {{{"path", "/dev/x"}, {"type", "z"}}}; },
         "linux.devices[0].type: unknown device type 'z' (expected c, b, u or p)"},
        {"device without numbers", [](json& c) { c["linux"]["devices"] = {{{"path", "/dev/x"}, {"type", "c"}}}; },
         "linux.devices[0]: major and minor are required for device type 'c'"},
        {"bad seccomp action", [](json& c) { c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOPE"}}; },
         "linux.seccomp.defaultAction: unknown seccomp action 'SCMP_ACT_NOPE'"},
        {"bad seccomp operator",
         [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"},
                                                     {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_SAME"}}}}}}}};
         },
         "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator 'SCMP_CMP_SAME'"},
        {"seccomp arg index", [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"},
                                                     {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}}};
         }, "linux.seccomp.syscalls[0].args[0].index: 6 is not 0..5"},
        {"pids without limit", [](json& c) { c["linux"]["resources"] = {{"pids", json::object()}}; },
         "linux.resources.pids.limit: is required"},
        {"memory limit as string", [](json& c) { c["linux"]["resources"] = {{"memory", {{"limit", "1G"}}}}; },
         "linux.resources.memory.limit: expected an integer, got string"},
        {"bad propagation", [](json& c) { c["linux"]["rootfsPropagation"] = "sideways"; },
         "linux.rootfsPropagation: unknown propagation 'sideways'"},
        {"sysctl not string", [](json& c) { c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", 1}}; },
         "linux.sysctl.net.ipv4.ip_forward: expected a string, got number"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        json config = minimal_config();
        c.edit(config);
        CHECK(error_of(config) == c.error);
    }
}

TEST_CASE("malformed JSON is reported with its location", "[unit][config]") {
    auto r = parse_config("{\"ociVersion\": \"1.0.2\",\n  \"root\": {\"path\": }\n}", "/b");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().describe(), Catch::StartsWith("invalid JSON: "));
    CHECK_THAT(r.error().describe(), Catch::Contains("line 2"));
    auto not_object = parse_config("[1, 2]", "/b");
    REQUIRE_FALSE(not_object);
    CHECK(not_object.error().describe() == "expected a JSON object at the top level, got array");
}

TEST_CASE("load_bundle_config names the file", "[unit][config]") {
    auto r = load_bundle_config("/nonexistent-bundle");
    REQUIRE_FALSE(r);
    CHECK(r.error().describe() == "open '/nonexistent-bundle/config.json': No such file or directory");
}

TEST_CASE("the default spec round-trips through JSON", "[unit][config]") {
    ContainerSpec spec = default_spec();
    auto text = spec_to_json(spec).dump();
    auto back = parse_config(text, "/bundle");
    REQUIRE(back);
    CHECK(back->root_path == "/bundle/rootfs");
    CHECK(back->root_readonly);
    CHECK(back->process.no_new_privileges);
    CHECK(back->process.capabilities->effective == spec.process.capabilities->effective);
    CHECK(back->namespaces.size() == 6);
    CHECK_FALSE(back->has_namespace(NamespaceType::User));
    CHECK(back->masked_paths == spec.masked_paths);
    CHECK(back->readonly_paths == spec.readonly_paths);
    REQUIRE(back->seccomp);
    CHECK(back->seccomp->default_action == SeccompAction::Errno);
    CHECK(back->seccomp->syscalls.size() == spec.seccomp->syscalls.size());
    CHECK(back->mounts.size() == spec.mounts.size());
}

TEST_CASE("mount options split into flags, propagation and data", "[unit][mounts]") {
    auto m = mounts::parse_options({"rbind", "ro", "nosuid", "rprivate", "mode=755", "size=64k"});
    CHECK(m.bind);
    CHECK(m.flags == (MS_REC | MS_RDONLY | MS_NOSUID));
    CHECK(m.propagation == (MS_PRIVATE | MS_REC));
    CHECK(m.data == "mode=755,size=64k");
    auto rw = mounts::parse_options({"ro", "rw", "noexec", "exec", "nodev"});
    CHECK(rw.flags == MS_NODEV);
    CHECK_FALSE(rw.bind);
    CHECK(rw.data.empty());
    CHECK_FALSE(mounts::parse_propagation("sideways"));
    CHECK(*mounts::parse_propagation("rslave") == (MS_SLAVE | MS_REC));
}

TEST_CASE("secure_join keeps symlinks inside the root", "[unit][mounts]") {
    char tmpl[] = "/tmp/berth-join-XXXXXX";
    std::string root = mkdtemp(tmpl);
    REQUIRE(mkdir((root + "/etc").c_str(), 0755) == 0);
    REQUIRE(symlink("/etc", (root + "/abs").c_str()) == 0);
    REQUIRE(symlink("../../../../etc", (root + "/rel").c_str()) == 0);
    CHECK(mounts::secure_join(root, "/data") == root + "/data");
    CHECK(mounts::secure_join(root, "/../../x") == root + "/x");
    CHECK(mounts::secure_join(root, "/abs/passwd") == root + "/etc/passwd");
    CHECK(mounts::secure_join(root, "/rel/passwd") == root + "/etc/passwd");
    CHECK(mounts::secure_join(root, "/etc/./hosts") == root + "/etc/hosts");
    std::system(("rm -rf " + root).c_str());
}

TEST_CASE("signal names and numbers", "[unit][cli]") {
    CHECK(*parse_signal("KILL") == 9);
    CHECK(*parse_signal("SIGTERM") == 15);
    CHECK(*parse_signal("sigusr1") == 10);
    CHECK(*parse_signal("9") == 9);
    CHECK(*parse_signal("RTMIN+2") == SIGRTMIN + 2);
    CHECK(*parse_signal("SIGRTMAX-1") == SIGRTMAX - 1);
    CHECK(*parse_signal("rtmin") == SIGRTMIN);
    CHECK(*parse_signal("SEGV") == SIGSEGV);
    CHECK(*parse_signal("32") == 32);
    CHECK(*parse_signal("64") == 64);
    CHECK(parse_signal("NOPE").error().describe() == "unknown signal 'NOPE'");
    CHECK(parse_signal("12abc").error().describe() == "unknown signal '12abc'");
    CHECK(parse_signal("").error().describe() == "unknown signal ''");
}

TEST_CASE("signal numbers out of range are refused, naming the value", "[unit][cli]") {
    auto error_of = [](const std::string& text) {
        auto signal = parse_signal(text);
        return signal ? "(parsed " + std::to_string(*signal) + ")" : signal.error().describe();
    };
    CHECK(error_of("0") == "invalid signal number 0 (expected 1-64)");
    CHECK(error_of("-1") == "invalid signal number -1 (expected 1-64)");
    CHECK(error_of("65") == "invalid signal number 65 (expected 1-64)");
    CHECK(error_of("2147483648") == "invalid signal number 2147483648 (expected 1-64)");
    CHECK(error_of("99999999999") == "invalid signal number 99999999999 (expected 1-64)");
    const std::string thirty(30, '9');
    CHECK(error_of(thirty) == "invalid signal number " + thirty + " (expected 1-64)");
    CHECK(error_of("RTMIN+99999999999") == "invalid signal 'RTMIN+99999999999': outside the real-time signals RTMIN..RTMAX (34-64)");
    CHECK(error_of("SIGRTMAX+1") == "invalid signal 'SIGRTMAX+1': outside the real-time signals RTMIN..RTMAX (34-64)");
    CHECK(error_of("RTMIN-1") == "invalid signal 'RTMIN-1': outside the real-time signals RTMIN..RTMAX (34-64)");
}

TEST_CASE("container ids are validated", "[unit][state]") {
    CHECK(validate_id("abc-1.2_x"));
    CHECK(validate_id("8d7e01366817951a1d96dcf8d8dede544445aa6a2c4acad3a974212429101fb5"));
    CHECK_FALSE(validate_id(""));
    CHECK_FALSE(validate_id("../x"));
    CHECK_FALSE(validate_id("a/b"));
    CHECK_FALSE(validate_id(".hidden"));
}
