#include "berth/pid1/host_setup.hpp"

#include <dirent.h>
#include <unistd.h>

#include "berth/sys.hpp"

namespace berth::pid1 {
namespace {

// Replaces a file's content in place (same inode): containers that bind-mounted it see the change.
Result<void> rewrite(const std::string& path, const std::string& content, mode_t mode = 0644) {
    return sys::write_file(path, content, 0, mode);  // O_TRUNC, not a new file
}

void clear_directory(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (auto* e = ::readdir(d))
        if (e->d_name[0] != '.') ::unlink((dir + "/" + e->d_name).c_str());
    ::closedir(d);
}

}  // namespace

Result<HostSetupResult> apply_host_config(const HostSetupPaths& paths) {
    HostSetupResult result;
    TRY(sys::mkdir_p(paths.net_dir));
    // Present from boot on, so services can bind it before netd has written a resolver.
    if (!sys::exists(paths.net_dir + "/resolv.conf")) TRY(rewrite(paths.net_dir + "/resolv.conf", ""));
    TRY(sys::mkdir_p(paths.services_dir));
    clear_directory(paths.services_dir);

    std::string text;
    for (const auto& source : paths.sources) {
        if (auto content = sys::read_file(source)) {
            result.source = source;
            text = *content;
            break;
        }
    }
    if (result.source.empty()) {
        auto saved = sys::read_file(paths.saved);
        if (!saved) return result;
        result.source = paths.saved;
        text = *saved;
    }
    result.config = TRY(manifest::parse_host_config(text, result.source));
    if (result.source != paths.saved) {
        TRY(sys::mkdir_p(paths.saved.substr(0, paths.saved.rfind('/')), 0700));
        TRY(rewrite(paths.saved, text, 0600));
    }

    const auto& config = result.config;
    TRY(rewrite(paths.net_dir + "/static", manifest::static_network_file(config)));
    TRY(rewrite(paths.net_dir + "/dns", manifest::dns_file(config)));
    std::string ntp;
    for (const auto& server : config.ntp_servers) ntp += server + "\n";
    TRY(rewrite(paths.net_dir + "/ntp-servers", ntp));
    if (!config.authorized_keys.empty()) {
        TRY(sys::mkdir_p(paths.ssh_dir, 0700));
        std::string keys;
        for (const auto& key : config.authorized_keys) keys += key + "\n";
        TRY(rewrite(paths.ssh_dir + "/authorized_keys", keys, 0600));
    }
    for (const auto& [name, manifest_text] : config.services)
        TRY(rewrite(paths.services_dir + "/" + name + ".toml", manifest_text));
    return result;
}

}  // namespace berth::pid1
