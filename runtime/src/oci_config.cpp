#include "berth/runtime/oci_config.hpp"

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "berth/runtime/capabilities.hpp"
#include "berth/runtime/seccomp.hpp"
#include "berth/sys.hpp"

namespace berth::runtime {
namespace {

using json = nlohmann::json;

// Field readers: each names the JSON path in its error. Unknown keys are ignored, as the
// runtime-spec requires, so newer clients keep working.
Result<const json*> member(const json& obj, const std::string& /*path*/, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

Result<void> expect(const json& value, json::value_t type, const std::string& path, const char* what) {
    bool ok = value.type() == type ||
              (type == json::value_t::number_integer && value.is_number_unsigned());
    if (!ok) return fail(path + ": expected " + what + ", got " + value.type_name());
    return {};
}

Result<void> read_string(const json& obj, const std::string& path, const char* key, std::string& out) {
    const json* v = TRY(member(obj, path, key));
    if (!v) return {};
    TRY(expect(*v, json::value_t::string, join(path, key), "a string"));
    out = v->get<std::string>();
    return {};
}

Result<void> read_bool(const json& obj, const std::string& path, const char* key, bool& out) {
    const json* v = TRY(member(obj, path, key));
    if (!v) return {};
    TRY(expect(*v, json::value_t::boolean, join(path, key), "a boolean"));
    out = v->get<bool>();
    return {};
}

template <typename T>
Result<void> read_integer(const json& v, const std::string& path, T& out) {
    if (!v.is_number_integer()) return fail(path + ": expected an integer, got " + std::string(v.type_name()));
    if (v.is_number_unsigned()) {
        auto u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
            return fail(path + ": " + std::to_string(u) + " is out of range");
        out = static_cast<T>(u);
    } else {
        auto s = v.get<int64_t>();
        if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            (s > 0 && static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
            return fail(path + ": " + std::to_string(s) + " is out of range");
        out = static_cast<T>(s);
    }
    return {};
}

template <typename T>
Result<void> read_int(const json& obj, const std::string& path, const char* key, std::optional<T>& out) {
    const json* v = TRY(member(obj, path, key));
    if (!v) return {};
    T value{};
    TRY(read_integer(*v, join(path, key), value));
    out = value;
    return {};
}

template <typename T>
Result<void> read_int(const json& obj, const std::string& path, const char* key, T& out) {
    std::optional<T> value;
    TRY(read_int(obj, path, key, value));
    if (value) out = *value;
    return {};
}

Result<void> read_strings(const json& obj, const std::string& path, const char* key, std::vector<std::string>& out) {
    const json* v = TRY(member(obj, path, key));
    if (!v) return {};
    std::string p = join(path, key);
    TRY(expect(*v, json::value_t::array, p, "an array of strings"));
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
        TRY(expect((*v)[i], json::value_t::string, index(p, i), "a string"));
        out.push_back((*v)[i].get<std::string>());
    }
    return {};
}

Result<const json*> read_object(const json& obj, const std::string& path, const char* key) {
    const json* v = TRY(member(obj, path, key));
    if (v) TRY(expect(*v, json::value_t::object, join(path, key), "an object"));
    return v;
}

Result<const json*> read_array(const json& obj, const std::string& path, const char* key) {
    const json* v = TRY(member(obj, path, key));
    if (v) TRY(expect(*v, json::value_t::array, join(path, key), "an array"));
    return v;
}

Result<void> read_string_map(const json& obj, const std::string& path, const char* key,
                             std::map<std::string, std::string>& out) {
    const json* v = TRY(read_object(obj, path, key));
    if (!v) return {};
    for (auto& [k, value] : v->items()) {
        TRY(expect(value, json::value_t::string, join(path, key) + "." + k, "a string"));
        out[k] = value.get<std::string>();
    }
    return {};
}

Result<NamespaceType> namespace_from_name(const std::string& name, const std::string& path) {
    static const std::pair<const char*, NamespaceType> names[] = {
        {"pid", NamespaceType::Pid},   {"network", NamespaceType::Network}, {"mount", NamespaceType::Mount},
        {"ipc", NamespaceType::Ipc},   {"uts", NamespaceType::Uts},         {"user", NamespaceType::User},
        {"cgroup", NamespaceType::Cgroup}, {"time", NamespaceType::Time}};
    for (auto& [n, type] : names)
        if (name == n) return type;
    return fail(path + ": unknown namespace type '" + name +
                "' (expected pid, network, mount, ipc, uts, user, cgroup or time)");
}

Result<CapabilitySets> parse_capabilities(const json& obj, const std::string& path) {
    CapabilitySets sets;
    std::pair<const char*, std::vector<int>*> fields[] = {{"bounding", &sets.bounding},
                                                          {"effective", &sets.effective},
                                                          {"inheritable", &sets.inheritable},
                                                          {"permitted", &sets.permitted},
                                                          {"ambient", &sets.ambient}};
    for (auto& [key, target] : fields) {
        std::vector<std::string> names;
        TRY(read_strings(obj, path, key, names));
        for (size_t i = 0; i < names.size(); ++i) {
            int cap = TRY_CTX(caps::from_name(names[i]), index(join(path, key), i));
            target->push_back(cap);
        }
    }
    return sets;
}

Result<std::vector<Rlimit>> parse_rlimits(const json& arr, const std::string& path) {
    std::vector<Rlimit> out;
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string p = index(path, i);
        TRY(expect(arr[i], json::value_t::object, p, "an object"));
        Rlimit limit;
        TRY(read_string(arr[i], p, "type", limit.type));
        limit.resource = TRY_CTX(rlimit_from_name(limit.type), join(p, "type"));
        if (!arr[i].contains("soft") || !arr[i].contains("hard")) return fail(p + ": soft and hard are required");
        TRY(read_int(arr[i], p, "soft", limit.soft));
        TRY(read_int(arr[i], p, "hard", limit.hard));
        if (limit.soft > limit.hard)
            return fail(p + ": soft limit " + std::to_string(limit.soft) + " exceeds hard limit " +
                        std::to_string(limit.hard));
        for (const auto& earlier : out)
            if (earlier.resource == limit.resource) return fail(p + ": duplicate rlimit " + limit.type);
        out.push_back(limit);
    }
    return out;
}

Result<Process> parse_process_object(const json& obj, const std::string& path) {
    Process process;
    TRY(read_bool(obj, path, "terminal", process.terminal));
    if (const json* size = TRY(read_object(obj, path, "consoleSize"))) {
        ConsoleSize cs;
        TRY(read_int(*size, join(path, "consoleSize"), "height", cs.height));
        TRY(read_int(*size, join(path, "consoleSize"), "width", cs.width));
        process.console_size = cs;
    }
    TRY(read_strings(obj, path, "args", process.args));
    if (process.args.empty()) return fail(join(path, "args") + ": at least one argument is required");
    TRY(read_strings(obj, path, "env", process.env));
    for (size_t i = 0; i < process.env.size(); ++i)
        if (process.env[i].find('=') == std::string::npos)
            return fail(index(join(path, "env"), i) + ": '" + process.env[i] + "' is not NAME=VALUE");
    if (!obj.contains("cwd")) return fail(join(path, "cwd") + ": is required");
    TRY(read_string(obj, path, "cwd", process.cwd));
    if (process.cwd.empty() || process.cwd[0] != '/')
        return fail(join(path, "cwd") + ": '" + process.cwd + "' is not an absolute path");
    if (const json* user = TRY(read_object(obj, path, "user"))) {
        std::string p = join(path, "user");
        TRY(read_int(*user, p, "uid", process.user.uid));
        TRY(read_int(*user, p, "gid", process.user.gid));
        TRY(read_int(*user, p, "umask", process.user.umask));
        if (const json* gids = TRY(read_array(*user, p, "additionalGids"))) {
            for (size_t i = 0; i < gids->size(); ++i) {
                uint32_t gid = 0;
                TRY(read_integer((*gids)[i], index(join(p, "additionalGids"), i), gid));
                process.user.additional_gids.push_back(gid);
            }
        }
    }
    if (const json* capabilities = TRY(read_object(obj, path, "capabilities")))
        process.capabilities = TRY(parse_capabilities(*capabilities, join(path, "capabilities")));
    if (const json* rlimits = TRY(read_array(obj, path, "rlimits")))
        process.rlimits = TRY(parse_rlimits(*rlimits, join(path, "rlimits")));
    TRY(read_bool(obj, path, "noNewPrivileges", process.no_new_privileges));
    TRY(read_int(obj, path, "oomScoreAdj", process.oom_score_adj));
    if (process.oom_score_adj && (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000))
        return fail(join(path, "oomScoreAdj") + ": " + std::to_string(*process.oom_score_adj) +
                    " is outside -1000..1000");
    TRY(read_string(obj, path, "apparmorProfile", process.apparmor_profile));
    TRY(read_string(obj, path, "selinuxLabel", process.selinux_label));
    return process;
}

Result<std::vector<Hook>> parse_hooks(const json& arr, const std::string& path) {
    std::vector<Hook> hooks;
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string p = index(path, i);
        TRY(expect(arr[i], json::value_t::object, p, "an object"));
        Hook hook;
        TRY(read_string(arr[i], p, "path", hook.path));
        if (hook.path.empty() || hook.path[0] != '/')
            return fail(join(p, "path") + ": '" + hook.path + "' is not an absolute path");
        TRY(read_strings(arr[i], p, "args", hook.args));
        TRY(read_strings(arr[i], p, "env", hook.env));
        TRY(read_int(arr[i], p, "timeout", hook.timeout_seconds));
        if (hook.timeout_seconds && *hook.timeout_seconds <= 0)
            return fail(join(p, "timeout") + ": must be greater than zero");
        hooks.push_back(std::move(hook));
    }
    return hooks;
}

Result<std::vector<IdMapping>> parse_mappings(const json& arr, const std::string& path) {
    std::vector<IdMapping> out;
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string p = index(path, i);
        TRY(expect(arr[i], json::value_t::object, p, "an object"));
        IdMapping m;
        TRY(read_int(arr[i], p, "containerID", m.container_id));
        TRY(read_int(arr[i], p, "hostID", m.host_id));
        TRY(read_int(arr[i], p, "size", m.size));
        if (m.size == 0) return fail(join(p, "size") + ": must be greater than zero");
        out.push_back(m);
    }
    return out;
}

