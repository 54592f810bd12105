#include "berth/runtime/cgroups.hpp"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "berth/sys.hpp"

namespace berth::runtime::cgroups {

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kField = "linux.resources.";
const std::string kUnifiedField = kField + "unified";
// v1 hierarchies every container cgroup gets when they are mounted, limits or not.
const std::vector<std::string> kV1Standard = {"freezer", "pids", "memory", "cpu", "cpuacct", "cpuset", "devices", "blkio"};

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// Whitespace-separated words. Not an istringstream: that would bring the C++ locale's
// initialisation into every program that looks at cgroups, PID 1 included.
std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    for (size_t start = text.find_first_not_of(kSpace); start != std::string_view::npos;) {
        size_t end = std::min(text.find_first_of(kSpace, start), text.size());
        out.emplace_back(text.substr(start, end - start));
        start = text.find_first_not_of(kSpace, end);
    }
    return out;
}

std::string trim(std::string text) {
    text.erase(0, text.find_first_not_of(" \t\n"));
    text.erase(text.find_last_not_of(" \t\n") + 1);
    return text;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// Mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && std::isdigit(text[i + 1]) && std::isdigit(text[i + 2]) &&
            std::isdigit(text[i + 3])) {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The words in a v1 mount's super options that are flags, not controllers.
bool is_v1_controller(const std::string& option) {
    static const std::set<std::string> flags = {"rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode",
                                                "favordynmods"};
    if (starts_with(option, "name=")) return true;  // named hierarchy, kept addressable
    return !option.empty() && option.find('=') == std::string::npos && !flags.count(option);
}

// v1 and v2 call the block I/O controller differently; the rest share names.
std::string v1_name(const std::string& v2_controller) { return v2_controller == "io" ? "blkio" : v2_controller; }
std::string v2_name(const std::string& v1_controller) { return v1_controller == "blkio" ? "io" : v1_controller; }

// ---- planning helpers -------------------------------------------------------------------

std::string field_of(const std::string& name) { return kField + name; }

tl::unexpected<Error> field_error(const std::string& name, const std::string& message) {
    return fail(field_of(name) + ": " + message);
}

// A memory-style limit: absent or 0 means "not set", -1 unlimited, other negatives invalid.
Result<std::optional<int64_t>> byte_limit(const std::optional<int64_t>& value, const std::string& name) {
    if (!value || *value == 0) return std::nullopt;
    if (*value < -1) return field_error(name, "invalid value " + std::to_string(*value) + " (use -1 for unlimited)");
    return value;
}

// OCI swap is memory+swap; both versions need it to cover the memory limit.
Result<void> check_swap(const std::optional<int64_t>& swap, const std::optional<int64_t>& limit) {
    if (!swap || *swap == -1) return {};
    if (!limit || *limit == -1)
        return field_error("memory.swap", "a swap limit (" + std::to_string(*swap) + ") needs a memory limit");
    if (*swap < *limit)
        return field_error("memory.swap", "swap (" + std::to_string(*swap) + ") is smaller than the memory limit (" +
                                              std::to_string(*limit) + ")");
    return {};
}

Result<void> check_page_size(const std::string& size) {
    bool ok = !size.empty() && std::all_of(size.begin(), size.end(), [](unsigned char c) { return std::isalnum(c); });
    if (!ok) return field_error("hugepageLimits", "invalid page size '" + size + "'");
    return {};
}

std::string device(const IoDeviceValue& d) { return std::to_string(d.major) + ":" + std::to_string(d.minor); }

struct Throttle {
    const std::vector<IoDeviceValue>& devices;
    const char* field;     // OCI name
    const char* v2_key;    // io.max key
    const char* v1_file;
};

std::vector<Throttle> throttles(const IoResources& io) {
    return {{io.throttle_read_bps, "blockIO.throttleReadBpsDevice", "rbps", "blkio.throttle.read_bps_device"},
            {io.throttle_write_bps, "blockIO.throttleWriteBpsDevice", "wbps", "blkio.throttle.write_bps_device"},
            {io.throttle_read_iops, "blockIO.throttleReadIOPSDevice", "riops", "blkio.throttle.read_iops_device"},
            {io.throttle_write_iops, "blockIO.throttleWriteIOPSDevice", "wiops", "blkio.throttle.write_iops_device"}};
}

// ---- the host's directories for one cgroup ------------------------------------------------

std::string v2_dir(const HostCgroups& host, const std::string& relative) {
    return host.unified_root.empty() ? "" : host.unified_root + relative;
}

// One directory per mounted v1 hierarchy (co-mounted controllers share one), freezer and
// pids first: processes() reads the first that exists.
std::vector<std::string> v1_dirs(const HostCgroups& host, const std::string& relative) {
    std::vector<std::string> roots;
    auto add = [&](const std::string& root) {
        if (std::find(roots.begin(), roots.end(), root) == roots.end()) roots.push_back(root);
    };
    for (const auto& controller : kV1Standard)
        if (auto it = host.v1_roots.find(controller); it != host.v1_roots.end()) add(it->second);
    for (const auto& [controller, root] : host.v1_roots)
        if (!starts_with(controller, "name=")) add(root);
    for (auto& root : roots) root += relative;
    return roots;
}

std::vector<std::string> all_dirs(const HostCgroups& host, const std::string& relative) {
    auto dirs = v1_dirs(host, relative);
    if (!host.unified_root.empty()) dirs.insert(dirs.begin(), v2_dir(host, relative));
    return dirs;
}

bool has_v2_controller(const HostCgroups& host, const std::string& controller) {
    if (host.unified_root.empty()) return false;
    if (controller == "cgroup") return true;  // core files exist in every non-root cgroup
    const auto& list = host.unified_controllers;
    return std::find(list.begin(), list.end(), controller) != list.end();
}

std::string unavailable(const HostCgroups& host, const FileWrite& write, const std::string& v2_controller) {
    std::string v1 = v1_name(v2_controller);
    std::string why;
    if (host.layout == Layout::None)
        why = "no cgroup filesystem is mounted";
    else if (host.unified_root.empty())
        why = "no cgroup v1 " + v1 + " hierarchy is mounted and there is no cgroup2";
    else if (host.layout == Layout::Unified)
        why = "cgroup2 at " + host.unified_root + " has no " + v2_controller + " controller";
    else
        why = "cgroup2 at " + host.unified_root + " has no " + v2_controller + " controller and no cgroup v1 " + v1 +
              " hierarchy is mounted";
    return write.field + ": the " + v2_controller + " controller is not available (" + why + ")";
}

// v1 settings plan_v2 drops (runc ignores them on cgroup2 too).
bool no_v2_equivalent(const FileWrite& write) {
    return write.field == field_of("memory.swappiness") || write.field == field_of("memory.disableOOMKiller");
}

// Which writes go where: v1 when the controller's hierarchy is mounted, else cgroup2.
struct Placement {
    std::vector<FileWrite> v2, v1;
    std::vector<std::string> warnings;
};

Result<Placement> place(const HostCgroups& host, const Resources& resources) {
    Placement placement;
    auto v2_writes = TRY(plan_v2(resources));
    Resources without_unified = resources;
    without_unified.unified.clear();
    auto v1_writes = TRY(plan_v1(without_unified));

    std::set<std::string> via_v1;
    for (auto& write : v1_writes) {
        if (host.v1_roots.count(write.controller)) {
            via_v1.insert(write.controller);
            placement.v1.push_back(std::move(write));
        } else if (!host.unified_root.empty() && no_v2_equivalent(write)) {
            placement.warnings.push_back(write.field + " has no cgroup v2 equivalent; ignored");
        } else if (!has_v2_controller(host, v2_name(write.controller))) {
            return fail(unavailable(host, write, v2_name(write.controller)));
        }
    }
    for (auto& write : v2_writes) {
        bool from_unified = starts_with(write.field, kUnifiedField);
        if (!from_unified && via_v1.count(v1_name(write.controller))) continue;
        if (has_v2_controller(host, write.controller)) {
            placement.v2.push_back(std::move(write));
            continue;
        }
        if (from_unified && host.unified_root.empty()) return fail(kUnifiedField + " needs cgroup v2");
        return fail(unavailable(host, write, write.controller));
    }
    return placement;
}

// Creates <root><relative>, and makes each ancestor delegate `controllers` to its children.
Result<void> make_v2_dir(const std::string& root, const std::string& relative, const std::set<std::string>& controllers) {
    std::string toggles;
    for (const auto& controller : controllers) toggles += (toggles.empty() ? "+" : " +") + controller;
    std::string dir = root;
    for (const auto& part : split(relative.substr(1), '/')) {
        if (!toggles.empty())
            TRY_CTX(sys::write_existing(dir + "/cgroup.subtree_control", toggles),
                    "enable cgroup controllers '" + toggles + "' for children of '" + dir + "'");
        dir += "/" + part;
        TRY(sys::mkdir_p(dir));
    }
    return {};
}

// Creates <root><relative>; a new v1 cpuset starts with no cpus or mems, which makes adding a
// process fail, so each level inherits its parent's.
Result<void> make_v1_dir(const std::string& root, const std::string& relative, bool is_cpuset) {
    std::string dir = root;
    for (const auto& part : split(relative.substr(1), '/')) {
        std::string parent = dir;
        dir += "/" + part;
        TRY(sys::mkdir_p(dir));
        if (!is_cpuset) continue;
        for (const char* file : {"/cpuset.cpus", "/cpuset.mems"}) {
            if (!trim(TRY(sys::read_file(dir + file))).empty()) continue;
            auto inherited = trim(TRY(sys::read_file(parent + file)));
            TRY(sys::write_existing(dir + file, inherited));
        }
    }
    return {};
}

Result<void> apply_write(const std::string& dir, const FileWrite& write) {
    auto written = sys::write_existing(dir + "/" + write.file, write.value);
    if (!written) return fail(std::move(written).error().wrap(write.field));
    return {};
}

// Polls `done` every few milliseconds until it holds or `timeout` passes.
Result<bool> wait_for(std::chrono::milliseconds timeout, const std::function<Result<bool>()>& done) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = 1ms;
    for (;;) {
        if (TRY(done())) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

// The directory and all cgroups below it, deepest first.
std::vector<std::string> tree_bottom_up(const std::string& dir) {
    std::vector<std::string> dirs{dir};
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec)) dirs.push_back(it->path().string());
    std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return dirs;
}

