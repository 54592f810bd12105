#include "berth/pid1/child_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "berth/sys.hpp"

namespace berth::pid1 {

Result<std::string> run_in_child(const std::function<std::string()>& produce) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return fail_sys("pipe");
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        read_end.reset();
        ::_exit(sys::write_all(write_end.get(), produce()) ? 0 : 1);
    }
    write_end.reset();
    auto answer = sys::read_all(read_end.get());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!answer) return fail(answer.error());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("the helper process failed");
    return answer;
}

}  // namespace berth::pid1
