#include "berth/pid1/system_setup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/random.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "berth/log.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {
bool is_mount_point(const std::string& path) {
    struct stat self, parent;
    if (::stat(path.c_str(), &self) != 0) return false;
    if (::stat((path + "/..").c_str(), &parent) != 0) return false;
    return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

namespace {

std::string module_name_of(const std::string& path) {
    std::string base = path.substr(path.rfind('/') + 1);
    base = base.substr(0, base.find(".ko"));
    for (char& c : base)
        if (c == '-') c = '_';
    return base;
}

}  // namespace

std::vector<MountStep> host_mount_plan(const SetupOptions& options) {
    const unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (!options.machine) {
        // A fresh /proc shows our own pid namespace; everything else stays the host's.
        return {{"proc", "/proc", "proc", nsd, "", false}};
    }
    return {
        {"proc", "/proc", "proc", nsd, ""},
        {"sysfs", "/sys", "sysfs", nsd, ""},
        {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
        {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
        {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
        {"tmpfs", options.run_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"},
        {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
        {"cgroup2", "/sys/fs/cgroup", "cgroup2", nsd, "nsdelegate"},
    };
}

Result<void> apply_mounts(const std::vector<MountStep>& plan) {
    for (const auto& step : plan) {
        if (step.skip_if_mounted && is_mount_point(step.target)) continue;
        TRY(sys::mkdir_p(step.target));
        TRY(sys::mount(step.source, step.target, step.type, step.flags, step.data));
    }
    return {};
}

Result<std::vector<std::string>> enable_cgroup_controllers(const std::string& cgroup_root) {
    auto available = TRY(sys::read_file(cgroup_root + "/cgroup.controllers"));
    std::istringstream in(available);
    std::vector<std::string> enabled;
    for (std::string controller; in >> controller;) {
        if (sys::write_existing(cgroup_root + "/cgroup.subtree_control", "+" + controller)) enabled.push_back(controller);
    }
    return enabled;
}

Result<std::vector<std::string>> module_load_order(const std::string& modules_dep, const std::vector<std::string>& names) {
    std::map<std::string, std::pair<std::string, std::vector<std::string>>> by_name;  // name → (path, deps)
    std::istringstream in(modules_dep);
    for (std::string line; std::getline(in, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string path = line.substr(0, colon);
        std::istringstream deps(line.substr(colon + 1));
        std::vector<std::string> dep_paths;
        for (std::string dep; deps >> dep;) dep_paths.push_back(dep);
        by_name[module_name_of(path)] = {path, dep_paths};
    }
    std::vector<std::string> order;
    std::set<std::string> seen;
    // modules.dep lists every transitive dependency, deepest last: load them in reverse first.
    for (const auto& raw : names) {
        std::string name = module_name_of(raw);
        auto it = by_name.find(name);
        if (it == by_name.end()) return fail("module '" + raw + "' is not in modules.dep");
        const auto& [path, deps] = it->second;
        for (auto dep = deps.rbegin(); dep != deps.rend(); ++dep)
            if (seen.insert(*dep).second) order.push_back(*dep);
        if (seen.insert(path).second) order.push_back(path);
    }
    return order;
}

Result<std::vector<std::vector<std::string>>> module_load_groups(const std::string& modules_dep,
                                                                 const std::vector<std::string>& names,
                                                                 const std::function<bool(const std::string&)>& loaded) {
    std::vector<std::vector<std::string>> groups;
    for (const auto& name : names) {
        auto chain = TRY(module_load_order(modules_dep, {name}));
        std::erase_if(chain, [&](const std::string& path) { return loaded(module_name_of(path)); });
        auto in_chain = [&chain](const std::string& path) { return std::find(chain.begin(), chain.end(), path) != chain.end(); };
        // Every group sharing a module with this chain joins it (each keeps its own order).
        std::vector<std::string> merged;
        for (auto group = groups.begin(); group != groups.end();) {
            if (std::any_of(group->begin(), group->end(), in_chain)) {
                merged.insert(merged.end(), group->begin(), group->end());
                group = groups.erase(group);
            } else {
                ++group;
            }
        }
        for (const auto& path : chain)
            if (std::find(merged.begin(), merged.end(), path) == merged.end()) merged.push_back(path);
        if (!merged.empty()) groups.push_back(std::move(merged));
    }
    return groups;
}

Result<void> load_modules(const std::string& modules_dir, const std::vector<std::string>& relative_paths) {
    // One module that does not load must not keep the others out: each failure is logged and
    // loading goes on. ENODEV is the module saying this machine has nothing for it (efivarfs
    // without EFI): not a failure.
    std::string failed;
    for (const auto& rel : relative_paths) {
        if (sys::exists("/sys/module/" + module_name_of(rel))) continue;
        auto fd = sys::open(modules_dir + "/" + rel, O_RDONLY);
        if (fd && (::syscall(SYS_finit_module, fd->get(), "", 0) == 0 || errno == EEXIST || errno == ENODEV)) continue;
        Error error = fd ? Error{errno, "load module '" + rel + "'"} : fd.error();
        log::warning(error.describe());
        failed += (failed.empty() ? "" : ", ") + rel;
    }
    if (!failed.empty()) return fail("modules that did not load: " + failed);
    return {};
}

ModuleList parse_module_list(std::string_view text) {
    ModuleList list;
    std::vector<std::string>* section = &list.names;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("#@until-found", 0) == 0) section = &list.until_found;
        if (line.rfind("#@alongside", 0) == 0) section = &list.alongside;
        std::istringstream words(line.substr(0, line.find('#')));
        for (std::string name; words >> name;) section->push_back(name);
    }
    return list;
}

Result<void> load_listed_modules(const std::string& list_file, const std::function<bool()>& found) {
    auto text = sys::read_file(list_file);
    if (!text) return {};  // nothing to load
    return load_module_list(parse_module_list(*text), found);
}

Result<void> load_module_list(const ModuleList& list, const std::function<bool()>& found) {
    struct utsname uts{};
    ::uname(&uts);
    std::string dir = std::string("/lib/modules/") + uts.release;
    auto dep = TRY_CTX(sys::read_file(dir + "/modules.dep"), "modules of kernel " + std::string(uts.release));
    auto is_loaded = [](const std::string& name) { return sys::exists("/sys/module/" + name); };
    auto groups = TRY(module_load_groups(dep, list.names, is_loaded));
    // The kernel orders loads that meet: a module being loaded by the other thread is waited for
    // (EEXIST once it is live), and so are its symbols.
    Result<void> alongside;
    std::jthread alongside_loader;  // joined on every way out
    if (!list.alongside.empty())
        alongside_loader = std::jthread([&] {
            auto order = module_load_order(dep, list.alongside);
            alongside = order ? load_modules(dir, *order) : Result<void>(fail(order.error()));
        });
    std::vector<Result<void>> results(groups.size());
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next++) < groups.size();) results[i] = load_modules(dir, groups[i]);
    };
    if (groups.size() > 1) {
        std::thread helper(work);
        work();
        helper.join();
    } else {
        work();
    }
    Result<void> loaded;
    for (auto& result : results)
        if (!result) loaded = loaded ? std::move(result) : Result<void>(fail(loaded.error().describe() + "; " + result.error().describe()));
    for (const auto& name : list.until_found) {
        if (found && found()) break;
        auto more = module_load_order(dep, {name});
        auto result = more ? load_modules(dir, *more) : Result<void>(fail(more.error()));  // loaded dependencies are skipped
        if (!result && loaded) loaded = result;
    }
    if (alongside_loader.joinable()) alongside_loader.join();
    if (!alongside && loaded) loaded = alongside;
    return loaded;
}

Result<pid_t> run_at_idle_priority(const std::function<int()>& work) {
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        struct sched_param idle{};
        if (::sched_setscheduler(0, SCHED_IDLE, &idle) != 0) log::warning(std::string("SCHED_IDLE: ") + error_text(errno));
        ::_exit(work());
    }
    return pid;
}

Result<void> copy_directory_files(const std::string& from, const std::string& to) {
    DIR* dir = ::opendir(from.c_str());
    if (!dir) return {};  // nothing precompiled
    TRY(sys::mkdir_p(to, 0700));
    Result<void> result;
    while (auto* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        auto content = sys::read_file(from + "/" + entry->d_name);
        auto copied = content ? sys::write_file(to + "/" + entry->d_name, *content, 0, 0600)
                              : Result<void>(fail(content.error()));
        if (!copied) result = copied;
    }
    ::closedir(dir);
    return result;
}

Result<void> seed_entropy(const std::string& seed_file) {
    if (auto seed = sys::read_file(seed_file); seed && !seed->empty()) {
        // Writing mixes the seed in without crediting entropy: safe even if the seed leaked.
        auto urandom = TRY(sys::open("/dev/urandom", O_WRONLY));
        TRY(sys::write_all(urandom.get(), *seed));
    }
    std::string fresh(512, '\0');
    // Early in boot the pool may not be initialized yet (no hardware RNG driver): then take what
    // the kernel has (GRND_INSECURE); it was mixed with the saved seed just above.
    ssize_t got = ::getrandom(fresh.data(), fresh.size(), GRND_NONBLOCK);
    if (got < 0 && errno == EAGAIN) got = ::getrandom(fresh.data(), fresh.size(), GRND_INSECURE);
    if (got != static_cast<ssize_t>(fresh.size())) return fail_sys("read a fresh seed");
    TRY(sys::mkdir_p(seed_file.substr(0, seed_file.rfind('/')), 0700));
    return sys::write_file(seed_file, fresh, 0, 0600);
}

}  // namespace berth::pid1
