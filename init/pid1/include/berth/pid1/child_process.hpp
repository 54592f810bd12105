// Work that PID 1 hands to a short-lived child process, so that the code and memory it needs once
// (TOML parsing, module dependencies, ...) never become part of PID 1's resident memory, which
// lasts as long as the machine. The child's effects on the machine (mounts, files, modules) stay.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "berth/result.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {

// A child process at work (start_in_child); its answer is collected once, by answer(). If nobody
// asks, abandon() (or the destructor) reaps it (a child still writing then gets EPIPE).
class ChildTask {
public:
    ChildTask(pid_t pid, sys::UniqueFd answer_pipe) : pid_(pid), pipe_(std::move(answer_pipe)) {}
    ChildTask(ChildTask&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), pipe_(std::move(other.pipe_)), received_(std::move(other.received_)) {}
    ChildTask& operator=(ChildTask&&) = delete;
    ~ChildTask() { abandon(); }
    // Waits for the child. Fails if it did not exit 0 after sending its answer.
    Result<std::string> answer();
    // The answer is not wanted: closes the pipe and reaps the child now.
    void abandon();

    // For a loop that does not wait: the pipe to watch, and what it has brought so far.
    int answer_fd() const { return pipe_.get(); }
    pid_t pid() const { return pid_; }
    // Reads what the pipe holds now (non-blocking); true once the child has closed it.
    Result<bool> read_available();
    std::string take_received() { return std::move(received_); }
    // The loop's waitpid(-1) reaped the child: nothing is left to reap (nor to kill).
    void reaped() { pid_ = -1; }
    // Gives up on a child that is still at work: SIGKILL, then reaped.
    void kill_and_reap();
    // For a loop that reaps every child itself (waitpid(-1)): forgets the child without waiting
    // for it, as one stuck on a disk would block the caller; `stop` sends it SIGKILL first.
    void leave_to_reaper(bool stop);

private:
    int reap();
    pid_t pid_;
    sys::UniqueFd pipe_;
    std::string received_;
};

// How the caller takes the answer: answer() waits; Watched: a loop reads what has come
// (read_available) when the pipe is readable, never blocking.
enum class ChildAnswer { Awaited, Watched };

// Forks; the child runs `produce` and sends back what it returns, while the caller goes on.
Result<ChildTask> start_in_child(const std::function<std::string()>& produce, ChildAnswer how = ChildAnswer::Awaited);

// The same, waiting for the answer. On failure the caller does the work itself.
Result<std::string> run_in_child(const std::function<std::string()>& produce);

// Runs a program in a child process: `input` (or /dev/null when < 0) as its standard input, its
// standard output the task's pipe (non-blocking), stderr shared with PID 1 (the console).
Result<ChildTask> start_program(const std::vector<std::string>& argv, int input);

}  // namespace berth::pid1