Result<std::vector<IoDeviceValue>> parse_io_devices(const json& obj, const std::string& path, const char* key,
                                                    const char* value_key) {
    std::vector<IoDeviceValue> out;
    const json* arr = TRY(read_array(obj, path, key));
    if (!arr) return out;
    for (size_t i = 0; i < arr->size(); ++i) {
        std::string p = index(join(path, key), i);
        IoDeviceValue d;
        TRY(read_int((*arr)[i], p, "major", d.major));
        TRY(read_int((*arr)[i], p, "minor", d.minor));
        TRY(read_int((*arr)[i], p, value_key, d.value));
        out.push_back(d);
    }
    return out;
}

Result<Resources> parse_resources(const json& obj, const std::string& path) {
    Resources r;
    if (const json* memory = TRY(read_object(obj, path, "memory"))) {
        std::string p = join(path, "memory");
        TRY(read_int(*memory, p, "limit", r.memory.limit));
        TRY(read_int(*memory, p, "reservation", r.memory.reservation));
        TRY(read_int(*memory, p, "swap", r.memory.swap));
        TRY(read_int(*memory, p, "swappiness", r.memory.swappiness));
        bool disable_oom = false;
        if (memory->contains("disableOOMKiller")) {
            TRY(read_bool(*memory, p, "disableOOMKiller", disable_oom));
            r.memory.disable_oom_killer = disable_oom;
        }
    }
    if (const json* cpu = TRY(read_object(obj, path, "cpu"))) {
        std::string p = join(path, "cpu");
        TRY(read_int(*cpu, p, "shares", r.cpu.shares));
        TRY(read_int(*cpu, p, "quota", r.cpu.quota));
        TRY(read_int(*cpu, p, "period", r.cpu.period));
        TRY(read_int(*cpu, p, "burst", r.cpu.burst));
        TRY(read_int(*cpu, p, "idle", r.cpu.idle));
        TRY(read_string(*cpu, p, "cpus", r.cpu.cpus));
        TRY(read_string(*cpu, p, "mems", r.cpu.mems));
    }
    if (const json* pids = TRY(read_object(obj, path, "pids"))) {
        int64_t limit = 0;
        if (!pids->contains("limit")) return fail(join(path, "pids.limit") + ": is required");
        TRY(read_int(*pids, join(path, "pids"), "limit", limit));
        r.pids_limit = limit;
    }
    if (const json* io = TRY(read_object(obj, path, "blockIO"))) {
        std::string p = join(path, "blockIO");
        TRY(read_int(*io, p, "weight", r.io.weight));
        r.io.weight_device = TRY(parse_io_devices(*io, p, "weightDevice", "weight"));
        r.io.throttle_read_bps = TRY(parse_io_devices(*io, p, "throttleReadBpsDevice", "rate"));
        r.io.throttle_write_bps = TRY(parse_io_devices(*io, p, "throttleWriteBpsDevice", "rate"));
        r.io.throttle_read_iops = TRY(parse_io_devices(*io, p, "throttleReadIOPSDevice", "rate"));
        r.io.throttle_write_iops = TRY(parse_io_devices(*io, p, "throttleWriteIOPSDevice", "rate"));
    }
    if (const json* huge = TRY(read_array(obj, path, "hugepageLimits"))) {
        for (size_t i = 0; i < huge->size(); ++i) {
            std::string p = index(join(path, "hugepageLimits"), i);
            HugepageLimit h;
            TRY(read_string((*huge)[i], p, "pageSize", h.page_size));
            TRY(read_int((*huge)[i], p, "limit", h.limit));
            r.hugepage_limits.push_back(h);
        }
    }
    TRY(read_string_map(obj, path, "unified", r.unified));
    // "devices" (device cgroup rules) is accepted and ignored: /dev holds only what the config lists.
    return r;
}

