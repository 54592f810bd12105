// OCI hooks: run with the container's state JSON on stdin, bounded by their timeout.
#pragma once

#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime {

// Runs each hook in order; stops at the first failure. `kind` names the hook list in errors.
Result<void> run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* kind);

}  // namespace berth::runtime
