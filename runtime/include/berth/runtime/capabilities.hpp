// Linux capabilities: names, set arithmetic, and applying the five sets (libcap).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/runtime/spec.hpp"

namespace berth::runtime::caps {

// "CAP_SYS_ADMIN" → 21. Error text: "unknown capability 'CAP_FOO'".
Result<int> from_name(std::string_view name);
// 21 → "CAP_SYS_ADMIN"; numbers libcap does not know become "CAP_<n>".
std::string to_name(int cap);
// Highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_cap();
uint64_t to_mask(const std::vector<int>& caps);
std::vector<int> from_mask(uint64_t mask);  // ascending
std::vector<int> all();                      // 0..last_cap()
// Docker's 14 default capabilities; as CapEff: 00000000a80425fb.
std::vector<int> docker_default();

// Container init, before changing uid: shrink the bounding set to `keep`.
Result<void> drop_bounding(const std::vector<int>& keep);
// Container init, after setuid (with PR_SET_KEEPCAPS): set effective, permitted and
// inheritable, then raise the ambient set.
Result<void> apply(const CapabilitySets& sets);

}  // namespace berth::runtime::caps