Result<void> remove_dir(const std::string& dir) {
    for (int attempt = 0;; ++attempt) {
        auto removed = sys::rmdir(dir);
        if (removed || removed.error().errnum == ENOENT) return {};
        // The kernel may still be tearing down processes that just died.
        if (removed.error().errnum != EBUSY || attempt == 10) return removed;
        std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
    }
}

Result<void> read_pids(const std::string& dir, std::vector<pid_t>& pids) {
    auto text = sys::read_file(dir + "/cgroup.procs");
    // A cgroup removed meanwhile (its last process gone, a concurrent delete) holds nothing.
    if (!text && text.error().errnum == ENOENT) return {};
    if (!text) return fail(text.error());
    for (const auto& word : words(*text)) {
        pid_t pid = 0;
        std::from_chars(word.data(), word.data() + word.size(), pid);
        if (pid > 0) pids.push_back(pid);
    }
    return {};
}

}  // namespace

// ---- detection ----------------------------------------------------------------------------

HostCgroups detect_from_mountinfo(const std::string& mountinfo, const std::string& unified_controllers_text) {
    HostCgroups host;
    bool unified_is_whole = false;  // the chosen cgroup2 mount shows the hierarchy's root
    bool has_v1_controller = false;
    for (const auto& line : split(mountinfo, '\n')) {
        // "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
        auto separator = line.find(" - ");
        if (separator == std::string::npos) continue;
        auto before = words(line.substr(0, separator));
        auto after = words(line.substr(separator + 3));
        if (before.size() < 5 || after.size() < 3) continue;
        const std::string& fstype = after[0];
        std::string mount_point = unescape_octal(before[4]);
        bool whole = before[3] == "/";
        if (fstype == "cgroup2") {
            // The first mount wins, unless it was a bind of a subtree and a whole one follows.
            if (host.unified_root.empty() || (whole && !unified_is_whole)) {
                host.unified_root = mount_point;
                unified_is_whole = whole;
            }
        } else if (fstype == "cgroup") {
            for (const auto& option : split(after.back(), ',')) {
                if (!is_v1_controller(option)) continue;
                host.v1_roots.emplace(option, mount_point);
                if (!starts_with(option, "name=")) has_v1_controller = true;
            }
        }
    }
    if (!host.unified_root.empty()) host.unified_controllers = words(unified_controllers_text);
    if (!host.unified_root.empty())
        host.layout = has_v1_controller ? Layout::Hybrid : Layout::Unified;
    else
        host.layout = has_v1_controller ? Layout::Legacy : Layout::None;
    return host;
}

