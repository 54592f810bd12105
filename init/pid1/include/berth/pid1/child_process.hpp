// Work that PID 1 hands to a short-lived child process, so that the code and memory it needs once
// (TOML parsing, module dependencies, ...) never become part of PID 1's resident memory, which
// lasts as long as the machine. The child's effects on the machine (mounts, files, modules) stay.
#pragma once

#include <functional>
#include <string>

#include "berth/result.hpp"

namespace berth::pid1 {

// Forks; the child runs `produce` and sends back what it returns. Fails if the child could not
// run or did not exit 0 after sending its answer; the caller then does the work itself.
Result<std::string> run_in_child(const std::function<std::string()>& produce);

}  // namespace berth::pid1