bool resources_empty(const Resources& r) {
    const auto& m = r.memory;
    const auto& c = r.cpu;
    return !m.limit && !m.reservation && !m.swap && !m.swappiness && !c.shares && !c.quota && !c.period &&
           !c.burst && !c.idle && c.cpus.empty() && c.mems.empty() && !r.pids_limit && !r.io.weight &&
           r.io.weight_device.empty() && r.io.throttle_read_bps.empty() && r.io.throttle_write_bps.empty() &&
           r.io.throttle_read_iops.empty() && r.io.throttle_write_iops.empty() && r.hugepage_limits.empty() &&
           r.unified.empty();
}

Result<SeccompSpec> parse_seccomp(const json& obj, const std::string& path) {
    SeccompSpec s;
    std::string action;
    TRY(read_string(obj, path, "defaultAction", action));
    if (action.empty()) return fail(join(path, "defaultAction") + ": is required");
    s.default_action = TRY_CTX(seccomp::parse_action(action), join(path, "defaultAction"));
    TRY(read_int(obj, path, "defaultErrnoRet", s.default_errno_ret));
    TRY(read_strings(obj, path, "architectures", s.architectures));
    for (size_t i = 0; i < s.architectures.size(); ++i)
        TRY_CTX(seccomp::check_architecture(s.architectures[i]), index(join(path, "architectures"), i));
    TRY(read_strings(obj, path, "flags", s.flags));
    for (size_t i = 0; i < s.flags.size(); ++i)
        TRY_CTX(seccomp::check_flag(s.flags[i]), index(join(path, "flags"), i));
    std::string listener;
    TRY(read_string(obj, path, "listenerPath", listener));
    if (!listener.empty()) return fail(join(path, "listenerPath") + ": seccomp notify listeners are not supported");
    if (const json* rules = TRY(read_array(obj, path, "syscalls"))) {
        for (size_t i = 0; i < rules->size(); ++i) {
            std::string p = index(join(path, "syscalls"), i);
            const json& r = (*rules)[i];
            TRY(expect(r, json::value_t::object, p, "an object"));
            SeccompRule rule;
            TRY(read_strings(r, p, "names", rule.names));
            if (rule.names.empty()) return fail(join(p, "names") + ": at least one syscall name is required");
            std::string rule_action;
            TRY(read_string(r, p, "action", rule_action));
            rule.action = TRY_CTX(seccomp::parse_action(rule_action), join(p, "action"));
            TRY(read_int(r, p, "errnoRet", rule.errno_ret));
            if (const json* args = TRY(read_array(r, p, "args"))) {
                for (size_t a = 0; a < args->size(); ++a) {
                    std::string ap = index(join(p, "args"), a);
                    SeccompArg arg;
                    TRY(read_int((*args)[a], ap, "index", arg.index));
                    if (arg.index > 5) return fail(join(ap, "index") + ": " + std::to_string(arg.index) + " is not 0..5");
                    TRY(read_int((*args)[a], ap, "value", arg.value));
                    TRY(read_int((*args)[a], ap, "valueTwo", arg.value_two));
                    std::string op;
                    TRY(read_string((*args)[a], ap, "op", op));
                    arg.op = TRY_CTX(seccomp::parse_operator(op), join(ap, "op"));
                    rule.args.push_back(arg);
                }
            }
            s.syscalls.push_back(std::move(rule));
        }
    }
    return s;
}

