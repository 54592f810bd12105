// logd's command line: --dir DIR --ingest PATH --syslog PATH --kmsg PATH --max-bytes N --keep N.
#pragma once

#include <string>
#include <vector>

#include "berth/logd/rotating_log.hpp"
#include "berth/paths.hpp"
#include "berth/result.hpp"

namespace berth::logd {

struct Options {
    std::string dir = paths::kLogs;
    std::string ingest_socket = "/run/logd/ingest.sock";
    std::string syslog_socket = "/run/logd/log";  // "" disables
    std::string kmsg_path = "/dev/kmsg";          // "" disables
    RotationPolicy rotation;
};

inline constexpr const char* kUsage =
    "usage: logd [--dir DIR] [--ingest PATH] [--syslog PATH|''] [--kmsg PATH|''] [--max-bytes N] [--keep N]";

// args excludes argv[0]. Accepts "--flag value" and "--flag=value".
Result<Options> parse_options(const std::vector<std::string>& args);

}  // namespace berth::logd
