// berthctl update ...: checking bundles offline, and the update requests to berth-init.
#pragma once

#include <string>
#include <vector>

#include "berth/result.hpp"

// Reads one response line from berth-init (keeping what follows it in `buffer`).
berth::Result<std::string> read_response_line(int fd, std::string& buffer);

// args[0] is "update". Returns the exit code.
berth::Result<int> update_command(const std::string& socket_path, const std::vector<std::string>& args, bool as_json);