Result<std::vector<Device>> parse_devices(const json& arr, const std::string& path) {
    std::vector<Device> out;
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string p = index(path, i);
        TRY(expect(arr[i], json::value_t::object, p, "an object"));
        Device d;
        TRY(read_string(arr[i], p, "path", d.path));
        if (d.path.empty() || d.path[0] != '/') return fail(join(p, "path") + ": '" + d.path + "' is not an absolute path");
        std::string type;
        TRY(read_string(arr[i], p, "type", type));
        if (type != "c" && type != "b" && type != "u" && type != "p")
            return fail(join(p, "type") + ": unknown device type '" + type + "' (expected c, b, u or p)");
        d.type = type[0];
        TRY(read_int(arr[i], p, "major", d.major));
        TRY(read_int(arr[i], p, "minor", d.minor));
        if (d.type != 'p' && (!arr[i].contains("major") || !arr[i].contains("minor")))
            return fail(p + ": major and minor are required for device type '" + type + "'");
        TRY(read_int(arr[i], p, "fileMode", d.file_mode));
        TRY(read_int(arr[i], p, "uid", d.uid));
        TRY(read_int(arr[i], p, "gid", d.gid));
        out.push_back(d);
    }
    return out;
}

Result<void> parse_linux(const json& section, ContainerSpec& spec) {
    const std::string path = "linux";
    if (const json* nss = TRY(read_array(section, path, "namespaces"))) {
        for (size_t i = 0; i < nss->size(); ++i) {
            std::string p = index(join(path, "namespaces"), i);
            TRY(expect((*nss)[i], json::value_t::object, p, "an object"));
            std::string type;
            TRY(read_string((*nss)[i], p, "type", type));
            Namespace ns{TRY(namespace_from_name(type, join(p, "type"))), {}};
            TRY(read_string((*nss)[i], p, "path", ns.path));
            if (!ns.path.empty() && ns.path[0] != '/')
                return fail(join(p, "path") + ": '" + ns.path + "' is not an absolute path");
            if (spec.has_namespace(ns.type)) return fail(p + ": duplicate namespace type '" + type + "'");
            spec.namespaces.push_back(ns);
        }
    }
    if (const json* m = TRY(read_array(section, path, "uidMappings")))
        spec.uid_mappings = TRY(parse_mappings(*m, join(path, "uidMappings")));
    if (const json* m = TRY(read_array(section, path, "gidMappings")))
        spec.gid_mappings = TRY(parse_mappings(*m, join(path, "gidMappings")));
    if (const json* d = TRY(read_array(section, path, "devices")))
        spec.devices = TRY(parse_devices(*d, join(path, "devices")));
    TRY(read_string(section, path, "cgroupsPath", spec.cgroups_path));
    if (const json* r = TRY(read_object(section, path, "resources"))) {
        auto resources = TRY(parse_resources(*r, join(path, "resources")));
        if (!resources_empty(resources)) spec.resources = std::move(resources);
    }
    TRY(read_string_map(section, path, "sysctl", spec.sysctl));
    if (const json* s = TRY(read_object(section, path, "seccomp")))
        spec.seccomp = TRY(parse_seccomp(*s, join(path, "seccomp")));
    TRY(read_string(section, path, "rootfsPropagation", spec.rootfs_propagation));
    static const char* propagations[] = {"", "private", "rprivate", "shared", "rshared", "slave", "rslave",
                                         "unbindable", "runbindable"};
    if (std::find(std::begin(propagations), std::end(propagations), spec.rootfs_propagation) == std::end(propagations))
        return fail("linux.rootfsPropagation: unknown propagation '" + spec.rootfs_propagation + "'");
    TRY(read_strings(section, path, "maskedPaths", spec.masked_paths));
    TRY(read_strings(section, path, "readonlyPaths", spec.readonly_paths));
    TRY(read_string(section, path, "mountLabel", spec.mount_label));
    return {};
}

