// berth: an OCI runtime-spec container runtime, with runc's and crun's command line.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "berth/log.hpp"
#include "berth/paths.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace {

using berth::Result;
using Command = Result<int> (*)(const berth::runtime::Runtime&, const berth::cli::Args&);

struct Subcommand {
    const char* name;
    Command run;
    const char* usage;
};

const Subcommand subcommands[] = {
    {"create", berth::cli::cmd_create, "create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID"},
    {"start", berth::cli::cmd_start, "start ID"},
    {"run", berth::cli::cmd_run, "run [--bundle DIR] [--pid-file F] [--console-socket S] [--detach] ID"},
    {"state", berth::cli::cmd_state, "state ID"},
    {"kill", berth::cli::cmd_kill, "kill [--all] ID [SIGNAL]"},
    {"delete", berth::cli::cmd_delete, "delete [--force] ID"},
    {"exec", berth::cli::cmd_exec, "exec [--process FILE | ID CMD...] [--tty] [--detach] [--pid-file F] [--console-socket S]"},
    {"list", berth::cli::cmd_list, "list [--format table|json] [--quiet]"},
    {"ps", berth::cli::cmd_ps, "ps [--format table|json] ID"},
    {"pause", berth::cli::cmd_pause, "pause ID"},
    {"resume", berth::cli::cmd_resume, "resume ID"},
    {"features", berth::cli::cmd_features, "features"},
    {"spec", berth::cli::cmd_spec, "spec [--bundle DIR]"},
};

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: berth [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...\n\ncommands:\n");
    for (const auto& s : subcommands) std::fprintf(out, "  %s\n", s.usage);
}

}  // namespace

int berth_runtime_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = berth::cli::parse_args(args,
                                         {{{"--root"}, true},
                                          {{"--log"}, true},
                                          {{"--log-format"}, true},
                                          {{"--debug"}, false},
                                          {{"--systemd-cgroup"}, false},
                                          {{"--rootless"}, true},
                                          {{"--criu"}, true},
                                          {{"--help", "-h"}, false},
                                          {{"--version", "-v"}, false}},
                                         true);
    if (!parsed) {
        std::fprintf(stderr, "berth: %s\n", parsed.error().describe().c_str());
        usage(stderr);
        return 2;
    }
    if (parsed->has("version")) {
        std::printf("berth version 0.1.0\nspec: 1.1.0\n");
        return 0;
    }
    if (parsed->has("help") || parsed->positional.empty()) {
        usage(parsed->has("help") ? stdout : stderr);
        return parsed->has("help") ? 0 : 2;
    }
    std::string format = parsed->get("log-format", "text");
    if (format != "text" && format != "json") {
        std::fprintf(stderr, "berth: --log-format must be text or json, not '%s'\n", format.c_str());
        return 2;
    }
    std::string log_path = parsed->get("log");
    if (!berth::log::configure(log_path, format == "json" ? berth::log::Format::Json : berth::log::Format::Text,
                               parsed->has("debug")))
        std::fprintf(stderr, "berth: cannot open log file '%s': %s\n", log_path.c_str(), std::strerror(errno));
    if (parsed->has("systemd-cgroup")) berth::log::warning("--systemd-cgroup is not supported; using cgroupfs paths");

    berth::runtime::Runtime rt;
    rt.store = berth::runtime::StateStore(parsed->get("root", berth::paths::kRun));
    const std::string& name = parsed->positional[0];
    std::vector<std::string> rest(parsed->positional.begin() + 1, parsed->positional.end());
    for (const auto& s : subcommands) {
        if (name != s.name) continue;
        auto result = s.run(rt, rest);
        if (result) return *result;
        std::string message = std::string(s.name) + ": " + result.error().describe();
        berth::log::error(message);
        // Keep stderr readable for people even when the log goes to a file for podman.
        if (!log_path.empty()) std::fprintf(stderr, "berth: %s\n", message.c_str());
        return 1;
    }
    std::fprintf(stderr, "berth: unknown command '%s'\n", name.c_str());
    usage(stderr);
    return 2;
}
