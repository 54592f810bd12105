#include "berth/runtime/mounts.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "berth/log.hpp"
#include "berth/sys.hpp"

namespace berth::runtime::mounts {
namespace {

struct OptionFlag {
    const char* name;
    bool clear;
    unsigned long flag;
};

constexpr OptionFlag option_flags[] = {
    {"ro", false, MS_RDONLY},         {"rw", true, MS_RDONLY},          {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},        {"nodev", false, MS_NODEV},       {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},     {"exec", true, MS_NOEXEC},        {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},  {"dirsync", false, MS_DIRSYNC},   {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},     {"nomand", true, MS_MANDLOCK},    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},   {"diratime", true, MS_NODIRATIME}, {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

constexpr std::pair<const char*, unsigned long> propagation_flags[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},             {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}};

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Creates the mount point: a directory, or an empty file when the source is a file.
Result<void> make_mount_point(const std::string& target, bool as_file) {
    if (!as_file) return sys::mkdir_p(target);
    TRY(sys::mkdir_p(target.substr(0, target.rfind('/'))));
    // An existing file is the mount point as it is; opening it for writing would fail on a
    // read-only image.
    if (sys::exists(target)) return {};
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EISDIR) return fail_sys("create mount point '" + target + "'");
    if (fd >= 0) ::close(fd);
    return {};
}

// Flags a mount has that an unprivileged remount may not clear (locked in a user namespace).
unsigned long locked_flags(const std::string& target) {
    struct statvfs st;
    if (::statvfs(target.c_str(), &st) != 0) return 0;
    unsigned long flags = 0;
    if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
    if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return flags;
}

Result<void> remount_bind(const std::string& target, unsigned long flags) {
    auto first = sys::mount("", target, "", MS_BIND | MS_REMOUNT | flags, "");
    if (first) return {};
    if (first.error().errnum != EPERM) return first;
    // In a user namespace the kernel keeps locked flags; retry with them included.
    return sys::mount("", target, "", MS_BIND | MS_REMOUNT | flags | locked_flags(target), "");
}

Result<void> mount_one(const ContainerSpec& spec, const Mount& m) {
    const std::string target = secure_join(spec.root_path, m.destination);
    MountFlags opts = parse_options(m.options);
    bool bind = opts.bind || m.type == "bind";
    std::string context = "mounts: '" + m.destination + "'";

    if (bind) {
        std::string source = m.source;
        if (!source.empty() && source[0] != '/') return fail(context + ": bind source '" + source + "' is not absolute");
        if (!sys::exists(source)) return fail_errno(ENOENT, context + ": bind source '" + source + "'");
        TRY_CTX(make_mount_point(target, !is_dir(source)), context);
        unsigned long rec = opts.flags & MS_REC;
        TRY_CTX(sys::mount(source, target, "", MS_BIND | rec, ""), context);
        unsigned long extra = opts.flags & ~(MS_REC | MS_REMOUNT | MS_BIND);
        if (extra) TRY_CTX(remount_bind(target, extra), context);
    } else if (m.type == "cgroup" || m.type == "cgroup2") {
        TRY_CTX(sys::mkdir_p(target), context);
        // cgroup2 shows the container's own subtree when it has a cgroup namespace.
        auto mounted = sys::mount("cgroup2", target, "cgroup2", opts.flags & ~MS_REC, "");
        if (!mounted) {
            log::debug("cgroup2 mount failed (" + mounted.error().describe() + "); using an empty tmpfs");
            TRY_CTX(sys::mount("tmpfs", target, "tmpfs", (opts.flags & ~MS_REC) | MS_RDONLY, "mode=755"), context);
        }
    } else {
        if (m.type.empty()) return fail(context + ": type is required for a non-bind mount");
        TRY_CTX(sys::mkdir_p(target), context);
        unsigned long flags = opts.flags & ~MS_REC;
        auto mounted = sys::mount(m.source.empty() ? m.type : m.source, target, m.type, flags, opts.data);
        if (!mounted && m.type == "sysfs" && mounted.error().errnum == EPERM &&
            !(spec.find_namespace(NamespaceType::Network) && spec.find_namespace(NamespaceType::Network)->path.empty())) {
            // sysfs can only be mounted in a network namespace one owns; fall back to the host's.
            TRY_CTX(sys::mount("/sys", target, "", MS_BIND | MS_REC, ""), context);
            TRY_CTX(remount_bind(target, flags | MS_RDONLY), context);
        } else if (!mounted) {
            return fail(mounted.error().wrap(context));
        }
    }
    if (opts.propagation) TRY_CTX(sys::mount("", target, "", opts.propagation, ""), context + ": propagation");
    return {};
}

bool dev_is_tmpfs(const ContainerSpec& spec) {
    for (const auto& m : spec.mounts)
        if (m.destination == "/dev" && m.type == "tmpfs") return true;
    return false;
}

bool in_new_user_namespace(const ContainerSpec& spec) {
    const Namespace* ns = spec.find_namespace(NamespaceType::User);
    return ns != nullptr;
}

Result<void> create_device(const ContainerSpec& spec, const Device& d) {
    std::string target = secure_join(spec.root_path, d.path);
    TRY(sys::mkdir_p(target.substr(0, target.rfind('/'))));
    if (in_new_user_namespace(spec)) {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        TRY(make_mount_point(target, true));
        return sys::mount(d.path, target, "", MS_BIND, "");
    }
    mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    mode_t mode = d.file_mode ? *d.file_mode : 0666;
    ::unlink(target.c_str());
    TRY(sys::mknod(target, type | (mode & 07777), makedev(d.major, d.minor)));
    if (::chmod(target.c_str(), mode & 07777) < 0) return fail_sys("chmod '" + target + "'");
    TRY(sys::chown(target, d.uid.value_or(0), d.gid.value_or(0)));
    return {};
}

Result<void> populate_dev(const ContainerSpec& spec) {
    static const Device defaults[] = {
        {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
        {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
        {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
    };
    for (const auto& d : defaults) {
        bool overridden = false;
        for (const auto& s : spec.devices) overridden |= s.path == d.path;
        if (!overridden) TRY_CTX(create_device(spec, d), "create device '" + d.path + "'");
    }
    static const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},
                                                                {"/proc/self/fd/0", "/dev/stdin"},
                                                                {"/proc/self/fd/1", "/dev/stdout"},
                                                                {"/proc/self/fd/2", "/dev/stderr"},
                                                                {"pts/ptmx", "/dev/ptmx"}};
    for (auto& [target, link] : links) {
        std::string at = spec.root_path + link;
        if (sys::exists(at)) continue;
        TRY(sys::symlink(target, at));
    }
    return {};
}

}  // namespace

MountFlags parse_options(const std::vector<std::string>& options) {
    MountFlags out;
    for (const auto& option : options) {
        if (option == "bind") { out.bind = true; continue; }
        if (option == "rbind") { out.bind = true; out.flags |= MS_REC; continue; }
        bool known = false;
        for (const auto& f : option_flags) {
            if (option != f.name) continue;
            if (f.clear) out.flags &= ~f.flag; else out.flags |= f.flag;
            known = true;
        }
        for (auto& [name, flag] : propagation_flags)
            if (option == name) { out.propagation = flag; known = true; }
        // Runtime-only hints with no kernel meaning.
        if (option == "tmpcopyup" || option == "notmpcopyup" || option == "copy-symlink") known = true;
        if (!known) out.data += (out.data.empty() ? "" : ",") + option;
    }
    return out;
}

Result<unsigned long> parse_propagation(const std::string& name) {
    for (auto& [n, flag] : propagation_flags)
        if (name == n) return flag;
    return fail("unknown mount propagation '" + name + "'");
}

std::string secure_join(const std::string& root, const std::string& path) {
    std::vector<std::string> parts;  // resolved components below root
    std::vector<std::string> pending;
    auto push_components = [&pending](const std::string& p) {
        std::vector<std::string> comps;
        size_t start = 0;
        while (start <= p.size()) {
            size_t end = p.find('/', start);
            if (end == std::string::npos) end = p.size();
            if (end > start) comps.push_back(p.substr(start, end - start));
            start = end + 1;
        }
        pending.insert(pending.begin(), comps.begin(), comps.end());
    };
    push_components(path);
    int links_followed = 0;
    while (!pending.empty()) {
        std::string comp = pending.front();
        pending.erase(pending.begin());
        if (comp == ".") continue;
        if (comp == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        std::string current = root;
        for (const auto& p : parts) current += "/" + p;
        current += "/" + comp;
        char buf[PATH_MAX];
        ssize_t n = ::readlink(current.c_str(), buf, sizeof buf - 1);
        if (n > 0 && links_followed < 40) {
            ++links_followed;
            std::string target(buf, static_cast<size_t>(n));
            if (!target.empty() && target[0] == '/') parts.clear();
            push_components(target);
            continue;
        }
        parts.push_back(comp);
    }
    std::string out = root;
    for (const auto& p : parts) out += "/" + p;
    return out;
}

Result<void> prepare_rootfs(const ContainerSpec& spec) {
    // Keep host mount events out of the container, and ours out of the host.
    unsigned long root_propagation = MS_SLAVE | MS_REC;
    if (!spec.rootfs_propagation.empty()) root_propagation = TRY(parse_propagation(spec.rootfs_propagation));
    TRY_CTX(sys::mount("", "/", "", root_propagation, ""), "set root mount propagation");
    TRY_CTX(sys::mount(spec.root_path, spec.root_path, "", MS_BIND | MS_REC, ""), "bind root.path");
    if (!sys::exists(spec.root_path + "/."))
        return fail_errno(ENOENT, "root.path '" + spec.root_path + "'");
    for (const auto& m : spec.mounts) TRY(mount_one(spec, m));
    if (dev_is_tmpfs(spec)) TRY(populate_dev(spec));
    for (const auto& d : spec.devices) TRY_CTX(create_device(spec, d), "linux.devices '" + d.path + "'");
    for (const auto& [target, link] : spec.symlinks) {
        std::string at = secure_join(spec.root_path, link);
        if (!sys::exists(at)) TRY(sys::symlink(target, at));
    }
    return {};
}

Result<void> enter_rootfs(const ContainerSpec& spec) {
    TRY(sys::chdir(spec.root_path));
    const Namespace* mnt = spec.find_namespace(NamespaceType::Mount);
    if (!mnt) {
        TRY(sys::chroot("."));
        return sys::chdir("/");
    }
    // pivot_root(".", ".") stacks the old root on top of the new one; detach it at once.
    TRY(sys::pivot_root(".", "."));
    TRY_CTX(sys::mount("", ".", "", MS_SLAVE | MS_REC, ""), "make old root a slave");
    TRY_CTX(sys::umount2(".", MNT_DETACH), "detach old root");
    return sys::chdir("/");
}

Result<void> finish_rootfs(const ContainerSpec& spec) {
    for (const auto& path : spec.masked_paths) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) continue;  // nothing to mask
        if (S_ISDIR(st.st_mode))
            TRY_CTX(sys::mount("tmpfs", path, "tmpfs", MS_RDONLY, ""), "linux.maskedPaths '" + path + "'");
        else
            TRY_CTX(sys::mount("/dev/null", path, "", MS_BIND, ""), "linux.maskedPaths '" + path + "'");
    }
    for (const auto& path : spec.readonly_paths) {
        if (!sys::exists(path)) continue;
        TRY_CTX(sys::mount(path, path, "", MS_BIND | MS_REC, ""), "linux.readonlyPaths '" + path + "'");
        TRY_CTX(remount_bind(path, MS_RDONLY), "linux.readonlyPaths '" + path + "'");
    }
    if (spec.root_readonly) TRY_CTX(remount_bind("/", MS_RDONLY), "root.readonly");
    return {};
}

}  // namespace berth::runtime::mounts
