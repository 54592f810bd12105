// A test host for berth-init: an images dir with a busybox image, a services dir, and
// berth-init running as PID 1 of a fresh pid + mount namespace (`unshare`), in --test mode.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bundle.hpp"

namespace berth::test {

// Limits berth-init starts with; 0 keeps the test process's own.
struct InitLimits {
    rlim_t open_files = 0;     // RLIMIT_NOFILE, soft and hard
    rlim_t address_space = 0;  // RLIMIT_AS: a runaway allocation fails instead of eating the machine
};

class InitHost {
public:
    InitHost();
    ~InitHost();
    InitHost(const InitHost&) = delete;
    InitHost& operator=(const InitHost&) = delete;

    void service(const std::string& name, const std::string& toml);
    // More berth-init flags for the next start().
    void extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
    void start(const InitLimits& limits = InitLimits());
    // Kills berth-init (and so its whole pid namespace) and waits for it.
    void kill_init();

    // berth-init's pid on the host (the only child of unshare); 0 once it is gone.
    pid_t init_pid() const;
    bool alive() const;
    // How berth-init ended, once it has ("exited 1", "killed by SIGSEGV"); "" while it runs.
    std::string exit_description();
    // Waits for berth-init to exit; returns false on timeout.
    bool wait_exit(int timeout_ms);

    Output ctl(const std::vector<std::string>& args) const;
    Output ctl_with_input(const std::vector<std::string>& args, const std::string& input) const;
    // The services table as JSON, straight from the control socket.
    nlohmann::json services() const;
    nlohmann::json service_status(const std::string& name) const;
    // Polls until the service is in `state`; returns the last status seen.
    nlohmann::json wait_state(const std::string& name, const std::string& state, int timeout_ms = 10000) const;

    std::string init_log() const;
    std::string socket() const { return dir_ + "/run/control.sock"; }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    pid_t unshare_pid_ = 0;
    int exit_status_ = -1;
    int stdin_writer_ = -1;
    std::vector<std::string> extra_args_;  // berth-init's stdin is a pipe nobody writes to, like an idle console
};

// Root and unshare(1): what berth-init as PID 1 of a namespace needs.
bool have_unshare();

// A service that exits promptly on SIGTERM, so shutdowns are quick.
std::string looping(const std::string& extra_toml, const std::string& prelude = "");

}  // namespace berth::test
