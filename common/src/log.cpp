#include "berth/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace berth::log {
namespace {

int log_fd = STDERR_FILENO;
Format log_format = Format::Text;
bool log_debug = false;
bool boot_clock = false;

const char* level_name(Level level) {
    switch (level) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warning: return "warning";
        case Level::Error: return "error";
    }
    return "info";
}

std::string timestamp() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

std::string boot_time_prefix() {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    char buf[32];
    snprintf(buf, sizeof buf, "[%5ld.%06ld] ", static_cast<long>(ts.tv_sec), ts.tv_nsec / 1000);
    return buf;
}

}  // namespace

void use_boot_clock(bool on) { boot_clock = on; }

bool configure(const std::string& path, Format format, bool debug) {
    log_format = format;
    log_debug = debug;
    if (path.empty()) return true;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    log_fd = fd;
    return true;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

void write(Level level, std::string_view message) {
    if (level == Level::Debug && !log_debug) return;
    std::string line;
    if (log_format == Format::Json) {
        line = "{\"level\":\"" + std::string(level_name(level)) + "\",\"msg\":\"" + json_escape(message) +
               "\",\"time\":\"" + timestamp() + "\"}\n";
    } else if (log_fd == STDERR_FILENO) {
        line = (boot_clock ? boot_time_prefix() : std::string()) + "berth: " + std::string(level == Level::Error ? "" : std::string(level_name(level)) + ": ") +
               std::string(message) + "\n";
    } else {
        line = timestamp() + " " + level_name(level) + " " + std::string(message) + "\n";
    }
    // One write per line keeps lines whole when several processes share the file.
    (void)!::write(log_fd, line.data(), line.size());
}

}  // namespace berth::log
