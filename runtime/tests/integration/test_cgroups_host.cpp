// Real cgroup operations on this host (root): create, join, limit, freeze, kill, destroy.
// Runs against detect_host() and, where v1 hierarchies exist, against a v1-only view of the
// same host so both freezers and both kill paths are exercised.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "berth/runtime/cgroups.hpp"
#include "berth/sys.hpp"
#include "skip.hpp"

using namespace berth;
using namespace berth::runtime;
using namespace berth::runtime::cgroups;
using namespace std::chrono_literals;

namespace {

const std::string kParent = "/berth-test";

std::string trimmed(const std::string& path) {
    auto text = sys::read_file(path).value_or("<unreadable>");
    text.erase(text.find_last_not_of(" \n") + 1);
    return text;
}

std::string unique_path() {
    std::random_device random;
    char name[32];
    std::snprintf(name, sizeof name, "/%08x%08x", random(), random());
    return kParent + name;
}

// Every directory the cgroup may have: cgroup2 plus each v1 hierarchy except named ones.
std::vector<std::string> hierarchy_roots(const HostCgroups& host) {
    std::vector<std::string> roots;
    if (!host.unified_root.empty()) roots.push_back(host.unified_root);
    for (const auto& [controller, root] : host.v1_roots)
        if (controller.rfind("name=", 0) != 0 && std::find(roots.begin(), roots.end(), root) == roots.end())
            roots.push_back(root);
    return roots;
}

bool lists_pid(const std::string& dir, pid_t pid) {
    auto text = sys::read_file(dir + "/cgroup.procs").value_or("");
    return ("\n" + text).find("\n" + std::to_string(pid) + "\n") != std::string::npos;
}

// A child that writes a byte every 5 ms, so the pipe shows whether it is running. It dies of
// SIGPIPE if the test goes away first.
struct Ticker {
    pid_t pid = -1;
    int output = -1;

    Ticker() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (;;) {
                if (::write(fds[1], "x", 1) < 0) ::_exit(1);
                ::usleep(5000);
            }
        }
        ::close(fds[1]);
        output = fds[0];
        ::fcntl(output, F_SETFL, O_NONBLOCK);
    }
    ~Ticker() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(output);
    }
    // Bytes written since the last call.
    size_t ticks() {
        char buf[4096];
        size_t total = 0;
        for (ssize_t n; (n = ::read(output, buf, sizeof buf)) > 0;) total += static_cast<size_t>(n);
        return total;
    }
    // Reaps the child; returns the signal that killed it (0 if it exited).
    int reap() {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        pid = -1;
        return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
};

// Removes the test cgroup even when an assertion fails midway, then the shared parent if empty.
struct CgroupGuard {
    HostCgroups host;
    std::string path;
    ~CgroupGuard() {
        (void)Cgroup::open(host, path).destroy();  // best effort: the test's own checks report failures
        for (const auto& root : hierarchy_roots(host)) ::rmdir((root + kParent).c_str());
    }
};

bool skip_unless_root() {
    if (::geteuid() == 0) return false;
    berth::test::skip("needs root to create cgroups");
    return true;
}

// A view of this host through its cgroup v1 hierarchies only, if it has freezer and pids.
std::optional<HostCgroups> v1_only_view(const HostCgroups& host) {
    if (!host.v1_roots.count("freezer") || !host.v1_roots.count("pids")) return std::nullopt;
    HostCgroups view = host;
    view.layout = Layout::Legacy;
    view.unified_root.clear();
    view.unified_controllers.clear();
    return view;
}

