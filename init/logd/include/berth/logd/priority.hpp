// Syslog priorities (facility * 8 + severity), shared by /dev/kmsg and syslog records.
#pragma once

#include <string>

namespace berth::logd {

struct Priority {
    int facility = 1;  // user
    int severity = 5;  // notice
};

Priority priority_from(unsigned value);  // value & 7 is the severity, value >> 3 the facility
// "kern.info", "user.err", "local3.debug"; unknown facilities as their number.
std::string priority_name(Priority priority);

}  // namespace berth::logd
