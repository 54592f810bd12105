// TOML text → ServiceManifest: the format's sections and keys, and the checks that span
// several keys. Typed, located reading is toml_reader's job.
#include <algorithm>
#include <cctype>
#include <csignal>

#include "berth/manifest/manifest.hpp"
#include "berth/manifest/units.hpp"
#include "berth/runtime/capabilities.hpp"
#include "berth/signals.hpp"
#include "small_file.hpp"
#include "toml_reader.hpp"

namespace berth::manifest {
namespace {

using detail::ParseContext;
using detail::SectionKeys;
using detail::TableReader;

enum Section { kTop, kContainer, kMount, kResources, kReady, kHealth, kRestart, kStop };

const std::vector<SectionKeys>& sections() {
    static const std::vector<SectionKeys> all = {
        {"the top level",
         {"name", "description", "type", "critical", "privileged", "after", "requires", "container", "mount",
          "resources", "ready", "health", "restart", "stop"}},
        {"[container]",
         {"image", "command", "args", "env", "workdir", "user", "group", "read_only", "hostname", "capabilities_add",
          "capabilities_drop", "seccomp", "sysctls", "devices", "network", "pid"}},
        {"[[mount]]", {"type", "source", "target", "read_only", "options"}},
        {"[resources]", {"memory", "cpus", "pids", "io_weight"}},
        {"[ready]", {"exec", "tcp", "file", "notify", "timeout"}},
        {"[health]", {"exec", "interval", "timeout", "retries", "start_period"}},
        {"[restart]", {"policy", "delay", "max_delay", "reset_after"}},
        {"[stop]", {"signal", "timeout"}},
    };
    return all;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string stem_of(const std::string& file_path) {
    std::string base = file_path.substr(file_path.rfind('/') + 1);  // npos + 1 == 0
    size_t dot = base.rfind('.');
    return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// An absolute path without "." or ".." components: what the manifest means is what happens.
bool is_clean_absolute_path(std::string_view path) {
    if (path.empty() || path[0] != '/') return false;
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = std::min(path.find('/', start), path.size());
        std::string_view part = path.substr(start, end - start);
        if (part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

Result<std::optional<std::string>> absolute_path(const TableReader& table, std::string_view key) {
    auto path = TRY(table.string(key));
    if (path && !is_clean_absolute_path(*path))
        return table.fail_at_value(key, quoted(*path) + " is not an absolute path (or contains '.' or '..')");
    return path;
}

Result<std::optional<Duration>> positive_duration(const TableReader& table, std::string_view key) {
    auto duration = TRY(table.duration(key));
    if (duration && duration->count() == 0) return table.fail_at_value(key, "must be longer than 0s");
    return duration;
}

// More than any machine runs: a longer `after` or `requires` is a mistake or an attack.
constexpr size_t kMaxServiceNames = 256;

Result<std::vector<std::string>> service_names(const TableReader& table, std::string_view key,
                                               const std::string& own_name) {
    auto names = TRY(table.strings(key, kMaxServiceNames)).value_or(std::vector<std::string>{});
    for (size_t i = 0; i < names.size(); ++i) {
        std::string element = table.key_path(key) + "[" + std::to_string(i) + "]";
        SourcePosition at = table.context().positions_sink->positions[element];
        if (!is_valid_service_name(names[i]))
            return table.context().fail_at(at, element, "invalid service name " + quoted(names[i]));
        if (names[i] == own_name)
            return table.context().fail_at(at, element, quoted(names[i]) + " is this service itself");
    }
    return names;
}

Result<void> parse_top(const TableReader& top, ServiceManifest& m) {
    TRY(top.check_keys(sections()[kTop]));
    if (auto name = TRY(top.string("name")); name && *name != m.name)
        return top.fail_at_value("name", quoted(*name) + " does not match the file name: this service is " +
                                             quoted(m.name));
    m.description = TRY(top.string("description")).value_or("");
    m.type = TRY(top.choice<ServiceType>("type", {{"service", ServiceType::Service}, {"oneshot", ServiceType::Oneshot}}))
                 .value_or(ServiceType::Service);
    m.critical = TRY(top.boolean("critical")).value_or(false);
    m.privileged = TRY(top.boolean("privileged")).value_or(false);
    m.after = TRY(service_names(top, "after", m.name));
    m.required_services = TRY(service_names(top, "requires", m.name));
    if (m.type == ServiceType::Oneshot) m.restart.policy = RestartPolicy::No;
    if (m.privileged)
        m.warnings.push_back(top.context().located(top.value_position("privileged")) + ": privileged: service " +
                             quoted(m.name) +
                             " runs privileged: every capability, no seccomp filter, the host's devices, "
                             "writable /sys and /proc");
    return {};
}

// "net_admin" / "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL".
Result<std::vector<std::string>> capability_names(const TableReader& table, std::string_view key) {
    auto names = TRY(table.strings(key, kMaxServiceNames)).value_or(std::vector<std::string>{});
    for (size_t i = 0; i < names.size(); ++i) {
        std::string name = names[i];
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
        if (name == "ALL") {
            names[i] = name;
            continue;
        }
        if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
        if (!runtime::caps::from_name(name)) {
            std::string element = table.key_path(key) + "[" + std::to_string(i) + "]";
            std::vector<std::string> known;
            for (int cap = 0; cap < 64; ++cap)
                if (auto known_name = runtime::caps::to_name(cap); !std::isdigit(static_cast<unsigned char>(known_name[4])))
                    known.push_back(known_name);
            std::vector<std::string_view> candidates(known.begin(), known.end());
            std::string what = "unknown capability " + quoted(names[i]);
            if (auto suggestion = detail::near_miss(name, candidates); !suggestion.empty())
                what += "; did you mean '" + std::string(suggestion.substr(4)) + "'?";
            return table.context().fail_at(table.context().positions_sink->positions[element], element, what);
        }
        names[i] = name;
    }
    return names;
}

bool is_valid_hostname(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '-' || name.front() == '.') return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

Result<void> parse_container(const TableReader& c, ServiceManifest& m) {
    TRY(c.check_keys(sections()[kContainer]));
    ContainerSection& out = m.container;

    auto image = TRY(c.string("image"));
    if (!image) return c.fail_here("'image' is required (a directory under the images root, or an absolute path)");
    bool plain_name = !image->empty() && image->find('/') == std::string::npos && *image != "." && *image != "..";
    if (!plain_name && !is_clean_absolute_path(*image))
        return c.fail_at_value("image", quoted(*image) + " is neither an image name nor an absolute path");
    out.image = *image;

    out.command = TRY(c.strings("command")).value_or(std::vector<std::string>{});
    if (out.command.empty()) {
        if (c.find("command")) return c.fail_at_value("command", "must not be empty");
        return c.fail_here("'command' is required (images carry no default command)");
    }
    if (out.command[0].empty()) return c.fail_at_value("command", "the program name must not be empty");
    out.args = TRY(c.strings("args")).value_or(std::vector<std::string>{});

    out.env = TRY(c.string_table("env", false, false)).value_or(std::map<std::string, std::string>{});
    for (const auto& [name, value] : out.env) {
        (void)value;
        if (name.empty() || name.find('=') != std::string::npos)
            return c.fail_at_value("env", "invalid variable name " + quoted(name));
    }
    out.workdir = TRY(absolute_path(c, "workdir")).value_or("/");
    out.user = TRY(c.string_or_id("user")).value_or("");
    out.group = TRY(c.string_or_id("group")).value_or("");
    for (auto [key, value] : {std::pair{"user", &out.user}, std::pair{"group", &out.group}})
        if (c.find(key) && (value->empty() || value->find_first_of(":\n") != std::string::npos))
            return c.fail_at_value(key, "invalid " + std::string(key) + " name " + quoted(*value));
    out.read_only = TRY(c.boolean("read_only")).value_or(true);
    out.hostname = TRY(c.string("hostname")).value_or("");
    if (c.find("hostname") && !is_valid_hostname(out.hostname))
        return c.fail_at_value("hostname", "invalid hostname " + quoted(out.hostname) +
                                               " (letters, digits, '-' and '.', at most 64 characters)");
    out.capabilities_add = TRY(capability_names(c, "capabilities_add"));
    out.capabilities_drop = TRY(capability_names(c, "capabilities_drop"));

    if (auto seccomp = TRY(c.string("seccomp"))) {
        if (*seccomp == "default") {
            out.seccomp = SeccompMode::Default;
        } else if (*seccomp == "unconfined") {
            out.seccomp = SeccompMode::Unconfined;
        } else if (is_clean_absolute_path(*seccomp)) {
            out.seccomp = SeccompMode::Profile;
            out.seccomp_profile = *seccomp;
        } else {
            return c.fail_at_value("seccomp", "unknown value " + quoted(*seccomp) +
                                                  " (expected \"default\", \"unconfined\" or the absolute path "
                                                  "of an OCI seccomp profile)");
        }
    }
    out.sysctls = TRY(c.string_table("sysctls", true, true)).value_or(std::map<std::string, std::string>{});
    out.devices = TRY(c.strings("devices")).value_or(std::vector<std::string>{});
    for (size_t i = 0; i < out.devices.size(); ++i) {
        std::string element = c.key_path("devices") + "[" + std::to_string(i) + "]";
        if (!is_clean_absolute_path(out.devices[i]) || out.devices[i].rfind("/dev/", 0) != 0)
            return c.context().fail_at(m.positions[element], element, quoted(out.devices[i]) + " is not a path under /dev/");
    }
    out.network = TRY(c.choice<NetworkMode>("network", {{"none", NetworkMode::None}, {"host", NetworkMode::Host}}))
                      .value_or(NetworkMode::None);
    out.pid = TRY(c.choice<PidMode>("pid", {{"private", PidMode::Private}, {"host", PidMode::Host}}))
                  .value_or(PidMode::Private);
    if (out.seccomp == SeccompMode::Unconfined && !m.privileged)
        m.warnings.push_back(c.context().located(c.value_position("seccomp")) + ": container.seccomp: service " +
                             quoted(m.name) + " runs without a seccomp filter");
    return {};
}

// Mount options berth passes to mount(2) itself; read-only has its own key.
const std::vector<std::string_view> kMountFlags = {
    "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "nodiratime", "relatime", "strictatime",
    "private", "rprivate", "slave", "rslave", "shared", "rshared"};
// tmpfs data options (name=value); size takes a manifest size and is passed as bytes.
const std::vector<std::string_view> kTmpfsOptions = {"size", "mode", "uid", "gid", "nr_inodes"};

Result<std::string> check_mount_option(const TableReader& mount, size_t index, const std::string& option,
                                       MountType type) {
    std::string element = mount.key_path("options") + "[" + std::to_string(index) + "]";
    auto error = [&](const std::string& what) {
        return mount.context().fail_at(mount.context().positions_sink->positions[element], element, what);
    };
    if (option == "ro" || option == "rw") return error("use read_only = " + std::string(option == "ro" ? "true" : "false") + " instead of " + quoted(option));
    if (std::find(kMountFlags.begin(), kMountFlags.end(), option) != kMountFlags.end()) return option;
    size_t equals = option.find('=');
    std::string name = option.substr(0, equals);
    bool is_data = type == MountType::Tmpfs && equals != std::string::npos &&
                   std::find(kTmpfsOptions.begin(), kTmpfsOptions.end(), name) != kTmpfsOptions.end();
    if (!is_data) {
        std::vector<std::string_view> candidates = kMountFlags;
        if (type == MountType::Tmpfs) candidates.insert(candidates.end(), kTmpfsOptions.begin(), kTmpfsOptions.end());
        std::string what = "unknown mount option " + quoted(option);
        if (auto suggestion = detail::near_miss(name, candidates); !suggestion.empty())
            what += "; did you mean '" + std::string(suggestion) + "'?";
        return error(what);
    }
    std::string value = option.substr(equals + 1);
    if (name == "size") {
        auto bytes = parse_size(value);
        if (!bytes) return error(bytes.error().message);
        return "size=" + std::to_string(*bytes);
    }
    bool octal = name == "mode";
    bool valid = !value.empty() && value.size() <= (octal ? 4 : 10) &&
                 std::all_of(value.begin(), value.end(),
                             [octal](char ch) { return octal ? ch >= '0' && ch <= '7' : ch >= '0' && ch <= '9'; });
    if (!valid) return error("invalid value in " + quoted(option) + (octal ? " (expected octal digits)" : " (expected a number)"));
    return option;
}

bool is_valid_volume_name(std::string_view name) {
    if (name.empty() || name.size() > 63 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

Result<void> parse_mounts(const TableReader& top, ServiceManifest& m) {
    auto mounts = TRY(top.table_array("mount"));
    if (!mounts) return {};
    for (const TableReader& mount : *mounts) {
        TRY(mount.check_keys(sections()[kMount]));
        MountEntry entry;
        auto type = TRY(mount.choice<MountType>(
            "type", {{"bind", MountType::Bind}, {"tmpfs", MountType::Tmpfs}, {"volume", MountType::Volume}}));
        if (!type) return mount.fail_here("'type' is required (\"bind\", \"tmpfs\" or \"volume\")");
        entry.type = *type;
        auto target = TRY(absolute_path(mount, "target"));
        if (!target) return mount.fail_here("'target' is required (an absolute path in the container)");
        if (*target == "/") return mount.fail_at_value("target", "cannot mount over the container's root");
        entry.target = *target;
        for (const auto& earlier : m.mounts)
            if (earlier.target == entry.target)
                return mount.fail_at_value("target", quoted(entry.target) + " is already a mount target");
        switch (entry.type) {
            case MountType::Bind: {
                auto source = TRY(absolute_path(mount, "source"));
                if (!source) return mount.fail_here("'source' is required for a bind mount (an absolute host path)");
                entry.source = *source;
                break;
            }
            case MountType::Volume: {
                auto source = TRY(mount.string("source"));
                if (!source) return mount.fail_here("'source' is required for a volume (the volume's name)");
                if (!is_valid_volume_name(*source))
                    return mount.fail_at_value("source", "invalid volume name " + quoted(*source) +
                                                             " (letters, digits, '-', '_' and '.', at most 63)");
                entry.source = *source;
                break;
            }
            case MountType::Tmpfs:
                if (mount.find("source")) return mount.fail_at_key("source", "a tmpfs mount has no source");
                break;
        }
        entry.read_only = TRY(mount.boolean("read_only")).value_or(false);
        auto options = TRY(mount.strings("options")).value_or(std::vector<std::string>{});
        for (size_t i = 0; i < options.size(); ++i)
            entry.options.push_back(TRY(check_mount_option(mount, i, options[i], entry.type)));
        m.mounts.push_back(std::move(entry));
    }
    return {};
}

Result<void> parse_resources(const TableReader& r, ServiceManifest& m) {
    TRY(r.check_keys(sections()[kResources]));
    ResourceLimits& out = m.resources;
    out.memory_bytes = TRY(r.size("memory"));
    if (out.memory_bytes && *out.memory_bytes < (1u << 20))
        return r.fail_at_value("memory", std::to_string(*out.memory_bytes) +
                                             " bytes is too small (at least 1Mi; sizes take a suffix like \"64M\")");
    out.cpus = TRY(r.number("cpus"));
    if (out.cpus && (*out.cpus < 0.01 || *out.cpus > 4096))
        return r.fail_at_value("cpus", "must be between 0.01 and 4096");
    out.pids = TRY(r.integer("pids", 1, 4194304));
    if (auto weight = TRY(r.integer("io_weight", 1, 10000))) out.io_weight = static_cast<uint16_t>(*weight);
    return {};
}

Result<void> parse_ready(const TableReader& r, ServiceManifest& m) {
    TRY(r.check_keys(sections()[kReady]));
    Readiness& out = m.ready;
    // Exactly one readiness check; report a second one at its own position, naming both.
    std::string_view first_kind;
    auto choose = [&](std::string_view key, ReadyKind kind) -> Result<void> {
        if (!first_kind.empty()) {
            std::string_view earlier = first_kind, later = key;
            auto pa = r.key_position(earlier), pb = r.key_position(later);
            if (std::pair(pb.line, pb.column) < std::pair(pa.line, pa.column)) std::swap(earlier, later);
            return r.context().fail_at(r.key_position(later), r.path(),
                                       quoted(earlier) + " and " + quoted(later) +
                                           " are mutually exclusive (one readiness check per service)");
        }
        first_kind = key;
        out.kind = kind;
        return {};
    };
    if (auto exec = TRY(r.strings("exec"))) {
        if (exec->empty()) return r.fail_at_value("exec", "must not be empty");
        out.exec = *exec;
        TRY(choose("exec", ReadyKind::Exec));
    }
    if (auto port = TRY(r.integer("tcp", 1, 65535))) {
        out.tcp_port = static_cast<uint16_t>(*port);
        TRY(choose("tcp", ReadyKind::Tcp));
    }
    if (auto file = TRY(absolute_path(r, "file"))) {
        out.file = *file;
        TRY(choose("file", ReadyKind::File));
    }
    if (TRY(r.boolean("notify")).value_or(false)) TRY(choose("notify", ReadyKind::Notify));
    if (auto timeout = TRY(positive_duration(r, "timeout"))) out.timeout = *timeout;
    if (out.kind == ReadyKind::None) return r.fail_here("one of 'exec', 'tcp', 'file' or 'notify' is required");
    return {};
}

Result<void> parse_health(const TableReader& h, ServiceManifest& m) {
    TRY(h.check_keys(sections()[kHealth]));
    HealthCheck out;
    auto exec = TRY(h.strings("exec"));
    if (!exec) return h.fail_here("'exec' is required (the command that checks health)");
    if (exec->empty()) return h.fail_at_value("exec", "must not be empty");
    out.exec = *exec;
    if (auto v = TRY(positive_duration(h, "interval"))) out.interval = *v;
    if (auto v = TRY(positive_duration(h, "timeout"))) out.timeout = *v;
    if (auto v = TRY(h.integer("retries", 1, 1000))) out.retries = static_cast<int>(*v);
    if (auto v = TRY(h.duration("start_period"))) out.start_period = *v;
    m.health = std::move(out);
    return {};
}

Result<void> parse_restart(const TableReader& r, ServiceManifest& m) {
    TRY(r.check_keys(sections()[kRestart]));
    RestartSettings& out = m.restart;
    if (auto policy = TRY(r.choice<RestartPolicy>(
            "policy", {{"no", RestartPolicy::No}, {"on-failure", RestartPolicy::OnFailure}, {"always", RestartPolicy::Always}})))
        out.policy = *policy;
    if (auto v = TRY(positive_duration(r, "delay"))) out.delay = *v;
    if (auto v = TRY(positive_duration(r, "max_delay"))) out.max_delay = *v;
    if (auto v = TRY(positive_duration(r, "reset_after"))) out.reset_after = *v;
    if (out.max_delay < out.delay)
        return r.fail_at_value(r.find("max_delay") ? "max_delay" : "delay",
                               format_duration(out.max_delay) + " (max_delay) is shorter than " +
                                   format_duration(out.delay) + " (delay)");
    if (m.type == ServiceType::Oneshot && out.policy == RestartPolicy::Always)
        return r.fail_at_value("policy", "\"always\" would rerun a oneshot service forever; use \"on-failure\" or \"no\"");
    return {};
}

Result<void> parse_stop(const TableReader& s, ServiceManifest& m) {
    TRY(s.check_keys(sections()[kStop]));
    if (auto signal = TRY(s.string("signal"))) {
        auto number = parse_signal(*signal);
        if (!number) {
            std::string what = number.error().message;
            std::vector<std::string_view> names;
            for (const auto& known : signal_names()) names.push_back(known.name);
            std::string_view bare = std::string_view(*signal).starts_with("SIG") ? std::string_view(*signal).substr(3) : *signal;
            // Signal names are short: suggest only one that changes less than half of the name
            // ("TREM" → "TERM", not "FOO" → "IOT").
            auto suggestion = detail::near_miss(bare, names);
            if (!suggestion.empty() && what.starts_with("unknown") &&
                2 * detail::edit_distance(bare, suggestion) < suggestion.size())
                what += "; did you mean '" + std::string(suggestion) + "'?";
            return s.fail_at_value("signal", what);
        }
        m.stop.signal = *number;
        std::string name = signal_name(*number);
        m.stop.signal_name = name.starts_with("SIG") ? name.substr(3) : name;
    }
    if (auto v = TRY(s.duration("timeout"))) m.stop.timeout = *v;
    return {};
}

// Sysctls a container may set without changing the host: those of its own ipc and
// network namespaces (the list Docker and runc allow).
bool is_namespaced_sysctl(const std::string& name, NetworkMode network, std::string& why_not) {
    static const char* ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (const char* known : ipc)
        if (name == known) return true;
    if (name.rfind("fs.mqueue.", 0) == 0) return true;
    if (name.rfind("net.", 0) == 0) {
        if (network != NetworkMode::Host) return true;
        why_not = "it would change the host's network stack (network = \"host\")";
        return false;
    }
    why_not = "it is not namespaced: it would change the host";
    return false;
}

tl::unexpected<Error> fail_at_key(const ServiceManifest& m, const std::string& key, const std::string& what) {
    return fail(position_of(m, key) + ": " + key + ": " + what);
}

// Checks that involve more than one section.
Result<void> check_combinations(const TableReader& top, ServiceManifest& m) {
    const ContainerSection& c = m.container;
    if (m.privileged) {
        const std::pair<const char*, const char*> redundant[] = {
            {"container.capabilities_add", "privileged = true already grants every capability"},
            {"container.capabilities_drop", "privileged = true grants every capability; drop 'privileged' instead"},
            {"container.seccomp", "privileged = true already runs without seccomp"},
            {"container.devices", "privileged = true already sees every host device"},
        };
        for (auto [key, what] : redundant)
            if (m.positions.count(key)) return fail_at_key(m, key, what);
    }
    for (size_t i = 0; i < c.capabilities_drop.size(); ++i)
        if (std::find(c.capabilities_add.begin(), c.capabilities_add.end(), c.capabilities_drop[i]) !=
            c.capabilities_add.end())
            return fail_at_key(m, "container.capabilities_drop[" + std::to_string(i) + "]",
                               quoted(c.capabilities_drop[i]) + " is also in capabilities_add");
    for (const auto& [name, value] : c.sysctls) {
        (void)value;
        std::string why_not;
        if (!m.privileged && !is_namespaced_sysctl(name, c.network, why_not))
            return fail_at_key(m, "container.sysctls", "cannot set " + quoted(name) + ": " + why_not);
    }
    if (m.type == ServiceType::Oneshot) {
        if (top.find("ready")) return top.fail_at_key("ready", "a oneshot service is ready when it exits; remove [ready]");
        if (top.find("health")) return top.fail_at_key("health", "a oneshot service has no health check; remove [health]");
    }
    return {};
}

SourcePosition root_position(const toml::table& root) {
    SourcePosition at = detail::position_from(root.source());
    return at.line == 0 ? SourcePosition{1, 1} : at;
}

}  // namespace

std::string position_of(const ServiceManifest& manifest, const std::string& key) {
    auto it = manifest.positions.find(key);
    if (it == manifest.positions.end() || it->second.line == 0) return manifest.file_path;
    return manifest.file_path + ":" + std::to_string(it->second.line) + ":" + std::to_string(it->second.column);
}

Result<ServiceManifest> parse_manifest(std::string_view toml_text, const std::string& file_path) {
    ServiceManifest m;
    m.file_path = file_path;
    m.name = stem_of(file_path);
    if (!is_valid_service_name(m.name))
        return fail(file_path + ": invalid service name " + quoted(m.name) +
                    " (from the file name): use a-z, 0-9 and '-', not starting with '-', at most 63 characters");

    const toml::table root = TRY(detail::parse_toml(toml_text, file_path));
    ParseContext context{file_path, &m, &sections()};
    TableReader top(root, "", root_position(root), context);

    TRY(parse_top(top, m));
    auto container = TRY(top.table("container"));
    if (!container)
        return context.fail_at(top.position(), "container", "section [container] is missing (it needs at least 'image' and 'command')");
    TRY(parse_container(*container, m));
    TRY(parse_mounts(top, m));
    if (auto resources = TRY(top.table("resources"))) TRY(parse_resources(*resources, m));
    if (auto ready = TRY(top.table("ready"))) TRY(parse_ready(*ready, m));
    if (auto health = TRY(top.table("health"))) TRY(parse_health(*health, m));
    if (auto restart = TRY(top.table("restart"))) TRY(parse_restart(*restart, m));
    if (auto stop = TRY(top.table("stop"))) TRY(parse_stop(*stop, m));
    TRY(check_combinations(top, m));
    return m;
}

Result<ServiceManifest> load_manifest(const std::string& file_path) {
    std::string text = TRY(read_small_file(file_path));
    return parse_manifest(text, file_path);
}

}  // namespace berth::manifest
