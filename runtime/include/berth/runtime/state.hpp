// What the runtime remembers about a container between commands: one directory per
// container under the state root (default /run/berth/<id>) holding state.json, a copy
// of config.json, and the exec FIFO that holds a created container until `start`.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "berth/result.hpp"

namespace berth::runtime {

enum class Status { Creating, Created, Running, Paused, Stopped };
const char* status_name(Status status);

struct ContainerState {
    std::string id;
    std::string bundle;
    std::string rootfs;
    pid_t pid = 0;
    unsigned long long start_time = 0;  // of pid, from /proc/PID/stat
    std::string created;                // RFC 3339
    std::string cgroup_path;            // relative to the hierarchy roots; empty: none
    std::map<std::string, std::string> annotations;
};

// Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most 1024 characters.
Result<void> validate_id(const std::string& id);

class StateStore {
public:
    explicit StateStore(std::string root) : root_(std::move(root)) {}

    const std::string& root() const { return root_; }
    std::string dir(const std::string& id) const { return root_ + "/" + id; }
    std::string fifo_path(const std::string& id) const { return dir(id) + "/exec.fifo"; }

    // Creates the directory; fails with "container 'x' already exists".
    Result<void> reserve(const std::string& id) const;
    Result<void> save(const ContainerState& state) const;
    // Fails with "container 'x' does not exist".
    Result<ContainerState> load(const std::string& id) const;
    Result<void> remove(const std::string& id) const;
    Result<std::vector<std::string>> list() const;

private:
    std::string root_;
};

// Whether the recorded pid is still the container's process (not a reused pid).
bool process_alive(const ContainerState& state);
// The spec's state JSON ("ociVersion", "id", "status", "pid", "bundle", "annotations").
std::string state_json(const ContainerState& state, Status status);
std::string now_rfc3339();

}  // namespace berth::runtime
