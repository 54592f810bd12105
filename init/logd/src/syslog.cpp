#include "berth/logd/syslog.hpp"

#include <cctype>
#include <charconv>

namespace berth::logd {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "<PRI>" with 1-3 digits and PRI <= 191 (facility 23, severity 7).
bool take_priority(std::string_view& text, Priority& priority) {
    if (text.size() < 3 || text[0] != '<') return false;
    std::size_t close = text.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4) return false;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + 1, text.data() + close, value);
    if (ec != std::errc() || end != text.data() + close || value > 191) return false;
    priority = priority_from(value);
    text.remove_prefix(close + 1);
    return true;
}

// RFC 3164's "Mmm dd hh:mm:ss " (day space-padded): syslog(3) sends it; logd stamps its own time.
void skip_timestamp(std::string_view& text) {
    static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (text.size() < 16 || text[3] != ' ') return;
    std::size_t month = kMonths.find(text.substr(0, 3));
    if (month == std::string_view::npos || month % 3 != 0) return;
    const std::string_view rest = text.substr(4, 12);  // "dd hh:mm:ss "
    bool day = (rest[0] == ' ' || is_digit(rest[0])) && is_digit(rest[1]) && rest[2] == ' ';
    bool clock = is_digit(rest[3]) && is_digit(rest[4]) && rest[5] == ':' && is_digit(rest[6]) &&
                 is_digit(rest[7]) && rest[8] == ':' && is_digit(rest[9]) && is_digit(rest[10]) && rest[11] == ' ';
    if (day && clock) text.remove_prefix(16);
}

// "TAG: " or "TAG[PID]: ", the tag up to 48 characters, none of " [:<"; else leaves text untouched.
void take_tag(std::string_view& text, SyslogMessage& message) {
    std::size_t end = 0;
    while (end < text.size() && end <= 48 && text[end] != ':' && text[end] != '[' && text[end] != ' ' &&
           text[end] != '<')
        ++end;
    if (end == 0 || end > 48 || end == text.size()) return;
    std::string_view tag = text.substr(0, end);
    std::string_view rest = text.substr(end);
    std::optional<long> pid;
    if (rest[0] == '[') {
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return;
        long value = 0;
        auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + close, value);
        if (ec != std::errc() || p != rest.data() + close) return;
        pid = value;
        rest.remove_prefix(close + 1);
    }
    if (rest.empty() || rest[0] != ':') return;
    rest.remove_prefix(1);
    if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    message.tag = std::string(tag);
    message.pid = pid;
    text = rest;
}

}  // namespace

SyslogMessage parse_syslog_message(std::string_view datagram) {
    while (!datagram.empty() && (datagram.back() == '\n' || datagram.back() == '\0')) datagram.remove_suffix(1);
    SyslogMessage message;
    take_priority(datagram, message.priority);
    skip_timestamp(datagram);
    take_tag(datagram, message);
    message.text = std::string(datagram);
    return message;
}

std::string syslog_disk_text(const SyslogMessage& message) {
    std::string text = priority_name(message.priority) + " ";
    if (!message.tag.empty()) {
        text += message.tag;
        if (message.pid) text += "[" + std::to_string(*message.pid) + "]";
        text += ": ";
    }
    return text + message.text;
}

}  // namespace berth::logd
