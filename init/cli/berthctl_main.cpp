// berthctl: talks to berth-init over its control socket; `check` validates manifests offline.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "berth/manifest/manifest.hpp"
#include "berth/parse_integer.hpp"
#include "berth/runtime/seccomp.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/supervisor/services_table.hpp"
#include "berth/supervisor/wall_time.hpp"
#include "berth/sys.hpp"
#include "berthctl_update.hpp"

namespace {
// Output through stdio: <iostream> would add its static initialisation (the locale) to every
// program of the multi-call binary, PID 1 included.
void print(std::string_view text, std::string_view end = "") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fwrite(end.data(), 1, end.size(), stdout);
}
}  // namespace

namespace control = berth::supervisor::control;
using berth::Result;

// Reads one response line (keeping what follows it in `buffer`).
Result<std::string> read_response_line(int fd, std::string& buffer) {
    for (;;) {
        if (auto nl = buffer.find('\n'); nl != std::string::npos) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            return line;
        }
        char buf[65536];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return berth::fail_sys("read from berth-init");
        if (n == 0) return berth::fail("berth-init closed the connection");
        buffer.append(buf, static_cast<size_t>(n));
    }
}


namespace {

int usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: berthctl [--socket PATH] [--json] COMMAND\n"
                 "  status | services\n"
                 "  logs [-f] [-n N] [--since TIME] SERVICE\n"
                 "  start | stop | restart | remove SERVICE\n"
                 "  kill SERVICE [SIGNAL]    signal the main process (default TERM)\n"
                 "  add FILE.toml\n"
                 "  check [--images DIR [--seccomp-cache DIR]] DIR...\n"
                 "                          validate manifests offline; with --images also resolve\n"
                 "                          each against its image (users, groups, devices);\n"
                 "                          --seccomp-cache DIR also compiles their seccomp filters\n"
                 "  reboot | poweroff\n"
                 "  update verify [--key FILE.pub]... FILE|-\n"
                 "                          check a bundle's signature and every part, offline\n"
                 "                          (default keys: the image's /usr/lib/berth/update-keys)\n"
                 "  update apply [--allow-downgrade] [--force] [--stream] [--reboot] [--pause-at STEP] FILE|-\n"
                 "                          install a bundle in the slot not booted (- : standard input);\n"
                 "                          --pause-at STEP stops it at a step, for power-cut tests\n"
                 "  update status           both slots, boot counts, the last update's outcome\n"
                 "  update rollback         the other slot boots next (if it is good)\n");
    return code;
}

void print_record(const nlohmann::json& r) {
    std::printf("%s %s %s\n", r.value("time", "").c_str(), r.value("stream", "") == "stderr" ? "E" : "O",
                r.value("line", "").c_str());
}

// The image exists and holds the command (absolute paths; PATH lookups are left to the boot).
std::string image_problem(const berth::manifest::ServiceManifest& service, const berth::manifest::SpecContext& context) {
    std::string root = berth::manifest::image_root(service, context);
    std::string where = service.file_path + ": container.image: ";
    if (!berth::sys::exists(root)) return where + "image '" + service.container.image + "' not found (no directory " + root + ")";
    const std::string& program = service.container.command.front();
    if (program.front() == '/' && ::access((root + program).c_str(), X_OK) != 0)
        return service.file_path + ": container.command: '" + program + "' is not an executable file in image '" +
               service.container.image + "' (" + root + program + ")";
    return "";
}

