// berthctl update ...: checking bundles offline, and the update requests to berth-init.
#pragma once

#include <string>
#include <vector>

#include "berth/result.hpp"

// args[0] is "update". Returns the exit code.
berth::Result<int> update_command(const std::string& socket_path, const std::vector<std::string>& args);
