// Wall-clock times as text: RFC 3339 for the control protocol and log records.
#pragma once

#include <string>
#include <string_view>

#include "berth/result.hpp"
#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

// "2024-05-01T12:00:00.123Z": UTC, milliseconds.
std::string format_rfc3339(WallTime time);

// "2024-05-01T12:00:00Z", "2024-05-01t12:00:00.5+02:00", "2024-05-01 12:00:00z" (RFC 3339 § 5.6,
// which allows the space). Fractional digits beyond microseconds are ignored.
Result<WallTime> parse_rfc3339(std::string_view text);

// "1714564800" or "1714564800.25": seconds since the Unix epoch, not negative.
Result<WallTime> parse_unix_seconds(std::string_view text);

}  // namespace berth::supervisor