void create_join_freeze_kill_destroy(const HostCgroups& host) {
    std::string path = unique_path();
    CgroupGuard guard{host, path};
    Resources resources;
    resources.pids_limit = 50;
    auto cgroup = Cgroup::create(host, path, resources);
    INFO((cgroup ? "" : cgroup.error().describe()));
    REQUIRE(cgroup);

    // On a hybrid or legacy host the limit lands in the v1 pids hierarchy.
    std::string pids_dir = host.v1_roots.count("pids") ? host.v1_roots.at("pids") + path : host.unified_root + path;
    CHECK(trimmed(pids_dir + "/pids.max") == "50");

    Ticker child;
    REQUIRE(cgroup->add_process(child.pid));
    auto pids = cgroup->processes();
    REQUIRE(pids);
    CHECK(std::find(pids->begin(), pids->end(), child.pid) != pids->end());
    for (const auto& root : hierarchy_roots(host)) {
        INFO(root + path);
        CHECK(lists_pid(root + path, child.pid));
    }

    REQUIRE(cgroup->can_freeze());
    auto frozen = cgroup->freeze();
    INFO((frozen ? "" : frozen.error().describe()));
    REQUIRE(frozen);
    REQUIRE(cgroup->frozen().value());
    std::string v2_events = host.unified_root.empty() ? "" : trimmed(host.unified_root + path + "/cgroup.events");
    std::string v1_state = host.unified_root.empty() ? trimmed(host.v1_roots.at("freezer") + path + "/freezer.state") : "";
    CHECK((v2_events.find("frozen 1") != std::string::npos || v1_state == "FROZEN"));
    child.ticks();
    std::this_thread::sleep_for(200ms);
    CHECK(child.ticks() == 0);  // frozen: not one tick

    REQUIRE(cgroup->thaw());
    REQUIRE_FALSE(cgroup->frozen().value());
    std::this_thread::sleep_for(200ms);
    CHECK(child.ticks() > 0);

    REQUIRE(cgroup->kill_all(SIGKILL));
    CHECK(child.reap() == SIGKILL);
    CHECK(cgroup->processes().value().empty());

    auto destroyed = cgroup->destroy();
    INFO((destroyed ? "" : destroyed.error().describe()));
    REQUIRE(destroyed);
    for (const auto& root : hierarchy_roots(host)) CHECK_FALSE(sys::exists(root + path));
    REQUIRE(cgroup->destroy());  // already gone: not an error
}

}  // namespace

TEST_CASE("host cgroup: create, join, limit, freeze, thaw, kill, destroy", "[priv][cgroups]") {
    if (skip_unless_root()) return;
    auto host = detect_host();
    REQUIRE(host);
    if (host->layout == Layout::None) return berth::test::skip("no cgroup filesystem mounted");
    create_join_freeze_kill_destroy(*host);
}

TEST_CASE("host cgroup through v1 only: freezer.state and signals", "[priv][cgroups]") {
    if (skip_unless_root()) return;
    auto view = v1_only_view(detect_host().value());
    if (!view) return berth::test::skip("no cgroup v1 freezer and pids hierarchies");
    create_join_freeze_kill_destroy(*view);
}

TEST_CASE("host cgroup: destroy kills what is left, even when frozen", "[priv][cgroups]") {
    if (skip_unless_root()) return;
    auto host = detect_host().value();
    std::vector<HostCgroups> views{host};
    if (auto view = v1_only_view(host)) views.push_back(*view);
    int tested = 0;
    for (const auto& view : views) {
        if (view.layout == Layout::None) continue;
        ++tested;
        std::string path = unique_path();
        CgroupGuard guard{view, path};
        auto cgroup = Cgroup::create(view, path, std::nullopt);
        REQUIRE(cgroup);
        Ticker first, second;
        REQUIRE(cgroup->add_process(first.pid));
        REQUIRE(cgroup->add_process(second.pid));
        if (cgroup->can_freeze()) REQUIRE(cgroup->freeze());
        auto destroyed = cgroup->destroy();
        INFO((destroyed ? "" : destroyed.error().describe()));
        REQUIRE(destroyed);
        CHECK(first.reap() == SIGKILL);
        CHECK(second.reap() == SIGKILL);
        for (const auto& root : hierarchy_roots(view)) CHECK_FALSE(sys::exists(root + path));
    }
    if (!tested) berth::test::skip("no cgroup filesystem mounted");
}

