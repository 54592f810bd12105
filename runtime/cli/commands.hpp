// One function per `berth` subcommand. Each returns the process exit code; errors
// come back as Result and are printed once, by main.
#pragma once

#include <string>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/container.hpp"

namespace berth::cli {

using Args = std::vector<std::string>;

Result<int> cmd_create(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_start(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_run(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_state(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_kill(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_delete(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_exec(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_list(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_ps(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_pause(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_resume(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_features(const runtime::Runtime& rt, const Args& args);
Result<int> cmd_spec(const runtime::Runtime& rt, const Args& args);

}  // namespace berth::cli
