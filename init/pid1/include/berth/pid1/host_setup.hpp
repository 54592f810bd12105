// The machine role's host configuration step: find the host config (fw_cfg, the ESP, or the copy
// kept from an earlier boot), keep a copy, and hand its parts to the services that use them:
// SSH keys to the admin container, addresses and resolvers to netd, extra manifests to the loader.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/manifest/host_config.hpp"
#include "berth/paths.hpp"
#include "berth/result.hpp"

namespace berth::pid1 {

struct HostSetupPaths {
    // Read in this order; the first that exists wins and is saved for later boots.
    std::vector<std::string> sources = {"/sys/firmware/qemu_fw_cfg/by_name/opt/berth/config/raw",
                                        "/efi/berth/config.toml"};
    std::string saved = paths::kHostConfig;
    std::string services_dir = paths::kConfigServices;  // extra manifests, rewritten each boot
    std::string ssh_dir = paths::kSsh;          // authorized_keys, host keys
    std::string net_dir = paths::kNet;          // static, dns, ntp-servers, resolv.conf
};

struct HostSetupResult {
    std::string source;  // the file the config came from, "" if none
    manifest::HostConfig config;
};

// Never leaves the host without the runtime files services expect (resolv.conf exists, even
// empty). A config that does not parse is an error naming file:line:column; the caller logs it
// and boots with the image's defaults.
Result<HostSetupResult> apply_host_config(const HostSetupPaths& paths);

}  // namespace berth::pid1
