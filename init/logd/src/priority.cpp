#include "berth/logd/priority.hpp"

namespace berth::logd {

Priority priority_from(unsigned value) {
    return Priority{static_cast<int>(value >> 3), static_cast<int>(value & 7)};
}

std::string priority_name(Priority priority) {
    static const char* const kFacilities[] = {"kern", "user",     "mail", "daemon", "auth", "syslog",
                                              "lpr",  "news",     "uucp", "cron",   "authpriv", "ftp",
                                              "ntp",  "security", "console", "clock"};
    static const char* const kSeverities[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
    std::string name;
    if (priority.facility >= 0 && priority.facility < 16) name = kFacilities[priority.facility];
    else if (priority.facility >= 16 && priority.facility < 24) name = "local" + std::to_string(priority.facility - 16);
    else name = std::to_string(priority.facility);
    return name + "." + kSeverities[priority.severity & 7];
}

}  // namespace berth::logd
