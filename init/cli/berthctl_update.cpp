#include "berthctl_update.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "berth/paths.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/sys.hpp"
#include "berth/update/bundle.hpp"

namespace update = berth::update;
namespace control = berth::supervisor::control;
using Json = nlohmann::json;

namespace {

std::string mebibytes(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return text;
}

// update verify FILE [--key FILE.pub]...: everything a host checks before writing, on any Linux box.
berth::Result<int> verify(const std::vector<std::string>& args) {
    std::string file;
    std::vector<std::string> key_files;
    for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--key") {
            if (i + 1 >= args.size()) return berth::fail("update verify: --key needs a public key file");
            key_files.push_back(args[++i]);
        } else if (args[i] != "-" && args[i][0] == '-') return berth::fail("update verify: unknown flag '" + args[i] + "'");
        else if (file.empty()) file = args[i];
        else return berth::fail("update verify: expected one bundle file");
    }
    if (file.empty()) return berth::fail("update verify: expected a bundle file (or - for standard input)");
    TRY(update::init_crypto());
    auto trusted = key_files.empty() ? TRY(update::load_trusted_keys(berth::paths::kUpdateKeys)) : TRY(update::load_key_files(key_files));
    berth::sys::UniqueFd fd;
    if (file != "-") fd = TRY(berth::sys::open(file, O_RDONLY | O_CLOEXEC));
    update::FdSource source(file == "-" ? 0 : fd.get());
    auto header = TRY_CTX(update::verify_bundle(source, trusted), file);
    const auto& m = header.manifest;
    std::printf("%s: a good bundle\n", file.c_str());
    std::printf("  version      %s (updates %s and newer), %s, %s\n", m.version.c_str(), m.min_version.c_str(),
                m.architecture.c_str(), m.compatible.c_str());
    std::printf("  build        %s, created %s\n", m.build_id.c_str(), m.created.c_str());
    std::printf("  signed by    %s (%s)%s\n", update::key_id(header.signer).c_str(), header.signer_source.c_str(),
                m.development_key ? ": a DEVELOPMENT key the build made up, not a release key" : "");
    for (const auto& part : m.parts)
        std::printf("  %-12s %s, sha256 %s\n", part.name.c_str(), mebibytes(part.size).c_str(), update::to_hex(part.sha256).c_str());
    std::printf("  verity root  %s\n", m.verity_root_hash.c_str());
    return 0;
}

// One line on the terminal, rewritten in place: "root  3.2/5.4 MiB  12.1 MiB/s  0:01 left".
class ProgressLine {
public:
    explicit ProgressLine(bool enabled) : enabled_(enabled) {}
    void show(const Json& p) {
        if (!enabled_ || !p.is_object()) return;
        std::string phase = p.value("phase", "");
        double done = p.value("done", 0.0), total = p.value("total", 0.0), seconds = p.value("seconds", 0.0);
        if (phase != phase_) phase_ = phase, phase_start_ = seconds, phase_done_ = done;
        double rate = seconds > phase_start_ ? (done - phase_done_) / (seconds - phase_start_) : 0;
        static const std::map<std::string, std::string> words = {
            {"root", "receiving root"}, {"kernel", "receiving kernel"}, {"initramfs", "receiving initramfs"},
            {"target-cleared", "old entry removed"}, {"write", "writing root"}, {"verify", "reading back"}, {"done", "done"}};
        auto word = words.find(phase);
        std::fprintf(stderr, "\r\033[K%-20s %7.1f/%.1f MiB", word == words.end() ? phase.c_str() : word->second.c_str(),
                     done / (1 << 20), total / (1 << 20));
        if (rate > 0) {
            std::fprintf(stderr, "  %6.1f MiB/s", rate / (1 << 20));
            if (total > done) std::fprintf(stderr, "  %.0f s left", (total - done) / rate);
        }
        std::fflush(stderr);
        shown_ = true;
    }
    void end() {
        if (shown_) std::fputs("\n", stderr);
        shown_ = false;
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::string phase_;
    double phase_start_ = 0, phase_done_ = 0;
};

std::string text_or(const Json& j, const char* key, const char* otherwise) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : otherwise;
}

