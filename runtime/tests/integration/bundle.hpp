// Test fixtures for integration tests: busybox bundles and running the real `berth`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::test {

struct Output {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv, feeding `input` on stdin; waits. Output is captured.
Output run_command(const std::vector<std::string>& argv, const std::string& input = "");

// A temporary bundle with a busybox rootfs and the config from `berth spec`.
class Bundle {
public:
    Bundle();
    ~Bundle();
    Bundle(const Bundle&) = delete;
    Bundle& operator=(const Bundle&) = delete;

    nlohmann::json config;     // edit, then write() (run()/berth() write it for you)
    const std::string& dir() const { return dir_; }
    std::string rootfs() const { return dir_ + "/rootfs"; }
    const std::string& state_root() const { return state_root_; }

    void set_command(const std::string& shell_script);  // sh -c SCRIPT
    void write() const;
    // `berth --root <state> ARGS...`, with the bundle written first.
    Output berth(const std::vector<std::string>& args, const std::string& input = "") const;
    // `berth run --bundle DIR ID`; the default id is unique to this bundle, so that concurrent
    // test runs never share a cgroup.
    Output run(const std::string& id = "") const;

private:
    std::string dir_;
    std::string state_root_;
};

// Whether a test can use namespaces and mounts here (root); else the test skips.
bool have_root();
// The test process is a child subreaper (like podman's conmon): created containers are
// re-parented to it once `berth create` exits. Reaps those that have exited.
void reap_orphans();
std::string berth_binary();

}  // namespace berth::test
