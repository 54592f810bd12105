// The two unit formats of manifests: durations ("100ms", "1m30s") and sizes ("64M", "1Gi").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/result.hpp"
#include "berth/manifest/manifest.hpp"

namespace berth::manifest {

// One or more <digits><unit> with units h, m, s, ms, each at most once, largest first:
// "100ms", "2s", "1h", "1m30s". Errors say what is wrong without the key ("invalid duration ...").
Result<Duration> parse_duration(std::string_view text);
// "1m30s" for 90000ms; the inverse of parse_duration.
std::string format_duration(Duration duration);

// <digits> with an optional suffix: K M G T (powers of 1000) or Ki Mi Gi Ti (powers of 1024).
Result<uint64_t> parse_size(std::string_view text);

}  // namespace berth::manifest