Result<void> validate(const ContainerSpec& spec) {
    const Namespace* user = spec.find_namespace(NamespaceType::User);
    bool new_user_ns = user && user->path.empty();
    if (new_user_ns && (spec.uid_mappings.empty() || spec.gid_mappings.empty()))
        return fail("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
    if (!new_user_ns && (!spec.uid_mappings.empty() || !spec.gid_mappings.empty()))
        return fail("linux.uidMappings: mappings are only valid with a new user namespace");
    const Namespace* uts = spec.find_namespace(NamespaceType::Uts);
    if (!spec.hostname.empty() && !(uts && uts->path.empty()))
        return fail("hostname: setting a hostname needs a new uts namespace");
    if (!spec.domainname.empty() && !(uts && uts->path.empty()))
        return fail("domainname: setting a domainname needs a new uts namespace");
    for (const auto& [key, value] : spec.sysctl) {
        (void)value;
        if (key.empty() || key.find("..") != std::string::npos || key.find('/') == 0)
            return fail("linux.sysctl." + key + ": invalid sysctl name");
    }
    return {};
}

nlohmann::ordered_json cap_names(const std::vector<int>& caps) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (int c : caps) out.push_back(caps::to_name(c));
    return out;
}

}  // namespace

Result<int> rlimit_from_name(const std::string& name) {
    static const std::pair<const char*, int> names[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},     {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME}};
    for (auto& [n, value] : names)
        if (name == n) return value;
    return fail("unknown rlimit type '" + name + "'");
}