Result<HostCgroups> detect_host() {
    auto mountinfo = TRY_CTX(sys::read_file("/proc/self/mountinfo"), "detect cgroups");
    auto host = detect_from_mountinfo(mountinfo, "");
    if (!host.unified_root.empty())
        host.unified_controllers =
            words(TRY_CTX(sys::read_file(host.unified_root + "/cgroup.controllers"), "detect cgroups"));
    return host;
}

// ---- planning -----------------------------------------------------------------------------

Result<std::vector<FileWrite>> plan_v2(const Resources& r) {
    std::vector<FileWrite> writes;
    auto add = [&](std::string controller, std::string file, std::string value, const std::string& field) {
        writes.push_back({std::move(controller), std::move(file), std::move(value), field_of(field)});
    };
    auto max_or = [](int64_t value) { return value == -1 ? std::string("max") : std::to_string(value); };

    auto limit = TRY(byte_limit(r.memory.limit, "memory.limit"));
    auto reservation = TRY(byte_limit(r.memory.reservation, "memory.reservation"));
    auto swap = TRY(byte_limit(r.memory.swap, "memory.swap"));
    TRY(check_swap(swap, limit));
    if (limit) add("memory", "memory.max", max_or(*limit), "memory.limit");
    if (reservation) add("memory", "memory.low", max_or(*reservation), "memory.reservation");
    if (swap) add("memory", "memory.swap.max", *swap == -1 ? "max" : std::to_string(*swap - *limit), "memory.swap");
    // As runc: an unlimited memory limit without a swap setting lifts the swap limit too.
    else if (limit == -1) add("memory", "memory.swap.max", "max", "memory.limit");
    // swappiness and disableOOMKiller have no cgroup v2 files.

    const auto& cpu = r.cpu;
    if (cpu.shares && *cpu.shares != 0) {
        uint64_t shares = *cpu.shares;
        // The conversion runc and crun use: shares 2..262144 onto weight 1..10000.
        uint64_t weight = shares <= 2 ? 1 : shares >= 262144 ? 10000 : 1 + ((shares - 2) * 9999) / 262142;
        add("cpu", "cpu.weight", std::to_string(weight), "cpu.shares");
    }
    if (cpu.quota && *cpu.quota < -1)
        return field_error("cpu.quota", "invalid value " + std::to_string(*cpu.quota) + " (use -1 for unlimited)");
    bool has_quota = cpu.quota && *cpu.quota != 0;
    bool has_period = cpu.period && *cpu.period != 0;
    if (has_quota || has_period) {
        std::string quota = has_quota && *cpu.quota > 0 ? std::to_string(*cpu.quota) : "max";
        std::string period = std::to_string(has_period ? *cpu.period : 100000);
        add("cpu", "cpu.max", quota + " " + period, has_quota ? "cpu.quota" : "cpu.period");
    }
    if (cpu.burst) add("cpu", "cpu.max.burst", std::to_string(*cpu.burst), "cpu.burst");
    if (cpu.idle) add("cpu", "cpu.idle", std::to_string(*cpu.idle), "cpu.idle");
    if (!cpu.cpus.empty()) add("cpuset", "cpuset.cpus", cpu.cpus, "cpu.cpus");
    if (!cpu.mems.empty()) add("cpuset", "cpuset.mems", cpu.mems, "cpu.mems");

    if (r.pids_limit) add("pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max", "pids.limit");

    // OCI weights are blkio's 10..1000; io.weight is 1..10000 (runc's conversion).
    auto io_weight = [](uint64_t w) { return w <= 10 ? 1 : w >= 1000 ? 10000 : 1 + ((w - 10) * 9999) / 990; };
    if (r.io.weight && *r.io.weight != 0)
        add("io", "io.weight", "default " + std::to_string(io_weight(*r.io.weight)), "blockIO.weight");
    for (const auto& d : r.io.weight_device)
        add("io", "io.weight", device(d) + " " + std::to_string(io_weight(d.value)), "blockIO.weightDevice");
    for (const auto& throttle : throttles(r.io))
        for (const auto& d : throttle.devices)
            add("io", "io.max", device(d) + " " + throttle.v2_key + "=" + std::to_string(d.value), throttle.field);

    for (const auto& page : r.hugepage_limits) {
        TRY(check_page_size(page.page_size));
        add("hugetlb", "hugetlb." + page.page_size + ".max", std::to_string(page.limit), "hugepageLimits");
    }

    // Written last, so a raw file overrides what the fields above set.
    for (const auto& [file, value] : r.unified) {
        std::string field = "unified[\"" + file + "\"]";
        auto dot = file.find('.');
        bool well_formed = dot != std::string::npos && dot > 0 && dot + 1 < file.size() &&
                           file.find('/') == std::string::npos && file.find("..") == std::string::npos;
        if (!well_formed) return field_error(field, "not a cgroup file name (want 'controller.file')");
        add(file.substr(0, dot), file, value, field);
    }
    return writes;
}

