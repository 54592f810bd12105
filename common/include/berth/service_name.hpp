// The one rule for service names: the manifest's file name, the control socket's requests and
// the supervisor's services all go through it.
#pragma once

#include <string_view>

namespace berth {

// [a-z0-9][a-z0-9-]*, at most 63 characters: a file name, a hostname label and a cgroup name.
bool is_valid_service_name(std::string_view name);

}  // namespace berth
