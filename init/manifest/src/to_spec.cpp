// ServiceManifest → runtime::ContainerSpec: default_spec() (Docker-like isolation) with the
// manifest applied on top. Reads the image's passwd/group, stats devices, reads a seccomp
// profile; creates nothing (volume and state directories are the supervisor's job).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "berth/manifest/manifest.hpp"
#include "berth/manifest/users.hpp"
#include "berth/paths.hpp"
#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/defaults.hpp"
#include "berth/runtime/oci_config.hpp"
#include "small_file.hpp"

namespace berth::manifest {
namespace {

using runtime::ContainerSpec;
using runtime::NamespaceType;

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr uint64_t kCpuPeriodMicroseconds = 100000;

// An error found after parsing, still pointing at the key in the manifest.
tl::unexpected<Error> fail_at(const ServiceManifest& m, const std::string& key, const Error& error) {
    return fail(Error{error.errnum, position_of(m, key) + ": " + key + ": " + error.message});
}

template <typename T>
Result<T> at_key(const ServiceManifest& m, const std::string& key, Result<T> result) {
    if (!result) return fail_at(m, key, result.error());
    return result;
}

void remove_namespace(ContainerSpec& spec, NamespaceType type) {
    std::erase_if(spec.namespaces, [type](const runtime::Namespace& ns) { return ns.type == type; });
}

void apply_namespaces(const ServiceManifest& m, ContainerSpec& spec) {
    const ContainerSection& c = m.container;
    if (c.network == NetworkMode::Host) remove_namespace(spec, NamespaceType::Network);
    // "none": a network namespace of its own with only loopback, up (the service can reach itself,
    // and a TCP ready probe can reach it).
    else spec.loopback_up = true;
    if (c.pid == PidMode::Host) remove_namespace(spec, NamespaceType::Pid);
    // Like Docker's --network host: the host's hostname too, unless the manifest names one.
    if (c.network == NetworkMode::Host && c.hostname.empty()) {
        remove_namespace(spec, NamespaceType::Uts);
        spec.hostname.clear();
    } else {
        spec.hostname = c.hostname.empty() ? m.name : c.hostname;
    }
}

Result<void> apply_process(const ServiceManifest& m, ContainerSpec& spec) {
    const ContainerSection& c = m.container;
    runtime::Process& p = spec.process;
    p.args = c.command;
    p.args.insert(p.args.end(), c.args.begin(), c.args.end());
    p.cwd = c.workdir;

    ResolvedUser user = TRY(at_key(m, "container.user", resolve_user(spec.root_path, c.user)));
    if (!c.group.empty()) {
        user.gid = TRY(at_key(m, "container.group", resolve_group(spec.root_path, c.group)));
        std::erase(user.additional_gids, user.gid);
    }
    p.user.uid = user.uid;
    p.user.gid = user.gid;
    p.user.additional_gids = user.additional_gids;

    // Services have no terminal: no TERM. The manifest's env overrides PATH and HOME.
    std::map<std::string, std::string> env{{"PATH", std::string(kDefaultPath).substr(5)}, {"HOME", user.home}};
    for (const auto& [name, value] : c.env) env[name] = value;
    if (m.ready.kind == ReadyKind::Notify) env["NOTIFY_SOCKET"] = kNotifySocketInContainer;
    p.env.clear();
    for (const auto& [name, value] : env) p.env.push_back(name + "=" + value);
    return {};
}

Result<std::vector<int>> capability_numbers(const std::vector<std::string>& names) {
    std::vector<int> out;
    for (const auto& name : names) {
        if (name == "ALL") return runtime::caps::all();
        out.push_back(TRY(runtime::caps::from_name(name)));
    }
    return out;
}

void sort_unique(std::vector<int>& caps) {
    std::sort(caps.begin(), caps.end());
    caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
}

Result<void> apply_capabilities(const ServiceManifest& m, ContainerSpec& spec) {
    const ContainerSection& c = m.container;
    // Docker's rule: (default ∪ add) − drop, where drop "ALL" means start from nothing.
    const auto& drop_names = c.capabilities_drop;
    bool drop_all = std::find(drop_names.begin(), drop_names.end(), "ALL") != drop_names.end();
    std::vector<int> granted = drop_all ? std::vector<int>{} : runtime::caps::docker_default();
    auto added = TRY(at_key(m, "container.capabilities_add", capability_numbers(c.capabilities_add)));
    granted.insert(granted.end(), added.begin(), added.end());
    if (!drop_all) {
        auto dropped = TRY(at_key(m, "container.capabilities_drop", capability_numbers(drop_names)));
        std::erase_if(granted, [&](int cap) { return std::find(dropped.begin(), dropped.end(), cap) != dropped.end(); });
    }
    sort_unique(granted);
    sort_unique(added);
    std::erase_if(added, [&](int cap) { return !std::binary_search(granted.begin(), granted.end(), cap); });
    runtime::CapabilitySets sets{granted, granted, {}, granted, {}};
    // A non-root process loses its capabilities at execve unless they are ambient; keep
    // the ones the manifest asked for explicitly (systemd's AmbientCapabilities).
    if (spec.process.user.uid != 0) sets.inheritable = sets.ambient = added;
    spec.process.capabilities = std::move(sets);
    return {};
}

// A profile in the OCI format (config.json's linux.seccomp), validated by the runtime's own
// config parser so that both accept exactly the same profiles.
Result<runtime::SeccompSpec> load_seccomp_profile(const std::string& path) {
    std::string text = TRY(read_small_file(path));
    auto profile = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (profile.is_discarded() || !profile.is_object()) return fail("'" + path + "' is not a JSON object");
    nlohmann::json config = {{"ociVersion", "1.0.2"},
                             {"root", {{"path", "/"}}},
                             {"process", {{"args", {"true"}}, {"cwd", "/"}}},
                             {"linux", {{"seccomp", profile}}}};
    auto parsed = runtime::parse_config(config.dump(), "/");
    if (!parsed) {
        std::string message = parsed.error().message;
        const std::string prefix = "linux.seccomp.";
        if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
        return fail("'" + path + "': " + message);
    }
    return *parsed->seccomp;
}

Result<void> apply_seccomp(const ServiceManifest& m, ContainerSpec& spec) {
    switch (m.container.seccomp) {
        case SeccompMode::Default: runtime::refresh_default_seccomp(spec); break;
        case SeccompMode::Unconfined: spec.seccomp.reset(); break;
        case SeccompMode::Profile:
            spec.seccomp = TRY(at_key(m, "container.seccomp", load_seccomp_profile(m.container.seccomp_profile)));
            break;
    }
    return {};
}

void apply_privileged(ContainerSpec& spec) {
    std::vector<int> all = runtime::caps::all();
    spec.process.capabilities = runtime::CapabilitySets{all, all, {}, all, {}};
    // no_new_privs only protects the restrictions privileged drops; setuid tools (su, sudo) need it off.
    spec.process.no_new_privileges = false;
    spec.seccomp.reset();
    spec.masked_paths.clear();
    spec.readonly_paths.clear();
    for (auto& mount : spec.mounts) {
        if (mount.destination == "/dev") mount = {"/dev", "bind", "/dev", {"rbind", "nosuid", "rprivate"}};
        if (mount.destination == "/sys" || mount.destination == "/sys/fs/cgroup") std::erase(mount.options, "ro");
    }
}

Result<void> apply_devices(const ServiceManifest& m, ContainerSpec& spec) {
    const auto& devices = m.container.devices;
    for (size_t i = 0; i < devices.size(); ++i) {
        const std::string key = "container.devices[" + std::to_string(i) + "]";
        struct stat st;
        if (::stat(devices[i].c_str(), &st) != 0) return fail_at(m, key, Error{errno, "'" + devices[i] + "'"});
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            return fail_at(m, key, Error{0, "'" + devices[i] + "' is not a device"});
        runtime::Device device;
        device.path = devices[i];
        device.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
        device.major = major(st.st_rdev);
        device.minor = minor(st.st_rdev);
        device.file_mode = st.st_mode & 07777;
        device.uid = st.st_uid;
        device.gid = st.st_gid;
        spec.devices.push_back(device);
    }
    return {};
}

size_t depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

bool has_mount_at(const ServiceManifest& m, const std::string& target) {
    return std::any_of(m.mounts.begin(), m.mounts.end(), [&](const MountEntry& e) { return e.target == target; });
}

runtime::Mount to_runtime_mount(const MountEntry& entry, const SpecContext& context) {
    runtime::Mount out{entry.target, "bind", entry.source, {"rbind", "rprivate"}};
    if (entry.type == MountType::Volume) out.source = volume_path(entry.source, context);
    if (entry.type == MountType::Tmpfs) {
        out = {entry.target, "tmpfs", "tmpfs", {"nosuid", "nodev", "noexec"}};
        bool has_mode = std::any_of(entry.options.begin(), entry.options.end(),
                                    [](const std::string& o) { return o.rfind("mode=", 0) == 0; });
        if (!has_mode) out.options.push_back("mode=1777");
    }
    if (entry.read_only) out.options.push_back("ro");
    // After the defaults, so that e.g. "exec" undoes "noexec".
    out.options.insert(out.options.end(), entry.options.begin(), entry.options.end());
    return out;
}

void apply_mounts(const ServiceManifest& m, const SpecContext& context, ContainerSpec& spec) {
    std::vector<runtime::Mount> mounts;
    for (const auto& entry : m.mounts) mounts.push_back(to_runtime_mount(entry, context));
    bool notify = m.ready.kind == ReadyKind::Notify;
    // The notify socket's directory is bound under /run; a tmpfs there makes room for the
    // mount point even in a read-only image.
    if (notify && !has_mount_at(m, "/run"))
        mounts.push_back({"/run", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=755", "size=1048576"}});
    if (notify)
        mounts.push_back({paths::kContainerRun, "bind", service_state_dir(m, context), {"rbind", "rprivate", "nosuid", "nodev", "noexec"}});
    // With the host's network comes the host's resolver configuration.
    if (m.container.network == NetworkMode::Host && !context.resolver_config.empty() &&
        !has_mount_at(m, "/etc/resolv.conf"))
        mounts.push_back({"/etc/resolv.conf", "bind", context.resolver_config, {"rbind", "rprivate", "ro"}});
    // logd's syslog socket as /dev/log: its directory is bound (the socket is re-created when
    // logd restarts, a bind of the socket itself would go stale) and /dev/log points into it.
    if (!context.syslog_dir.empty() && !has_mount_at(m, "/dev/log")) {
        mounts.push_back({"/dev/.berth-syslog", "bind", context.syslog_dir, {"rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"}});
        spec.symlinks.push_back({".berth-syslog/log", "/dev/log"});
    }
    // Parents before children, whatever order they came in.
    std::stable_sort(mounts.begin(), mounts.end(),
                     [](const runtime::Mount& a, const runtime::Mount& b) { return depth(a.destination) < depth(b.destination); });
    spec.mounts.insert(spec.mounts.end(), mounts.begin(), mounts.end());
}

void apply_resources(const ResourceLimits& limits, ContainerSpec& spec) {
    if (!limits.memory_bytes && !limits.cpus && !limits.pids && !limits.io_weight) return;
    runtime::Resources r;
    if (limits.memory_bytes) r.memory.limit = static_cast<int64_t>(*limits.memory_bytes);
    if (limits.cpus) {
        r.cpu.period = kCpuPeriodMicroseconds;
        r.cpu.quota = std::llround(*limits.cpus * static_cast<double>(kCpuPeriodMicroseconds));
    }
    if (limits.pids) r.pids_limit = *limits.pids;
    if (limits.io_weight) {
        // The plan carries OCI's blkio weight (10..1000); the runtime maps it back onto
        // io.weight (1..10000) on cgroup v2, so the kernel gets the nearest value that
        // scale can express (steps of about 10).
        double weight = 10.0 + std::round((*limits.io_weight - 1) * 990.0 / 9999.0);
        r.io.weight = static_cast<uint16_t>(weight);
    }
    spec.resources = std::move(r);
}

}  // namespace

std::string image_root(const ServiceManifest& manifest, const SpecContext& context) {
    const std::string& image = manifest.container.image;
    if (!image.empty() && image[0] == '/') return image;
    return context.images_root + "/" + image;
}

std::string volume_path(const std::string& name, const SpecContext& context) {
    return context.volumes_root + "/" + name;
}

std::string service_state_dir(const ServiceManifest& manifest, const SpecContext& context) {
    return context.state_dir + "/" + manifest.name;
}

Result<ContainerSpec> to_container_spec(const ServiceManifest& m, const SpecContext& context) {
    ContainerSpec spec = runtime::default_spec(image_root(m, context));
    spec.root_readonly = m.container.read_only;
    spec.cgroups_path = "/berth/" + m.name;
    spec.annotations["org.berth.service"] = m.name;
    spec.annotations["org.berth.manifest"] = m.file_path;
    apply_namespaces(m, spec);
    TRY(apply_process(m, spec));
    if (m.privileged) {
        apply_privileged(spec);
    } else {
        TRY(apply_capabilities(m, spec));
        TRY(apply_seccomp(m, spec));  // after capabilities: the default profile depends on them
        TRY(apply_devices(m, spec));
    }
    apply_mounts(m, context, spec);
    apply_resources(m.resources, spec);
    spec.sysctl = m.container.sysctls;
    return spec;
}

}  // namespace berth::manifest
