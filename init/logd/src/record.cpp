#include "berth/logd/record.hpp"

#include <algorithm>

#include "berth/supervisor/wall_time.hpp"

namespace berth::logd {

const char* stream_name(Stream stream) {
    switch (stream) {
        case Stream::Stdout: return "stdout";
        case Stream::Stderr: return "stderr";
        case Stream::Kernel: return "kernel";
        case Stream::Syslog: return "syslog";
    }
    return "stdout";
}

bool is_valid_log_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

std::string format_disk_line(const LogRecord& record) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string line = supervisor::format_rfc3339(record.time);
    line.reserve(line.size() + record.service.size() + record.text.size() + 16);
    line.append(1, ' ').append(record.service).append(1, ' ').append(stream_name(record.stream)).append(1, ' ');
    for (char c : record.text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '\n') line += "\\n";
        else if (c == '\r') line += "\\r";
        else if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
            line += "\\x";
            line += kHex[byte >> 4];
            line += kHex[byte & 0xf];
        } else {
            line += c;
        }
    }
    line += '\n';
    return line;
}

}  // namespace berth::logd