Result<ContainerSpec> parse_config(const std::string& json_text, const std::string& bundle) {
    json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        // Re-parse with exceptions only to get nlohmann's located message ("at line 3, column 5").
        try {
            auto reparsed = json::parse(json_text);
            (void)reparsed;
        } catch (const json::parse_error& e) {
            return fail(std::string("invalid JSON: ") + e.what());
        }
        return fail("invalid JSON");
    }
    if (!doc.is_object()) return fail(std::string("expected a JSON object at the top level, got ") + doc.type_name());

    ContainerSpec spec;
    if (!doc.contains("ociVersion")) return fail("ociVersion: is required");
    TRY(read_string(doc, "", "ociVersion", spec.oci_version));
    if (spec.oci_version.rfind("1.", 0) != 0)
        return fail("ociVersion: unsupported version '" + spec.oci_version + "' (expected 1.x)");

    const json* root = TRY(read_object(doc, "", "root"));
    if (!root) return fail("root: is required");
    TRY(read_string(*root, "root", "path", spec.root_path));
    if (spec.root_path.empty()) return fail("root.path: is required");
    if (spec.root_path[0] != '/') spec.root_path = bundle + "/" + spec.root_path;
    TRY(read_bool(*root, "root", "readonly", spec.root_readonly));

    const json* process = TRY(read_object(doc, "", "process"));
    if (!process) return fail("process: is required");
    spec.process = TRY(parse_process_object(*process, "process"));

    TRY(read_string(doc, "", "hostname", spec.hostname));
    TRY(read_string(doc, "", "domainname", spec.domainname));

    if (const json* mounts = TRY(read_array(doc, "", "mounts"))) {
        for (size_t i = 0; i < mounts->size(); ++i) {
            std::string p = index("mounts", i);
            TRY(expect((*mounts)[i], json::value_t::object, p, "an object"));
            Mount m;
            TRY(read_string((*mounts)[i], p, "destination", m.destination));
            if (m.destination.empty() || m.destination[0] != '/')
                return fail(join(p, "destination") + ": '" + m.destination + "' is not an absolute path");
            TRY(read_string((*mounts)[i], p, "type", m.type));
            TRY(read_string((*mounts)[i], p, "source", m.source));
            TRY(read_strings((*mounts)[i], p, "options", m.options));
            spec.mounts.push_back(std::move(m));
        }
    }

    if (const json* hooks = TRY(read_object(doc, "", "hooks"))) {
        std::pair<const char*, std::vector<Hook>*> kinds[] = {{"prestart", &spec.hooks.prestart},
                                                             {"createRuntime", &spec.hooks.create_runtime},
                                                             {"createContainer", &spec.hooks.create_container},
                                                             {"startContainer", &spec.hooks.start_container},
                                                             {"poststart", &spec.hooks.poststart},
                                                             {"poststop", &spec.hooks.poststop}};
        for (auto& [key, target] : kinds)
            if (const json* arr = TRY(read_array(*hooks, "hooks", key))) *target = TRY(parse_hooks(*arr, join("hooks", key)));
    }
    TRY(read_string_map(doc, "", "annotations", spec.annotations));

    if (const json* linux_section = TRY(read_object(doc, "", "linux"))) TRY(parse_linux(*linux_section, spec));
    TRY(validate(spec));
    return spec;
}

