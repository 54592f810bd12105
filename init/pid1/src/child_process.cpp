#include "berth/pid1/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace berth::pid1 {

int ChildTask::reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
}

void ChildTask::abandon() {
    if (pid_ <= 0) return;
    pipe_.reset();
    reap();
}

Result<std::string> ChildTask::answer() {
    if (pid_ <= 0) return fail("the helper process's answer was taken already");
    auto answer = sys::read_all(pipe_.get());
    pipe_.reset();
    int status = reap();
    if (!answer) return fail(answer.error());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("the helper process failed");
    return answer;
}

Result<bool> ChildTask::read_available() {
    if (!pipe_) return true;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(pipe_.get(), buf, sizeof buf);
        if (n > 0) {
            received_.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) {
            pipe_.reset();
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return false;
        return fail_sys("read the helper process's answer");
    }
}

void ChildTask::leave_to_reaper(bool stop) {
    if (stop && pid_ > 0) ::kill(pid_, SIGKILL);
    pid_ = -1;
    pipe_.reset();
}

void ChildTask::kill_and_reap() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    abandon();
}

Result<ChildTask> start_in_child(const std::function<std::string()>& produce, ChildAnswer how) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return fail_sys("pipe");
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        read_end.reset();
        ::_exit(sys::write_all(write_end.get(), produce()) ? 0 : 1);
    }
    if (how == ChildAnswer::Watched && ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) < 0)
        return fail_sys("helper process pipe");  // the ChildTask is not made: read_end's close ends the child's write
    return ChildTask(pid, std::move(read_end));
}

Result<ChildTask> start_program(const std::vector<std::string>& argv, int input) {
    if (argv.empty()) return fail("no program to run");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return fail_sys("pipe");
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) < 0) return fail_sys("make the pipe non-blocking");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        // PID 1 blocks the signals it reads through signalfd: the program gets the defaults back.
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (::dup2(input >= 0 ? input : null, STDIN_FILENO) < 0 || ::dup2(write_end.get(), STDOUT_FILENO) < 0) ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return ChildTask(pid, std::move(read_end));
}

Result<std::string> run_in_child(const std::function<std::string()>& produce) {
    return TRY(start_in_child(produce)).answer();
}

}  // namespace berth::pid1
