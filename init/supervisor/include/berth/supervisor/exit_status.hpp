// How a service's process ended: an exit code or a terminating signal.
#pragma once

#include <string>

#include "berth/signals.hpp"

namespace berth::supervisor {

struct ExitStatus {
    enum class Kind { Exited, Signaled };
    Kind kind = Kind::Exited;
    int value = 0;  // the exit code, or the signal number

    static ExitStatus exited(int code) { return {Kind::Exited, code}; }
    static ExitStatus signaled(int signal) { return {Kind::Signaled, signal}; }
    // From waitpid()'s status word (macros only; the loop does the waiting).
    static ExitStatus from_wait_status(int wait_status);

    bool success() const { return kind == Kind::Exited && value == 0; }
    // "exited with code 3", "killed by SIGSEGV": for logs and last_error.
    std::string describe() const;
    // "3", "SIGSEGV": for the LAST-EXIT column.
    std::string short_text() const;

    bool operator==(const ExitStatus&) const = default;
};

// "SIGTERM" for the usual signals, else the number ("42"): the one signal table's names.
using ::berth::signal_name;

}  // namespace berth::supervisor