Result<ContainerSpec> load_bundle_config(const std::string& bundle) {
    std::string path = bundle + "/config.json";
    auto text = TRY(sys::read_file(path));
    return TRY_CTX(parse_config(text, bundle), path);
}

Result<Process> parse_process(const std::string& json_text) {
    json doc = json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) return fail("invalid JSON in process file");
    if (!doc.is_object()) return fail("process: expected an object");
    return parse_process_object(doc, "process");
}

nlohmann::ordered_json process_to_json(const Process& p) {
    nlohmann::ordered_json j;
    j["terminal"] = p.terminal;
    if (p.console_size) j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
    j["user"] = {{"uid", p.user.uid}, {"gid", p.user.gid}};
    if (p.user.umask) j["user"]["umask"] = *p.user.umask;
    if (!p.user.additional_gids.empty()) j["user"]["additionalGids"] = p.user.additional_gids;
    j["args"] = p.args;
    j["env"] = p.env;
    j["cwd"] = p.cwd;
    if (p.capabilities) {
        j["capabilities"] = {{"bounding", cap_names(p.capabilities->bounding)},
                             {"effective", cap_names(p.capabilities->effective)},
                             {"inheritable", cap_names(p.capabilities->inheritable)},
                             {"permitted", cap_names(p.capabilities->permitted)},
                             {"ambient", cap_names(p.capabilities->ambient)}};
    }
    if (!p.rlimits.empty()) {
        j["rlimits"] = nlohmann::ordered_json::array();
        for (const auto& r : p.rlimits) j["rlimits"].push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    }
    j["noNewPrivileges"] = p.no_new_privileges;
    if (p.oom_score_adj) j["oomScoreAdj"] = *p.oom_score_adj;
    return j;
}

