// One log record as logd stores it, and its on-disk line:
// "2026-11-24T06:17:20.212Z <service> <stdout|stderr|kernel|syslog> <text>\n".
#pragma once

#include <string>
#include <string_view>

#include "berth/supervisor/clock.hpp"

namespace berth::logd {

enum class Stream { Stdout, Stderr, Kernel, Syslog };
const char* stream_name(Stream stream);  // "stdout", "stderr", "kernel", "syslog"

struct LogRecord {
    std::string service;  // also the file name: <service>.log
    supervisor::WallTime time;
    Stream stream = Stream::Stdout;
    std::string text;
};

// A log (= file) name: 1-64 of [a-z0-9_.-], not starting with '.', so it can never leave the
// log directory or hide ("..", ".x"). Service names from manifests ([a-z0-9-]) all qualify.
bool is_valid_log_name(std::string_view name);

// The record as one line, '\n' included. Control characters in the text are escaped
// ("\n" → "\\n", others → "\\xHH") so that one record is always one line.
std::string format_disk_line(const LogRecord& record);

}  // namespace berth::logd