TEST_CASE("host cgroup: a service's cgroup is made only in the hierarchies its limits use", "[priv][cgroups]") {
    if (skip_unless_root()) return;
    auto host = detect_host().value();
    std::vector<HostCgroups> views{host};
    if (auto view = v1_only_view(host)) views.push_back(*view);
    int tested = 0;
    for (const auto& view : views) {
        if (view.layout == Layout::None || view.v1_roots.empty() || !view.v1_roots.count("pids")) continue;
        ++tested;
        INFO("cgroup2 at '" << view.unified_root << "'");
        std::string path = unique_path();
        CgroupGuard guard{view, path};
        Resources resources;
        resources.pids_limit = 50;
        auto cgroup = Cgroup::create(view, path, resources, V1Hierarchies::LimitsOnly);
        INFO((cgroup ? "" : cgroup.error().describe()));
        REQUIRE(cgroup);
        // cgroup2 (or, without it, the first standard hierarchy: freezer) finds the processes;
        // pids holds the limit; no other hierarchy gets a directory.
        std::string tracker = view.unified_root.empty() ? view.v1_roots.at("freezer") : view.unified_root;
        std::string limits = view.v1_roots.at("pids");
        if (std::find(view.unified_controllers.begin(), view.unified_controllers.end(), "pids") == view.unified_controllers.end() ||
            view.unified_root.empty())
            CHECK(trimmed(limits + path + "/pids.max") == "50");
        for (const auto& root : hierarchy_roots(view)) {
            INFO(root);
            CHECK(sys::exists(root + path) == (root == tracker || root == limits));
        }
        Ticker ticker;
        REQUIRE(cgroup->add_process(ticker.pid));
        CHECK(lists_pid(tracker + path, ticker.pid));
        auto pids = cgroup->processes();
        REQUIRE(pids);
        CHECK(*pids == std::vector<pid_t>{ticker.pid});
        REQUIRE(cgroup->destroy());
        CHECK(ticker.reap() == SIGKILL);
        for (const auto& root : hierarchy_roots(view)) CHECK_FALSE(sys::exists(root + path));
    }
    if (!tested) berth::test::skip("no cgroup v1 pids hierarchy");
}

TEST_CASE("host cgroup: memory and cpuset via v1, hugetlb via cgroup2 on a hybrid host", "[priv][cgroups]") {
    if (skip_unless_root()) return;
    auto host = detect_host().value();
    auto has_v2 = [&](const char* c) {
        return std::find(host.unified_controllers.begin(), host.unified_controllers.end(), c) != host.unified_controllers.end();
    };
    if (host.layout != Layout::Hybrid || !host.v1_roots.count("memory") || !host.v1_roots.count("cpuset") ||
        host.v1_roots.count("hugetlb") || !has_v2("hugetlb") || !sys::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
        return berth::test::skip("needs this dev machine's hybrid layout (v1 memory/cpuset, hugetlb only in cgroup2)");
    }
    std::string root_control = host.unified_root + "/cgroup.subtree_control";
    bool hugetlb_was_delegated = trimmed(root_control).find("hugetlb") != std::string::npos;
    std::string path = unique_path();
    {
        CgroupGuard guard{host, path};
        Resources resources;
        resources.memory.limit = 64 << 20;
        resources.hugepage_limits = {{"2MB", 4 << 20}};
        auto cgroup = Cgroup::create(host, path, resources);
        INFO((cgroup ? "" : cgroup.error().describe()));
        REQUIRE(cgroup);
        CHECK(trimmed(host.v1_roots.at("memory") + path + "/memory.limit_in_bytes") == std::to_string(64 << 20));
        CHECK(trimmed(host.unified_root + path + "/hugetlb.2MB.max") == std::to_string(4 << 20));
        // A new v1 cpuset inherits cpus and mems, so a process can join it.
        CHECK(trimmed(host.v1_roots.at("cpuset") + path + "/cpuset.cpus") ==
              trimmed(host.v1_roots.at("cpuset") + "/cpuset.cpus"));
        Ticker child;
        REQUIRE(cgroup->add_process(child.pid));
        CHECK(lists_pid(host.v1_roots.at("cpuset") + path, child.pid));
        REQUIRE(cgroup->destroy());
        CHECK(child.reap() == SIGKILL);
        (void)sys::write_existing(host.unified_root + kParent + "/cgroup.subtree_control", "-hugetlb");
    }
    // Leave the host's cgroup2 root as it was.
    if (!hugetlb_was_delegated) CHECK(sys::write_existing(root_control, "-hugetlb"));
}
