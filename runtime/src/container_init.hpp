// The code that runs inside the new container process (and in `exec`'d processes)
// between clone(2) and execve(2). Internal to the runtime library.
#pragma once

#include <string>

#include "berth/runtime/cgroups.hpp"
#include "berth/runtime/seccomp.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime::detail {

// Messages on the sync socket between the runtime (parent) and the container's init.
inline constexpr const char* kGo = "go";            // parent → init, payload: state JSON for hooks
inline constexpr const char* kRunHooks = "hooks";   // init → parent: run prestart/createRuntime now
inline constexpr const char* kHooksDone = "ok";     // parent → init
inline constexpr const char* kCreated = "created";  // init → parent: waiting for start
inline constexpr const char* kStart = "start";      // parent → init (when no exec FIFO is used)
inline constexpr const char* kErrorPrefix = "error:";  // init → parent, then init exits

struct InitContext {
    const ContainerSpec* spec = nullptr;
    int sync_fd = -1;
    int state_dir_fd = -1;        // exec FIFO lives here; -1: wait for kStart on sync_fd
    int console_socket_fd = -1;   // receives the pty master when process.terminal
    int preserve_fds = 0;
    bool run_runtime_hooks = false;  // parent has prestart/createRuntime hooks to run
    int stdio[3] = {-1, -1, -1};     // become fds 0, 1, 2 when set
    const seccomp::Program* seccomp = nullptr;  // compiled by the parent, off the child's path
    int unshare_flags = 0;  // new namespaces the init makes itself (not at clone): mount, uts, ipc, net
    const cgroups::Cgroup* join_cgroup = nullptr;  // the init moves itself in, first thing
};

[[noreturn]] void container_init(const InitContext& ctx);

struct ExecContext {
    const ContainerSpec* spec = nullptr;  // the container's config (seccomp, namespaces)
    const Process* process = nullptr;
    int sync_fd = -1;
    int console_socket_fd = -1;
    int preserve_fds = 0;
    const seccomp::Program* seccomp = nullptr;
    int stdio[3] = {-1, -1, -1};
};

// Second stage of exec: already inside the container's namespaces.
[[noreturn]] void exec_init(const ExecContext& ctx);

// Helpers on the SOCK_SEQPACKET sync socket (messages are never empty).
bool send_message(int fd, const std::string& message);
std::string receive_message(int fd);  // blocking; "" on EOF or error
enum class Receive { Message, Again /* non-blocking socket, nothing yet */, Closed /* EOF or error */ };
Receive receive_message(int fd, std::string& message);  // one message, sized to fit

}  // namespace berth::runtime::detail
