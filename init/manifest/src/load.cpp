// Loading every manifest of the service directories: one bad file never stops the others.
#include <algorithm>
#include <filesystem>
#include <set>

#include "berth/manifest/manifest.hpp"
#include "dependency_graph.hpp"

namespace berth::manifest {
namespace {

namespace fs = std::filesystem;

// *.toml in one directory, sorted; a missing directory has none.
Result<std::vector<std::string>> manifest_files(const std::string& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec == std::errc::no_such_file_or_directory) return std::vector<std::string>{};
    if (ec) return fail_errno(ec.value(), "cannot list '" + dir + "'");
    std::vector<std::string> files;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        const fs::path& path = it->path();
        if (path.extension() != ".toml") continue;
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) continue;  // follows symlinks; skips directories
        files.push_back(path.string());
    }
    if (ec) return fail_errno(ec.value(), "cannot list '" + dir + "'");
    std::sort(files.begin(), files.end());
    return files;
}

std::string stem_of(const std::string& file) { return fs::path(file).stem().string(); }

// The services that `requires` one that is not there (recursively), reported and removed.
void drop_unmet_requirements(std::map<std::string, ServiceManifest>& loaded, const std::set<std::string>& broken,
                             std::set<std::string>& skipped, std::vector<Diagnostic>& errors) {
    for (bool changed = true; changed;) {
        changed = false;
        for (auto it = loaded.begin(); it != loaded.end();) {
            const ServiceManifest& s = it->second;
            std::string reason;
            for (const auto& required : s.required_services) {
                if (loaded.count(required)) continue;
                reason = "service '" + s.name + "' requires '" + required + "', which " +
                         (broken.count(required)    ? "failed to load"
                          : skipped.count(required) ? "was skipped"
                                                    : "does not exist");
                break;
            }
            if (reason.empty()) {
                ++it;
                continue;
            }
            errors.push_back({s.file_path, s.name, s.file_path + ": " + reason});
            skipped.insert(s.name);
            it = loaded.erase(it);
            changed = true;
        }
    }
}

}  // namespace

LoadReport load_directories(const std::vector<std::string>& dirs) {
    LoadReport report;
    std::map<std::string, ServiceManifest> loaded;  // by name: the valid definition in effect
    std::set<std::string> broken;                   // names whose latest file failed, with nothing to keep
    for (const auto& dir : dirs) {
        auto files = manifest_files(dir);
        if (!files) {
            report.errors.push_back({dir, "", files.error().describe()});
            continue;
        }
        for (const auto& file : *files) {
            std::string name = stem_of(file);
            auto manifest = load_manifest(file);
            if (manifest) {
                broken.erase(name);
                loaded.insert_or_assign(name, std::move(*manifest));
                continue;
            }
            std::string message = manifest.error().describe();
            // A broken override must not take down a working service (think sshd): keep the earlier one.
            if (auto earlier = loaded.find(name); earlier != loaded.end())
                message += " (keeping " + earlier->second.file_path + ")";
            else
                broken.insert(name);
            report.errors.push_back({file, name, std::move(message)});
        }
    }

    std::set<std::string> skipped;
    drop_unmet_requirements(loaded, broken, skipped, report.errors);
    std::vector<ServiceManifest> remaining;
    for (auto& [name, manifest] : loaded) remaining.push_back(manifest);
    for (const auto& cycle : detail::find_cycles(detail::build_graph(remaining))) {
        for (const auto& member : cycle.members) {
            const ServiceManifest& s = loaded.at(member);
            report.errors.push_back({s.file_path, s.name, s.file_path + ": service '" + s.name +
                                                              "' is on a " + detail::describe(cycle)});
            skipped.insert(member);
            loaded.erase(member);
        }
    }
    drop_unmet_requirements(loaded, broken, skipped, report.errors);
    for (auto& [name, manifest] : loaded) report.services.push_back(std::move(manifest));
    return report;
}

std::string format_diagnostics(const LoadReport& report) {
    std::string out;
    for (const auto& error : report.errors) out += error.message + "\n";
    for (const auto& service : report.services)
        for (const auto& warning : service.warnings) out += "warning: " + warning + "\n";
    auto count = [](size_t n, const char* noun) {
        return (n == 0 ? std::string("no") : std::to_string(n)) + " " + noun + (n == 1 ? "" : "s");
    };
    out += count(report.services.size(), "service") + " loaded, " + count(report.errors.size(), "error") + "\n";
    return out;
}

}  // namespace berth::manifest