nlohmann::ordered_json spec_to_json(const ContainerSpec& spec) {
    nlohmann::ordered_json j;
    j["ociVersion"] = spec.oci_version;
    j["process"] = process_to_json(spec.process);
    j["root"] = {{"path", spec.root_path}, {"readonly", spec.root_readonly}};
    if (!spec.hostname.empty()) j["hostname"] = spec.hostname;
    if (!spec.domainname.empty()) j["domainname"] = spec.domainname;
    j["mounts"] = nlohmann::ordered_json::array();
    for (const auto& m : spec.mounts) {
        nlohmann::ordered_json mj{{"destination", m.destination}, {"type", m.type}, {"source", m.source}};
        if (!m.options.empty()) mj["options"] = m.options;
        j["mounts"].push_back(mj);
    }
    auto& linux_section = j["linux"];
    if (!spec.uid_mappings.empty() || !spec.gid_mappings.empty()) {
        auto maps = [](const std::vector<IdMapping>& v) {
            nlohmann::ordered_json a = nlohmann::ordered_json::array();
            for (const auto& m : v) a.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
            return a;
        };
        linux_section["uidMappings"] = maps(spec.uid_mappings);
        linux_section["gidMappings"] = maps(spec.gid_mappings);
    }
    if (!spec.sysctl.empty()) linux_section["sysctl"] = spec.sysctl;
    if (!spec.cgroups_path.empty()) linux_section["cgroupsPath"] = spec.cgroups_path;
    linux_section["namespaces"] = nlohmann::ordered_json::array();
    for (const auto& ns : spec.namespaces) {
        nlohmann::ordered_json nj{{"type", namespace_type_name(ns.type)}};
        if (!ns.path.empty()) nj["path"] = ns.path;
        linux_section["namespaces"].push_back(nj);
    }
    if (spec.seccomp) {
        const auto& s = *spec.seccomp;
        nlohmann::ordered_json sj;
        sj["defaultAction"] = seccomp::action_name(s.default_action);
        if (s.default_errno_ret) sj["defaultErrnoRet"] = *s.default_errno_ret;
        sj["architectures"] = s.architectures;
        if (!s.flags.empty()) sj["flags"] = s.flags;
        sj["syscalls"] = nlohmann::ordered_json::array();
        for (const auto& r : s.syscalls) {
            nlohmann::ordered_json rj{{"names", r.names}, {"action", seccomp::action_name(r.action)}};
            if (r.errno_ret) rj["errnoRet"] = *r.errno_ret;
            if (!r.args.empty()) {
                rj["args"] = nlohmann::ordered_json::array();
                for (const auto& a : r.args)
                    rj["args"].push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two},
                                          {"op", seccomp::operator_name(a.op)}});
            }
            sj["syscalls"].push_back(rj);
        }
        linux_section["seccomp"] = sj;
    }
    if (!spec.masked_paths.empty()) linux_section["maskedPaths"] = spec.masked_paths;
    if (!spec.readonly_paths.empty()) linux_section["readonlyPaths"] = spec.readonly_paths;
    if (!spec.rootfs_propagation.empty()) linux_section["rootfsPropagation"] = spec.rootfs_propagation;
    return j;
}

}  // namespace berth::runtime
