// The container lifecycle: create, start, run, exec, kill, pause, resume, delete, state.
// The CLI and berth-init both drive containers through these functions.
#pragma once

#include <sys/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/paths.hpp"
#include "berth/signals.hpp"
#include "berth/runtime/spec.hpp"
#include "berth/runtime/state.hpp"
#include "berth/sys.hpp"

namespace berth::runtime {

struct Runtime {
    StateStore store{paths::kRun};
};

struct CreateOptions {
    std::string id;
    std::string bundle;           // absolute
    std::string pid_file;         // written once the container is created
    std::string console_socket;   // AF_UNIX socket that receives the pty master (terminal: true)
    int preserve_fds = 0;         // fds 3..3+N-1 are passed to the container process
};

// A launched container process, before or after start.
struct Launched {
    pid_t pid = 0;
    sys::UniqueFd start_channel;  // when started by message rather than the exec FIFO
};

// Sets the container up and leaves its process waiting for `start`.
Result<Launched> create_container(const Runtime& rt, const CreateOptions& opts);
Result<void> start_container(const Runtime& rt, const std::string& id);

struct RunResult {
    int exit_code = 0;  // 128+N when killed by signal N
};
// create + start; without `detach`, waits for the process (forwarding signals), deletes
// the container and returns its exit code.
Result<RunResult> run_container(const Runtime& rt, const CreateOptions& opts, bool detach);

Result<void> kill_container(const Runtime& rt, const std::string& id, int signal, bool all);
Result<void> delete_container(const Runtime& rt, const std::string& id, bool force);
Result<void> pause_container(const Runtime& rt, const std::string& id);
Result<void> resume_container(const Runtime& rt, const std::string& id);

struct ContainerInfo {
    ContainerState state;
    Status status = Status::Stopped;
};
Result<ContainerInfo> inspect_container(const Runtime& rt, const std::string& id);
Result<std::vector<ContainerInfo>> list_containers(const Runtime& rt);
Result<std::vector<pid_t>> container_pids(const Runtime& rt, const std::string& id);

struct ExecOptions {
    std::string pid_file;
    std::string console_socket;
    int preserve_fds = 0;
    bool detach = false;
};
// Runs `process` inside a running container's namespaces and cgroup. Detached: returns
// 0 once it runs; else waits and returns its exit code.
Result<int> exec_in_container(const Runtime& rt, const std::string& id, const Process& process,
                              const ExecOptions& opts);

// In-process use by berth-init: starts a container from a plan, without the state store or
// an exec FIFO. The caller is the parent of the container's process and reaps it.
struct SpawnOptions {
    std::string id;                   // names the cgroup when the spec has no cgroupsPath
    int stdio[3] = {-1, -1, -1};      // fds to become the process's stdin/stdout/stderr; -1: inherit
};
struct Spawned {
    pid_t pid = 0;
    std::string cgroup_path;          // relative to the hierarchy roots; empty without cgroups
};

// A container being started without blocking its caller. begin() creates the cgroup with its
// limits and clones the container's init, which joins the cgroup before anything else and then
// sets itself up (namespaces, mounts, pivot_root, capabilities, seccomp) on its own, so an
// event loop can have many containers setting up at once. The caller watches fd() and calls
// advance() whenever it is readable (with nothing to read it returns Pending): advance() answers
// the init (prestart/createRuntime hooks run synchronously, when the spec has any) and, once the
// init reports `created`, releases it to exec the process: Started.
// pid() is the caller's child from begin() on: the caller reaps it, also after a failure; if it
// reaps it before Started, it calls exited(). After a failure (or Started and a later exit) the
// cgroup is the caller's to remove (try_remove_cgroup).
class SpawnLaunch {
public:
    enum class Progress { Pending, Started };

    static Result<SpawnLaunch> begin(const ContainerSpec& spec, const SpawnOptions& opts);
    SpawnLaunch(SpawnLaunch&&) noexcept;
    SpawnLaunch& operator=(SpawnLaunch&&) noexcept;
    ~SpawnLaunch();  // before Started: kills the process (unless exited() said it is gone)

    int fd() const;  // the sync socket (non-blocking), open as long as this object
    pid_t pid() const;
    const std::string& cgroup_path() const;  // empty without cgroups

    // An error ends the launch and kills the process.
    Result<Progress> advance();
    // The caller reaped pid() before Started: ends the launch, returns why it failed (the
    // init's own error report when it sent one).
    Error exited(int wait_status);

    struct State;

private:
    explicit SpawnLaunch(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// SpawnLaunch driven to the end, blocking; on failure the process is reaped and the cgroup removed.
Result<Spawned> spawn_container(const ContainerSpec& spec, const SpawnOptions& opts);
// Signals every process in a spawned container's cgroup (the whole service, not just its first process).
Result<void> signal_cgroup(const std::string& cgroup_path, int signal);
// Removes a spawned container's cgroup once its processes are gone (kills stragglers). Blocks
// while they die and while the kernel still holds the cgroup (EBUSY), up to ~2.5 s.
Result<void> remove_cgroup(const std::string& cgroup_path);
// One attempt at remove_cgroup that never waits: true once the cgroup is gone; false while
// processes remain (they are sent SIGKILL) or the kernel still holds it: try again a little later.
Result<bool> try_remove_cgroup(const std::string& cgroup_path);

// Starts `process` in the namespaces and cgroup of a spawned container whose first process is
// `pid` (berth-init's exec probes). Returns once it runs; it is the caller's child to reap.
Result<pid_t> exec_in_process(const ContainerSpec& spec, pid_t pid, const std::string& cgroup_path,
                              const Process& process, const std::array<int, 3>& stdio);

// "KILL", "SIGKILL", "9" → 9: the one signal table (berth/signals.hpp), as runtime::parse_signal.
using ::berth::parse_signal;

}  // namespace berth::runtime
