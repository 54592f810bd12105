// The ingest protocol, berth-init → logd: a SOCK_SEQPACKET Unix socket, one record per message,
// each a JSON object {"service":S,"time":"RFC3339","stream":"stdout"|"stderr","line":L}.
#pragma once

#include <cstddef>
#include <string_view>

#include "berth/logd/record.hpp"
#include "berth/result.hpp"

namespace berth::logd {

// Larger messages are dropped as bad records (berth-init's ring caps lines well below this).
inline constexpr std::size_t kMaxIngestMessageBytes = 64 * 1024;

// Strict: exactly those four keys with those types, a valid log name, a valid RFC 3339 time.
// Errors name the offending key, e.g. "\"stream\" must be \"stdout\" or \"stderr\", not 'x'".
Result<LogRecord> parse_ingest_record(std::string_view message);

}  // namespace berth::logd
