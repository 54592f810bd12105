// /dev/kmsg records: each read() returns one, "prio,seq,usec,flags[,...];text\n" followed by
// continuation lines " KEY=value\n". Non-printable bytes and '\' arrive escaped as "\xHH".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/logd/priority.hpp"
#include "berth/result.hpp"

namespace berth::logd {

struct KmsgRecord {
    Priority priority;
    std::uint64_t seq = 0;
    std::uint64_t usec = 0;  // CLOCK_MONOTONIC when the kernel logged it
    std::string text;        // unescaped
    std::vector<std::pair<std::string, std::string>> properties;  // SUBSYSTEM=, DEVICE=, unescaped
};

Result<KmsgRecord> parse_kmsg_record(std::string_view record);

// "\x0a" → '\n'; an incomplete or non-hex escape stays as written.
std::string unescape_kmsg(std::string_view text);

}  // namespace berth::logd
