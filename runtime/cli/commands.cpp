#include "commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "berth/parse_integer.hpp"
#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/defaults.hpp"
#include "berth/runtime/oci_config.hpp"
#include "berth/runtime/seccomp.hpp"
#include "berth/sys.hpp"
#include "options.hpp"

namespace {
// Output through stdio: <iostream> would add its static initialisation (the locale) to every
// program of the multi-call binary, PID 1 included.
void print(std::string_view text, std::string_view end = "") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fwrite(end.data(), 1, end.size(), stdout);
}
}  // namespace

namespace berth::cli {
namespace {

using namespace berth::runtime;

Result<std::string> one_id(const ParsedArgs& parsed, const char* command) {
    if (parsed.positional.size() != 1)
        return fail(std::string(command) + ": expected exactly one container id, got " +
                    std::to_string(parsed.positional.size()) + " arguments");
    return parsed.positional[0];
}

Result<int> parse_count(const std::string& text, const char* flag) {
    auto count = parse_integer<int>(text, 0, 999999);
    if (!count) return fail(std::string(flag) + ": '" + text + "' is not a number from 0 to 999999");
    return *count;
}

std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return path;
    return path == "." ? std::string(cwd) : std::string(cwd) + "/" + path;
}

const std::vector<FlagSpec> create_flags = {
    {{"--bundle", "-b"}, true},     {{"--pid-file"}, true},       {{"--console-socket"}, true},
    {{"--preserve-fds"}, true},     {{"--no-pivot"}, false},      {{"--no-new-keyring"}, false},
    {{"--detach", "-d"}, false},    {{"--keep"}, false},          {{"--notify-socket"}, true},
};

Result<CreateOptions> create_options(const ParsedArgs& parsed, const char* command) {
    CreateOptions opts;
    opts.id = TRY(one_id(parsed, command));
    opts.bundle = absolute(parsed.get("bundle", "."));
    opts.pid_file = absolute(parsed.get("pid-file"));
    opts.console_socket = absolute(parsed.get("console-socket"));
    if (parsed.has("preserve-fds")) opts.preserve_fds = TRY(parse_count(parsed.get("preserve-fds"), "--preserve-fds"));
    return opts;
}

}  // namespace

Result<int> cmd_create(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, create_flags, false));
    auto opts = TRY(create_options(parsed, "create"));
    TRY(create_container(rt, opts));
    return 0;
}

Result<int> cmd_run(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, create_flags, false));
    auto opts = TRY(create_options(parsed, "run"));
    auto result = TRY(run_container(rt, opts, parsed.has("detach")));
    return result.exit_code;
}

Result<int> cmd_start(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {}, false));
    TRY(start_container(rt, TRY(one_id(parsed, "start"))));
    return 0;
}

Result<int> cmd_state(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {}, false));
    auto info = TRY(inspect_container(rt, TRY(one_id(parsed, "state"))));
    auto j = nlohmann::ordered_json::parse(state_json(info.state, info.status));
    print(j.dump(2), "\n");
    return 0;
}

Result<int> cmd_kill(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {{{"--all", "-a"}, false}, {{"--pid"}, true}}, false));
    if (parsed.positional.empty() || parsed.positional.size() > 2)
        return fail("kill: expected a container id and an optional signal");
    int signal = TRY(parse_signal(parsed.positional.size() == 2 ? parsed.positional[1] : "TERM"));
    TRY(kill_container(rt, parsed.positional[0], signal, parsed.has("all")));
    return 0;
}

Result<int> cmd_delete(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {{{"--force", "-f"}, false}}, false));
    TRY(delete_container(rt, TRY(one_id(parsed, "delete")), parsed.has("force")));
    return 0;
}

Result<int> cmd_pause(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {}, false));
    TRY(pause_container(rt, TRY(one_id(parsed, "pause"))));
    return 0;
}

Result<int> cmd_resume(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {}, false));
    TRY(resume_container(rt, TRY(one_id(parsed, "resume"))));
    return 0;
}