void print_status(const Json& s) {
    std::printf("booted slot %s, running %s\n", text_or(s, "booted_slot", "?").c_str(), text_or(s, "running_version", "?").c_str());
    if (s.contains("slots") && s["slots"].is_object())
        for (const auto& [slot, v] : s["slots"].items()) {
            std::string tries;
            if (v.contains("tries_left") && v["tries_left"].is_number())
                tries = ", " + std::to_string(v["tries_left"].get<int>()) + " tries left" +
                        (v["tries_done"].is_number() ? ", " + std::to_string(v["tries_done"].get<int>()) + " done" : "");
            std::printf("  slot %s%s  %-8s %-12s %s%s\n", slot.c_str(), v.value("booted", false) ? "*" : " ",
                        text_or(v, "state", "?").c_str(), text_or(v, "version", "-").c_str(), text_or(v, "entry", "(no entry)").c_str(),
                        tries.c_str());
        }
    for (const char* which : {"last_update", "last_rollback"}) {
        if (!s.contains(which) || !s[which].is_object()) continue;
        const auto& r = s[which];
        std::printf("%s: %s %s %s: %s\n", which, text_or(r, "time", "?").c_str(), text_or(r, "version", "").c_str(),
                    text_or(r, "outcome", "").c_str(), text_or(r, "reason", text_or(r, "result", "").c_str()).c_str());
    }
}

// update apply|status|rollback: a request to berth-init, whose update job answers.
berth::Result<int> request(const std::string& socket_path, const std::vector<std::string>& args, bool as_json) {
    control::UpdateRequest req{args[1]};
    std::string file;
    for (size_t i = 2; i < args.size(); ++i) {
        const std::string& a = args[i];
        bool apply = req.action == "apply";
        if (apply && a == "--allow-downgrade") req.allow_downgrade = true;
        else if (apply && a == "--force") req.force = true;
        else if (apply && a == "--stream") req.stream = true;
        else if (apply && a == "--reboot") req.reboot = true;
        else if (apply && a == "--pause-at" && i + 1 < args.size()) req.pause_at = args[++i];
        else if (apply && file.empty() && (a == "-" || a[0] != '-')) file = a;
        else return berth::fail("update " + req.action + ": unexpected '" + a + "'");
    }
    if (req.action == "apply" && file.empty()) return berth::fail("update apply: expected a bundle file, or - for standard input");
    berth::sys::UniqueFd bundle;
    if (!file.empty() && file != "-") bundle = TRY(berth::sys::open(file, O_RDONLY | O_CLOEXEC));
    auto sock = TRY_CTX(berth::sys::connect_unix(socket_path, SOCK_STREAM), "berth-init");
    std::string line = control::request_line(req);
    if (req.action == "apply") TRY(berth::sys::send_fd(sock.get(), file == "-" ? STDIN_FILENO : bundle.get(), line));
    else TRY(berth::sys::write_all(sock.get(), line));
    bundle.reset();  // berth-init's job has its own copy

    ProgressLine progress(!as_json && ::isatty(STDERR_FILENO));
    std::string buffer;
    for (;;) {
        std::string response = TRY(read_response_line(sock.get(), buffer));
        if (as_json) std::printf("%s\n", response.c_str());
        auto payload = control::parse_response(response);
        if (!payload) {
            progress.end();
            return berth::fail(payload.error());
        }
        if (payload->contains("progress")) {
            progress.show((*payload)["progress"]);
            continue;
        }
        progress.end();
        if (as_json) return 0;
        if (req.action == "status") print_status(*payload);
        else if (req.action == "rollback") std::printf("%s\n", text_or(*payload, "result", "").c_str());
        else {
            std::printf("installed %s in slot %s (%s): %s\n", text_or(*payload, "version", "?").c_str(), text_or(*payload, "slot", "?").c_str(),
                        text_or(*payload, "entry", "?").c_str(), text_or(*payload, "reason", "").c_str());
            if (payload->value("development_key", false)) std::printf("warning: the bundle is signed by a development key\n");
            std::printf(req.reboot ? "rebooting into it now\n" : "it boots at the next reboot (berthctl reboot)\n");
        }
        return 0;
    }
}

}  // namespace

berth::Result<int> update_command(const std::string& socket_path, const std::vector<std::string>& args, bool as_json) {
    if (args.size() >= 2 && args[1] == "verify") return verify(args);
    if (args.size() >= 2 && (args[1] == "apply" || args[1] == "status" || args[1] == "rollback")) return request(socket_path, args, as_json);
    return berth::fail("update: expected verify, apply, status or rollback");
}
