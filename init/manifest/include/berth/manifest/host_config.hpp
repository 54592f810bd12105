// The host configuration (like cloud user data): one TOML file read at boot from QEMU's fw_cfg
// (opt/berth/config), the ESP (/berth/config.toml) or the copy kept on the state partition.
// Format and examples: docs/host-config.md. Validation is as strict as for manifests.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::manifest {

struct StaticAddress {
    std::string interface;  // "eth0"
    std::string address;    // "192.168.1.10/24"
    std::string gateway;    // "" = none
};

struct HostConfig {
    std::string hostname;                           // "" = keep the image's default
    std::vector<std::string> authorized_keys;       // OpenSSH public key lines for the admin login
    std::vector<StaticAddress> static_addresses;    // interfaces not listed use DHCP
    std::vector<std::string> dns;                   // overrides the resolvers DHCP hands out
    std::vector<std::string> ntp_servers;           // empty = the image's default pool
    std::map<std::string, std::string> services;    // service name → manifest text (validated at load)
    // [update]: a trial boot (boot counter) is blessed once every critical service has been
    // healthy for health_window; without that within bless_timeout of PID 1's start, it reboots.
    std::chrono::milliseconds health_window = std::chrono::seconds(30);
    std::chrono::milliseconds bless_timeout = std::chrono::minutes(5);
};

// Errors name "file:line:column: key: what"; a bad extra manifest is not an error here: it is
// reported (and skipped) when berth-init loads the services, like any other manifest.
Result<HostConfig> parse_host_config(std::string_view toml_text, const std::string& file_path);

// The files netd reads (static addressing and resolvers), one entry per line:
// "eth0 192.168.1.10/24 192.168.1.1" and "1.1.1.1".
std::string static_network_file(const HostConfig& config);
std::string dns_file(const HostConfig& config);

}  // namespace berth::manifest