Result<int> cmd_exec(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args,
                                 {{{"--process", "-p"}, true},
                                  {{"--pid-file"}, true},
                                  {{"--console-socket"}, true},
                                  {{"--detach", "-d"}, false},
                                  {{"--tty", "-t"}, false},
                                  {{"--cwd"}, true},
                                  {{"--env", "-e"}, true, true},
                                  {{"--user", "-u"}, true},
                                  {{"--additional-gids", "-g"}, true, true},
                                  {{"--cap", "-c"}, true, true},
                                  {{"--no-new-privs"}, false},
                                  {{"--preserve-fds"}, true},
                                  {{"--process-label"}, true},
                                  {{"--apparmor"}, true},
                                  {{"--ignore-paused"}, false}},
                                 true));
    if (parsed.positional.empty()) return fail("exec: expected a container id");
    std::string id = parsed.positional[0];
    Process process;
    if (parsed.has("process")) {
        std::string path = parsed.get("process");
        auto text = TRY(sys::read_file(path));
        process = TRY_CTX(parse_process(text), path);
    } else {
        if (parsed.positional.size() < 2) return fail("exec: expected a command after the container id, or --process FILE");
        // Defaults come from the container's own config, like runc.
        auto info = TRY(inspect_container(rt, id));
        auto text = TRY(sys::read_file(rt.store.dir(id) + "/config.json"));
        auto spec = TRY(parse_config(text, info.state.bundle));
        process = spec.process;
        process.args.assign(parsed.positional.begin() + 1, parsed.positional.end());
        process.terminal = parsed.has("tty");
        if (parsed.has("cwd")) process.cwd = parsed.get("cwd");
        for (const auto& e : parsed.all("env")) process.env.push_back(e);
        if (parsed.has("user")) {
            std::string user = parsed.get("user");
            auto colon = user.find(':');
            auto uid = TRY(parse_count(user.substr(0, colon), "--user"));
            process.user.uid = static_cast<uint32_t>(uid);
            if (colon != std::string::npos) process.user.gid = static_cast<uint32_t>(TRY(parse_count(user.substr(colon + 1), "--user")));
        }
        for (const auto& g : parsed.all("additional-gids"))
            process.user.additional_gids.push_back(static_cast<uint32_t>(TRY(parse_count(g, "--additional-gids"))));
        if (parsed.has("no-new-privs")) process.no_new_privileges = true;
        for (const auto& c : parsed.all("cap")) {
            int cap = TRY(caps::from_name(c));
            if (!process.capabilities) process.capabilities = CapabilitySets{};
            for (auto* set : {&process.capabilities->bounding, &process.capabilities->effective, &process.capabilities->permitted})
                set->push_back(cap);
        }
    }
    ExecOptions opts;
    opts.pid_file = absolute(parsed.get("pid-file"));
    opts.console_socket = absolute(parsed.get("console-socket"));
    opts.detach = parsed.has("detach");
    if (parsed.has("preserve-fds")) opts.preserve_fds = TRY(parse_count(parsed.get("preserve-fds"), "--preserve-fds"));
    return exec_in_container(rt, id, process, opts);
}

Result<int> cmd_list(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {{{"--format", "-f"}, true}, {{"--quiet", "-q"}, false}}, false));
    std::string format = parsed.get("format", "table");
    if (format != "table" && format != "json") return fail("list: --format must be table or json, not '" + format + "'");
    auto containers = TRY(list_containers(rt));
    if (parsed.has("quiet")) {
        for (const auto& c : containers) print(c.state.id, "\n");
        return 0;
    }
    if (format == "json") {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& c : containers)
            out.push_back({{"id", c.state.id}, {"pid", c.status == Status::Stopped ? 0 : c.state.pid},
                           {"status", status_name(c.status)}, {"bundle", c.state.bundle},
                           {"rootfs", c.state.rootfs}, {"created", c.state.created}, {"owner", "root"}});
        print(out.dump(), "\n");
        return 0;
    }
    std::printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    for (const auto& c : containers)
        std::printf("%-24s %-8d %-10s %-40s %s\n", c.state.id.c_str(), c.status == Status::Stopped ? 0 : c.state.pid,
                    status_name(c.status), c.state.bundle.c_str(), c.state.created.c_str());
    return 0;
}

Result<int> cmd_ps(const Runtime& rt, const Args& args) {
    auto parsed = TRY(parse_args(args, {{{"--format", "-f"}, true}}, false));
    std::string format = parsed.get("format", "table");
    if (format != "table" && format != "json") return fail("ps: --format must be table or json, not '" + format + "'");
    auto pids = TRY(container_pids(rt, TRY(one_id(parsed, "ps"))));
    if (format == "json") {
        print(nlohmann::json(pids).dump(), "\n");
        return 0;
    }
    std::printf("PID\n");
    for (pid_t p : pids) std::printf("%d\n", p);
    return 0;
}

Result<int> cmd_features(const Runtime&, const Args& args) {
    TRY(parse_args(args, {}, false));
    nlohmann::ordered_json caps_list = nlohmann::ordered_json::array();
    for (int c : caps::all()) caps_list.push_back(caps::to_name(c));
    nlohmann::ordered_json j{
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.1.0"},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions",
         {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync", "remount",
          "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime",
          "nostrictatime", "bind", "rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave",
          "unbindable", "runbindable"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
          {"capabilities", caps_list},
          {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
          {"seccomp",
           {{"enabled", true},
            {"actions", {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                         "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE"}},
            {"operators", {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                           "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
            {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}}}},
        {"annotations", {{"org.opencontainers.runc.version", "berth"}}}};
    print(j.dump(2), "\n");
    return 0;
}

Result<int> cmd_spec(const Runtime&, const Args& args) {
    auto parsed = TRY(parse_args(args, {{{"--bundle", "-b"}, true}, {{"--rootless"}, false}}, false));
    if (parsed.has("rootless")) return fail("spec: --rootless is not supported");
    if (!parsed.positional.empty()) return fail("spec: unexpected argument '" + parsed.positional[0] + "'");
    std::string path = parsed.get("bundle", ".") + "/config.json";
    if (sys::exists(path)) return fail("spec: '" + path + "' already exists");
    TRY(sys::write_file(path, spec_to_json(default_spec()).dump(2) + "\n", O_EXCL));
    return 0;
}

}  // namespace berth::cli
