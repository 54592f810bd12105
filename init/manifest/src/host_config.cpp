#include "berth/manifest/host_config.hpp"

#include <arpa/inet.h>

#include "berth/manifest/units.hpp"
#include "berth/parse_integer.hpp"
#include "toml_reader.hpp"

namespace berth::manifest {
namespace {

using detail::ParseContext;
using detail::SectionKeys;
using detail::TableReader;

enum Section { kTop, kSsh, kNetwork, kStatic, kNtp, kUpdate };

const std::vector<SectionKeys>& sections() {
    static const std::vector<SectionKeys> all = {
        {"the top level", {"hostname", "ssh", "network", "ntp", "update", "services"}},
        {"[ssh]", {"authorized_keys"}},
        {"[network]", {"dns", "static"}},
        {"[[network.static]]", {"interface", "address", "gateway"}},
        {"[ntp]", {"servers"}},
        {"[update]", {"health_window", "bless_timeout"}},
    };
    return all;
}

bool valid_hostname(std::string_view name) {
    if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    return true;
}

bool valid_ip(const std::string& text) {
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool valid_cidr(const std::string& text) {
    auto slash = text.find('/');
    if (slash == std::string::npos || slash + 1 == text.size()) return false;
    std::string ip = text.substr(0, slash), bits = text.substr(slash + 1);
    auto prefix = parse_integer<int>(bits, 0, ip.find(':') == std::string::npos ? 32 : 128);
    return prefix && valid_ip(ip);
}

bool valid_interface(std::string_view name) {
    if (name.empty() || name.size() > 15) return false;
    for (char c : name)
        if (c == '/' || c == ' ' || c == '\t' || c == '\n') return false;
    return true;
}

Result<std::vector<std::string>> addresses(const TableReader& table, std::string_view key) {
    auto list = TRY(table.strings(key)).value_or(std::vector<std::string>{});
    for (const auto& a : list)
        if (!valid_ip(a)) return table.fail_at_value(key, "'" + a + "' is not an IP address");
    return list;
}

Result<void> parse_network(const TableReader& network, HostConfig& config) {
    TRY(network.check_keys(sections()[kNetwork]));
    config.dns = TRY(addresses(network, "dns"));
    auto entries = TRY(network.table_array("static"));
    if (!entries) return {};
    for (const auto& entry : *entries) {
        TRY(entry.check_keys(sections()[kStatic]));
        StaticAddress a;
        auto interface = TRY(entry.string("interface"));
        auto address = TRY(entry.string("address"));
        if (!interface) return entry.fail_here("'interface' is required (e.g. interface = \"eth0\")");
        if (!address) return entry.fail_here("'address' is required (e.g. address = \"192.168.1.10/24\")");
        if (!valid_interface(*interface)) return entry.fail_at_value("interface", "invalid interface name '" + *interface + "'");
        if (!valid_cidr(*address))
            return entry.fail_at_value("address", "'" + *address + "' is not an address with a prefix length (192.168.1.10/24)");
        a.interface = *interface;
        a.address = *address;
        a.gateway = TRY(entry.string("gateway")).value_or("");
        if (!a.gateway.empty() && !valid_ip(a.gateway))
            return entry.fail_at_value("gateway", "'" + a.gateway + "' is not an IP address");
        for (const auto& other : config.static_addresses)
            if (other.interface == a.interface)
                return entry.fail_at_value("interface", "interface '" + a.interface + "' is configured twice");
        config.static_addresses.push_back(a);
    }
    return {};
}

Result<void> parse_update(const TableReader& update, HostConfig& config) {
    using std::chrono::hours;
    using std::chrono::seconds;
    TRY(update.check_keys(sections()[kUpdate]));
    auto within = [&](std::string_view key, Duration value, Duration min, Duration max) -> Result<void> {
        if (value < min || value > max)
            return update.fail_at_value(key, "'" + format_duration(value) + "' is out of range (" + format_duration(min) +
                                                 " to " + format_duration(max) + ")");
        return {};
    };
    if (auto window = TRY(update.duration("health_window"))) {
        TRY(within("health_window", *window, seconds(1), hours(1)));
        config.health_window = *window;
    }
    if (auto limit = TRY(update.duration("bless_timeout"))) {
        TRY(within("bless_timeout", *limit, seconds(10), hours(24)));
        config.bless_timeout = *limit;
    }
    if (config.bless_timeout <= config.health_window)
        return update.fail_at_value(update.find("bless_timeout") ? "bless_timeout" : "health_window",
                                    "bless_timeout (" + format_duration(config.bless_timeout) +
                                        ") must be longer than health_window (" + format_duration(config.health_window) + ")");
    return {};
}

}  // namespace

Result<HostConfig> parse_host_config(std::string_view toml_text, const std::string& file_path) {
    const toml::table root = TRY(detail::parse_toml(toml_text, file_path));
    ParseContext context{file_path, nullptr, &sections()};
    TableReader top(root, "", {1, 1}, context);
    TRY(top.check_keys(sections()[kTop]));

    HostConfig config;
    if (auto hostname = TRY(top.string("hostname"))) {
        if (!valid_hostname(*hostname))
            return top.fail_at_value("hostname", "invalid hostname '" + *hostname + "' (letters, digits and '-', at most 63)");
        config.hostname = *hostname;
    }
    if (auto ssh = TRY(top.table("ssh"))) {
        TRY(ssh->check_keys(sections()[kSsh]));
        config.authorized_keys = TRY(ssh->strings("authorized_keys")).value_or(std::vector<std::string>{});
        for (const auto& key : config.authorized_keys)
            if (key.find('\n') != std::string::npos || key.find(' ') == std::string::npos)
                return ssh->fail_at_value("authorized_keys", "each entry is one OpenSSH public key line (\"ssh-ed25519 AAAA... comment\")");
    }
    if (auto network = TRY(top.table("network"))) TRY(parse_network(*network, config));
    if (auto ntp = TRY(top.table("ntp"))) {
        TRY(ntp->check_keys(sections()[kNtp]));
        config.ntp_servers = TRY(ntp->strings("servers")).value_or(std::vector<std::string>{});
        for (const auto& server : config.ntp_servers)
            if (server.empty() || server.find_first_of(" \t\n/") != std::string::npos)
                return ntp->fail_at_value("servers", "invalid server name '" + server + "'");
    }
    if (auto update = TRY(top.table("update"))) TRY(parse_update(*update, config));
    if (auto services = TRY(top.string_table("services", false, false))) {
        for (const auto& [name, text] : *services) {
            if (!is_valid_service_name(name)) {
                auto table = TRY(top.table("services"));
                return table->fail_at_key(name, "invalid service name '" + name +
                                                    "': use a-z, 0-9 and '-', not starting with '-', at most 63 characters");
            }
            config.services[name] = text;
        }
    }
    return config;
}

std::string static_network_file(const HostConfig& config) {
    std::string out;
    for (const auto& a : config.static_addresses)
        out += a.interface + " " + a.address + (a.gateway.empty() ? "" : " " + a.gateway) + "\n";
    return out;
}

std::string dns_file(const HostConfig& config) {
    std::string out;
    for (const auto& server : config.dns) out += server + "\n";
    return out;
}

}  // namespace berth::manifest
