// Syslog datagrams as syslog(3) and busybox send them to /dev/log, RFC 3164-ish:
// "<PRI>Mmm dd hh:mm:ss TAG[PID]: message", every part but the message optional.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "berth/logd/priority.hpp"

namespace berth::logd {

struct SyslogMessage {
    Priority priority;  // user.notice when absent, as RFC 3164 § 4.3.3 says
    std::string tag;    // empty when absent
    std::optional<long> pid;
    std::string text;
};

// Never fails: what cannot be recognised is kept as message text.
SyslogMessage parse_syslog_message(std::string_view datagram);

// The text logd writes: "user.err cron[42]: message" (tag and pid kept, as given).
std::string syslog_disk_text(const SyslogMessage& message);

}  // namespace berth::logd