Result<std::vector<FileWrite>> plan_v1(const Resources& r) {
    if (!r.unified.empty()) return fail(kUnifiedField + " needs cgroup v2");
    std::vector<FileWrite> writes;
    auto add = [&](std::string controller, std::string file, std::string value, const std::string& field) {
        writes.push_back({std::move(controller), std::move(file), std::move(value), field_of(field)});
    };

    auto limit = TRY(byte_limit(r.memory.limit, "memory.limit"));
    auto reservation = TRY(byte_limit(r.memory.reservation, "memory.reservation"));
    auto swap = TRY(byte_limit(r.memory.swap, "memory.swap"));
    TRY(check_swap(swap, limit));
    // Limit before memory+swap: the kernel wants memsw >= limit at every step.
    if (limit) add("memory", "memory.limit_in_bytes", std::to_string(*limit), "memory.limit");
    if (reservation) add("memory", "memory.soft_limit_in_bytes", std::to_string(*reservation), "memory.reservation");
    if (swap) add("memory", "memory.memsw.limit_in_bytes", std::to_string(*swap), "memory.swap");
    if (r.memory.swappiness) {
        if (*r.memory.swappiness > 100)
            return field_error("memory.swappiness", "invalid value " + std::to_string(*r.memory.swappiness) + " (0-100)");
        add("memory", "memory.swappiness", std::to_string(*r.memory.swappiness), "memory.swappiness");
    }
    if (r.memory.disable_oom_killer.value_or(false)) add("memory", "memory.oom_control", "1", "memory.disableOOMKiller");

    const auto& cpu = r.cpu;
    if (cpu.shares && *cpu.shares != 0) add("cpu", "cpu.shares", std::to_string(*cpu.shares), "cpu.shares");
    if (cpu.quota && *cpu.quota < -1)
        return field_error("cpu.quota", "invalid value " + std::to_string(*cpu.quota) + " (use -1 for unlimited)");
    // Period first: the kernel checks the quota against the period in force.
    if (cpu.period && *cpu.period != 0) add("cpu", "cpu.cfs_period_us", std::to_string(*cpu.period), "cpu.period");
    if (cpu.quota && *cpu.quota != 0) add("cpu", "cpu.cfs_quota_us", std::to_string(*cpu.quota), "cpu.quota");
    if (cpu.burst) add("cpu", "cpu.cfs_burst_us", std::to_string(*cpu.burst), "cpu.burst");
    if (cpu.idle) add("cpu", "cpu.idle", std::to_string(*cpu.idle), "cpu.idle");
    if (!cpu.cpus.empty()) add("cpuset", "cpuset.cpus", cpu.cpus, "cpu.cpus");
    if (!cpu.mems.empty()) add("cpuset", "cpuset.mems", cpu.mems, "cpu.mems");

    if (r.pids_limit) add("pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max", "pids.limit");

    if (r.io.weight && *r.io.weight != 0) add("blkio", "blkio.weight", std::to_string(*r.io.weight), "blockIO.weight");
    for (const auto& d : r.io.weight_device)
        add("blkio", "blkio.weight_device", device(d) + " " + std::to_string(d.value), "blockIO.weightDevice");
    for (const auto& throttle : throttles(r.io))
        for (const auto& d : throttle.devices)
            add("blkio", throttle.v1_file, device(d) + " " + std::to_string(d.value), throttle.field);

    for (const auto& page : r.hugepage_limits) {
        TRY(check_page_size(page.page_size));
        add("hugetlb", "hugetlb." + page.page_size + ".limit_in_bytes", std::to_string(page.limit), "hugepageLimits");
    }
    return writes;
}

