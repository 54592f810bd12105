#include "berth/supervisor/exit_status.hpp"

#include <sys/wait.h>

namespace berth::supervisor {

ExitStatus ExitStatus::from_wait_status(int wait_status) {
    if (WIFSIGNALED(wait_status)) return signaled(WTERMSIG(wait_status));
    return exited(WEXITSTATUS(wait_status));
}

std::string ExitStatus::describe() const {
    if (kind == Kind::Signaled) return "killed by " + signal_name(value);
    return "exited with code " + std::to_string(value);
}

std::string ExitStatus::short_text() const {
    return kind == Kind::Signaled ? signal_name(value) : std::to_string(value);
}

}  // namespace berth::supervisor
