#include "berth/runtime/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth/sys.hpp"

namespace berth::runtime {
namespace {

Result<void> run_hook(const Hook& hook, const std::string& state_json, const std::string& name) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) < 0) return fail_sys(name + ": pipe");
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys(name + ": fork");
    if (pid == 0) {
        ::dup2(in[0], STDIN_FILENO);
        std::vector<std::string> argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
        std::vector<char*> args, env;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> envs = hook.env;
        for (auto& e : envs) env.push_back(e.data());
        env.push_back(nullptr);
        ::execve(hook.path.c_str(), args.data(), env.data());
        ::_exit(127);
    }
    ::close(in[0]);
    // A hook may not read its stdin; ignore EPIPE rather than fail the hook for it.
    ::signal(SIGPIPE, SIG_IGN);
    (void)sys::write_all(in[1], state_json);
    ::close(in[1]);

    // Wait with a timeout through a pidfd, so a hung hook cannot hang the runtime.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0 && hook.timeout_seconds) {
        struct pollfd p{pidfd, POLLIN, 0};
        int ready = ::poll(&p, 1, *hook.timeout_seconds * 1000);
        if (ready == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            ::close(pidfd);
            return fail(name + ": timed out after " + std::to_string(*hook.timeout_seconds) + "s");
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fail_sys(name + ": wait");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return fail(name + ": could not execute '" + hook.path + "'");
    if (WIFEXITED(status)) return fail(name + ": exited with status " + std::to_string(WEXITSTATUS(status)));
    return fail(name + ": killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace

Result<void> run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* kind) {
    for (size_t i = 0; i < hooks.size(); ++i)
        TRY(run_hook(hooks[i], state_json, std::string("hooks.") + kind + "[" + std::to_string(i) + "] '" + hooks[i].path + "'"));
    return {};
}

}  // namespace berth::runtime