Result<int> run(const std::string& socket_path, const std::vector<std::string>& args, bool as_json) {
    const std::string& cmd = args[0];
    auto want_service = [&]() -> Result<std::string> {
        if (args.size() != 2) return berth::fail(cmd + ": expected exactly one service name");
        return args[1];
    };
    control::Request request;
    if (cmd == "update") return update_command(socket_path, args, as_json);
    if (cmd == "check") {
        std::vector<std::string> dirs;
        std::optional<berth::manifest::SpecContext> images;
        std::string seccomp_cache;
        for (size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--images") {
                if (i + 1 >= args.size()) return berth::fail("check: --images needs a directory");
                images.emplace().images_root = args[++i];
            } else if (args[i] == "--seccomp-cache") {
                if (i + 1 >= args.size()) return berth::fail("check: --seccomp-cache needs a directory");
                seccomp_cache = args[++i];
            } else if (args[i][0] == '-') return berth::fail("check: unknown flag '" + args[i] + "'");
            else dirs.push_back(args[i]);
        }
        if (dirs.empty()) return berth::fail("check: expected one or more directories");
        if (!seccomp_cache.empty() && !images) return berth::fail("check: --seccomp-cache needs --images");
        auto report = berth::manifest::load_directories(dirs);
        // At image build time: what berth-init would find wrong only at boot.
        if (images) {
            std::vector<berth::manifest::ServiceManifest> resolved;
            for (auto& service : report.services) {
                auto problem = image_problem(service, *images);
                if (problem.empty()) {
                    auto spec = berth::manifest::to_container_spec(service, *images);
                    if (!spec) problem = spec.error().describe();
                    // At image build time: each service's seccomp filter, compiled once here
                    // instead of at every boot (berth-init seeds its cache from it).
                    else if (spec->seccomp && !seccomp_cache.empty()) {
                        auto compiled = berth::runtime::seccomp::compile_cached(*spec->seccomp, seccomp_cache);
                        if (!compiled) problem = service.file_path + ": seccomp: " + compiled.error().describe();
                    }
                }
                if (problem.empty()) resolved.push_back(std::move(service));
                else report.errors.push_back({service.file_path, service.name, problem});
            }
            report.services = std::move(resolved);
        }
        print(berth::manifest::format_diagnostics(report));
        return report.errors.empty() ? 0 : 1;
    } else if (cmd == "status") request = control::StatusRequest{};
    else if (cmd == "services") request = control::ServicesRequest{};
    else if (cmd == "start") request = control::StartRequest{TRY(want_service())};
    else if (cmd == "stop") request = control::StopRequest{TRY(want_service())};
    else if (cmd == "restart") request = control::RestartRequest{TRY(want_service())};
    else if (cmd == "remove") request = control::RemoveRequest{TRY(want_service())};
    else if (cmd == "kill") {
        if (args.size() < 2 || args.size() > 3) return berth::fail("kill: expected a service name and an optional signal");
        request = control::KillRequest{args[1], args.size() == 3 ? args[2] : "TERM"};
    }
    else if (cmd == "reboot") request = control::RebootRequest{};
    else if (cmd == "poweroff") request = control::PoweroffRequest{};
    else if (cmd == "add") {
        if (args.size() != 2) return berth::fail("add: expected one manifest file");
        std::string path = args[1];
        auto text = TRY(berth::sys::read_file(path));
        std::string name = path.substr(path.rfind('/') + 1);
        if (name.size() < 6 || name.substr(name.size() - 5) != ".toml") return berth::fail("add: '" + path + "' is not a .toml file");
        request = control::AddRequest{"", text, name.substr(0, name.size() - 5)};
    } else if (cmd == "logs") {
        control::LogsRequest logs;
        for (size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "-f" || args[i] == "--follow") logs.follow = true;
            else if ((args[i] == "-n" || args[i] == "--lines") && i + 1 < args.size()) {
                const std::string& n = args[++i];
                auto lines = berth::parse_integer<std::size_t>(n, 1, SIZE_MAX);
                if (!lines) return berth::fail("logs: -n needs a positive number, not '" + n + "'");
                logs.lines = *lines;
            } else if (args[i] == "--since" && i + 1 < args.size()) {
                const std::string& t = args[++i];
                auto since = berth::supervisor::parse_rfc3339(t);
                if (!since) since = berth::supervisor::parse_unix_seconds(t);
                if (!since) return berth::fail("logs: --since needs an RFC 3339 time or Unix seconds, not '" + t + "'");
                logs.since = *since;
            } else if (args[i][0] == '-') return berth::fail("logs: unknown flag '" + args[i] + "'");
            else if (logs.service.empty()) logs.service = args[i];
            else return berth::fail("logs: expected one service name");
        }
        if (logs.service.empty()) return berth::fail("logs: expected a service name");
        request = logs;
    } else {
        std::fprintf(stderr, "berthctl: unknown command '%s'\n", cmd.c_str());
        return usage(2);
    }

    auto sock = TRY_CTX(berth::sys::connect_unix(socket_path, SOCK_STREAM), "berth-init");
    TRY(berth::sys::write_all(sock.get(), control::request_line(request)));
    std::string buffer;
    auto payload = TRY(control::parse_response(TRY(read_response_line(sock.get(), buffer))));
    if (as_json && !payload.is_null()) {
        print(payload.dump(), "\n");
    } else if (cmd == "services") {
        print(control::render_services_table(payload));
    } else if (cmd == "status") {
        print(payload.dump(2), "\n");
    } else if (cmd == "logs") {
        for (const auto& r : payload["records"]) print_record(r);
        if (std::get<control::LogsRequest>(request).follow) {
            std::fflush(stdout);
            for (;;) {
                auto record = TRY(control::parse_response(TRY(read_response_line(sock.get(), buffer))));
                print_record(record);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}

}  // namespace

int berthctl_main(int argc, char** argv) {
    std::string socket_path = control::kSocketPath;
    std::vector<std::string> args;
    bool as_json = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) socket_path = argv[++i];
        else if (a == "--json" && args.empty()) as_json = true;
        else if (a == "-h" || a == "--help") return usage(0);
        else args.push_back(a);
    }
    if (args.empty()) return usage(2);
    auto result = run(socket_path, args, as_json);
    if (!result) {
        std::fprintf(stderr, "berthctl: %s\n", result.error().describe().c_str());
        return 1;
    }
    return *result;
}
