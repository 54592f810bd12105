// `berthctl update ...` as PID 1 sees it: a child process (the update program, berth-update)
// whose output lines are relayed to the client. PID 1 reads no byte of a bundle and keeps no
// update state: the bundle's file descriptor goes straight to the child as its standard input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/pid1/child_process.hpp"
#include "berth/result.hpp"
#include "berth/supervisor/control_protocol.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {

class UpdateJob {
public:
    // The program's arguments for a request: "apply --allow-downgrade ...".
    static std::vector<std::string> arguments(const supervisor::control::UpdateRequest& request);
    static Result<UpdateJob> start(const std::vector<std::string>& program, const supervisor::control::UpdateRequest& request,
                                   uint64_t client, sys::UniqueFd bundle);

    uint64_t client() const { return client_; }
    const supervisor::control::UpdateRequest& request() const { return request_; }
    int output_fd() const { return task_.answer_fd(); }
    pid_t pid() const { return task_.pid(); }

    // Reads what the job wrote: each progress line goes to `progress` (newline included); the
    // last other line is kept as the answer.
    Result<void> read(const std::function<void(const std::string&)>& progress);
    void reaped(int status);
    bool finished() const { return output_closed_ && status_.has_value(); }
    // The answer line (newline included), and whether it says the job succeeded.
    std::pair<std::string, bool> answer() const;
    // Shutdown with a job still at work: it is stopped (an apply cut short leaves the target
    // slot without a boot entry, like a power cut would).
    void kill() { task_.kill_and_reap(); }

private:
    UpdateJob(ChildTask task, supervisor::control::UpdateRequest request, uint64_t client)
        : task_(std::move(task)), request_(std::move(request)), client_(client) {}

    ChildTask task_;
    supervisor::control::UpdateRequest request_;
    uint64_t client_;
    std::string partial_, answer_;
    bool output_closed_ = false;
    std::optional<int> status_;
};

}  // namespace berth::pid1