Result<std::string> resolve_path(const std::string& cgroups_path, const std::string& container_id) {
    std::string requested = cgroups_path.empty() ? "/berth/" + container_id
                            : cgroups_path[0] == '/' ? cgroups_path
                                                     : "/berth/" + cgroups_path;
    std::string path;
    for (const auto& part : split(requested, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") return fail("cgroupsPath '" + cgroups_path + "': '..' is not allowed");
        path += "/" + part;
    }
    if (path.empty() || (cgroups_path.empty() && container_id.empty()))
        return fail("cgroupsPath '" + cgroups_path + "': a container cannot use the root cgroup");
    return path;
}

// ---- one container's cgroup ---------------------------------------------------------------

Cgroup Cgroup::open(const HostCgroups& host, const std::string& relative_path) {
    Cgroup cgroup;
    cgroup.host_ = host;
    cgroup.relative_path_ = relative_path;
    return cgroup;
}

Result<Cgroup> Cgroup::create(const HostCgroups& host, const std::string& relative_path,
                              const std::optional<Resources>& resources, V1Hierarchies v1_hierarchies) {
    Cgroup cgroup = open(host, relative_path);
    auto parts = split(relative_path, '/');
    if (relative_path.size() < 2 || relative_path[0] != '/' || std::count(parts.begin(), parts.end(), ".."))
        return fail("cgroup path '" + relative_path + "' must be absolute, not the root, without '..'");
    auto placement = TRY(place(host, resources.value_or(Resources{})));
    cgroup.warnings_ = std::move(placement.warnings);

    if (host.layout == Layout::None) {
        cgroup.warnings_.push_back("no cgroup filesystem is mounted; running without cgroups");
        return cgroup;
    }
    if (host.layout == Layout::Unified && host.unified_controllers.empty() &&
        std::all_of(placement.v2.begin(), placement.v2.end(), [](const auto& w) { return w.controller == "cgroup"; }))
        cgroup.warnings_.push_back("cgroup2 has no controllers; running without resource limits");

    std::vector<std::string> created;  // leaves this call made, removed again if a later step fails
    auto apply = [&]() -> Result<void> {
        auto note_new = [&](const std::string& dir) {
            if (!sys::exists(dir)) created.push_back(dir);
        };
        if (!host.unified_root.empty()) {
            // Only controllers the writes use are delegated; the cgroup itself works without any.
            std::set<std::string> controllers;
            for (const auto& write : placement.v2)
                if (write.controller != "cgroup") controllers.insert(write.controller);
            std::string dir = v2_dir(host, relative_path);
            note_new(dir);
            TRY_CTX(make_v2_dir(host.unified_root, relative_path, controllers), "create cgroup '" + relative_path + "'");
            for (const auto& write : placement.v2) TRY(apply_write(dir, write));
        }
        std::set<std::string> hierarchies;
        bool every_standard = v1_hierarchies == V1Hierarchies::All;
        for (const auto& controller : kV1Standard) {
            if (!host.v1_roots.count(controller)) continue;
            // Without cgroup2, one hierarchy is still needed to find the processes.
            if (every_standard || (host.unified_root.empty() && hierarchies.empty()))
                hierarchies.insert(host.v1_roots.at(controller));
        }
        for (const auto& write : placement.v1) hierarchies.insert(host.v1_roots.at(write.controller));
        for (const auto& root : hierarchies) {
            bool is_cpuset = host.v1_roots.count("cpuset") && host.v1_roots.at("cpuset") == root;
            note_new(root + relative_path);
            TRY_CTX(make_v1_dir(root, relative_path, is_cpuset), "create cgroup '" + relative_path + "'");
        }
        for (const auto& write : placement.v1) TRY(apply_write(host.v1_roots.at(write.controller) + relative_path, write));
        return {};
    };
    if (auto applied = apply(); !applied) {
        for (const auto& dir : created) (void)sys::rmdir(dir);  // best effort; the original error matters
        return fail(std::move(applied).error());
    }
    return cgroup;
}

Result<void> Cgroup::add_process(pid_t pid) const {
    if (host_.layout == Layout::None) return {};  // created without cgroups
    bool added = false;
    for (const auto& dir : all_dirs(host_, relative_path_)) {
        if (!sys::exists(dir)) continue;
        TRY_CTX(sys::write_existing(dir + "/cgroup.procs", std::to_string(pid)),
                "add process " + std::to_string(pid) + " to cgroup");
        added = true;
    }
    if (!added) return fail("add process " + std::to_string(pid) + ": cgroup '" + relative_path_ + "' does not exist");
    return {};
}

Result<std::vector<pid_t>> Cgroup::processes() const {
    std::vector<pid_t> pids;
    for (const auto& dir : all_dirs(host_, relative_path_)) {
        if (!sys::exists(dir)) continue;
        // Nested cgroups (a container managing its own) count as the container's too.
        for (const auto& cgroup : tree_bottom_up(dir)) TRY(read_pids(cgroup, pids));
        break;
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

namespace {

enum class Freezer { V2, V1, None };

// One freezer per cgroup, the same for freeze, thaw and frozen: cgroup2's when it has one.
std::pair<Freezer, std::string> freezer_of(const HostCgroups& host, const std::string& relative) {
    if (!host.unified_root.empty() && sys::exists(v2_dir(host, relative) + "/cgroup.freeze"))
        return {Freezer::V2, v2_dir(host, relative)};
    if (auto it = host.v1_roots.find("freezer"); it != host.v1_roots.end())
        if (sys::exists(it->second + relative + "/freezer.state")) return {Freezer::V1, it->second + relative};
    return {Freezer::None, ""};
}

Result<bool> v2_frozen(const std::string& dir) {
    for (const auto& line : split(TRY(sys::read_file(dir + "/cgroup.events")), '\n'))
        if (line == "frozen 1") return true;
    return false;
}

Result<bool> v1_frozen(const std::string& dir) { return trim(TRY(sys::read_file(dir + "/freezer.state"))) == "FROZEN"; }

}  // namespace

bool Cgroup::can_freeze() const { return freezer_of(host_, relative_path_).first != Freezer::None; }

Result<void> Cgroup::freeze() const {
    // Not a structured binding: clang < 16 cannot capture those in the lambdas below.
    const auto freezer = freezer_of(host_, relative_path_);
    const auto kind = freezer.first;
    const auto dir = freezer.second;
    const auto timeout = 2s;
    if (kind == Freezer::V2) {
        TRY_CTX(sys::write_existing(dir + "/cgroup.freeze", "1"), "freeze cgroup");
        if (TRY(wait_for(timeout, [&] { return v2_frozen(dir); }))) return {};
        (void)sys::write_existing(dir + "/cgroup.freeze", "0");  // do not leave it half frozen
    } else if (kind == Freezer::V1) {
        // Writing FROZEN again nudges tasks that were busy in the kernel the first time.
        auto frozen = [&]() -> Result<bool> {
            TRY_CTX(sys::write_existing(dir + "/freezer.state", "FROZEN"), "freeze cgroup");
            return v1_frozen(dir);
        };
        if (TRY(wait_for(timeout, frozen))) return {};
        (void)sys::write_existing(dir + "/freezer.state", "THAWED");
    } else {
        return fail("freeze cgroup '" + relative_path_ + "': no freezer (cgroup2 or cgroup v1 freezer) is available");
    }
    return fail("freeze cgroup '" + relative_path_ + "': its processes did not stop within 2 seconds");
}

Result<void> Cgroup::thaw() const {
    // Not a structured binding: clang < 16 cannot capture those in the lambdas below.
    const auto freezer = freezer_of(host_, relative_path_);
    const auto kind = freezer.first;
    const auto dir = freezer.second;
    if (kind == Freezer::V2) {
        TRY_CTX(sys::write_existing(dir + "/cgroup.freeze", "0"), "thaw cgroup");
        TRY(wait_for(1s, [&]() -> Result<bool> { return !TRY(v2_frozen(dir)); }));
        return {};
    }
    if (kind == Freezer::V1) {
        TRY_CTX(sys::write_existing(dir + "/freezer.state", "THAWED"), "thaw cgroup");
        return {};
    }
    return fail("thaw cgroup '" + relative_path_ + "': no freezer (cgroup2 or cgroup v1 freezer) is available");
}

Result<bool> Cgroup::frozen() const {
    // Not a structured binding: clang < 16 cannot capture those in the lambdas below.
    const auto freezer = freezer_of(host_, relative_path_);
    const auto kind = freezer.first;
    const auto dir = freezer.second;
    if (kind == Freezer::V2) return v2_frozen(dir);
    if (kind == Freezer::V1) return v1_frozen(dir);
    return fail("cgroup '" + relative_path_ + "' has no freezer");
}

Result<void> Cgroup::kill_all(int signal) const {
    std::string kill_file = v2_dir(host_, relative_path_) + "/cgroup.kill";
    if (signal == SIGKILL && !host_.unified_root.empty() && sys::exists(kill_file)) {
        TRY_CTX(sys::write_existing(kill_file, "1"), "kill cgroup '" + relative_path_ + "'");
        return {};
    }
    for (pid_t pid : TRY(processes())) {
        auto sent = sys::kill(pid, signal);
        if (!sent && sent.error().errnum != ESRCH) return sent;  // ESRCH: it exited meanwhile
    }
    // Tasks stopped by the v1 freezer only die once thawed (cgroup2's freezer lets SIGKILL through).
    // Not a structured binding: clang < 16 cannot capture those in the lambdas below.
    const auto freezer = freezer_of(host_, relative_path_);
    const auto kind = freezer.first;
    const auto dir = freezer.second;
    if (signal == SIGKILL && kind == Freezer::V1 && TRY(v1_frozen(dir))) TRY(thaw());
    return {};
}

Result<void> Cgroup::destroy() const {
    if (!TRY(processes()).empty()) {
        TRY(kill_all(SIGKILL));
        // Leftovers show up below as EBUSY from rmdir, with the path in the error.
        TRY(wait_for(2s, [&]() -> Result<bool> { return TRY(processes()).empty(); }));
    }
    std::optional<Error> first_error;
    for (const auto& dir : all_dirs(host_, relative_path_)) {
        if (!sys::exists(dir)) continue;
        for (const auto& cgroup : tree_bottom_up(dir))
            if (auto removed = remove_dir(cgroup); !removed && !first_error) first_error = removed.error();
    }
    if (first_error) return fail(first_error->wrap("destroy cgroup '" + relative_path_ + "'"));
    return {};
}

}  // namespace berth::runtime::cgroups
