#include "berth/logd/kmsg.hpp"

#include "berth/parse_integer.hpp"

namespace berth::logd {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<std::uint64_t> number_field(std::string_view field, const char* what) {
    auto value = parse_integer<std::uint64_t>(field);
    if (!value) return fail(std::string("bad ") + what + " '" + std::string(field) + "'");
    return *value;
}

// Cuts text at the first `separator`, returning what came before it.
std::string_view take_until(std::string_view& text, char separator) {
    std::size_t at = text.find(separator);
    std::string_view head = text.substr(0, at);
    text.remove_prefix(at == std::string_view::npos ? text.size() : at + 1);
    return head;
}

}  // namespace

std::string unescape_kmsg(std::string_view text) {
    std::string result;
    result.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x' && hex_value(text[i + 2]) >= 0 &&
            hex_value(text[i + 3]) >= 0) {
            result += static_cast<char>(hex_value(text[i + 2]) * 16 + hex_value(text[i + 3]));
            i += 3;
        } else {
            result += text[i];
        }
    }
    return result;
}

Result<KmsgRecord> parse_kmsg_record(std::string_view record) {
    std::size_t semicolon = record.find(';');
    if (semicolon == std::string_view::npos) return fail("missing ';' after the header");
    std::string_view header = record.substr(0, semicolon);
    std::string_view body = record.substr(semicolon + 1);

    KmsgRecord result;
    std::uint64_t prio = TRY(number_field(take_until(header, ','), "priority"));
    if (prio > 0xffff) return fail("bad priority '" + std::to_string(prio) + "'");
    result.priority = priority_from(static_cast<unsigned>(prio));
    if (header.empty()) return fail("missing sequence number");
    result.seq = TRY(number_field(take_until(header, ','), "sequence number"));
    if (header.empty()) return fail("missing timestamp");
    result.usec = TRY(number_field(take_until(header, ','), "timestamp"));
    // Then flags ('-', 'c', '+') and, on newer kernels, more fields ("caller=T1"): not needed.

    result.text = unescape_kmsg(take_until(body, '\n'));
    while (!body.empty()) {
        std::string_view line = take_until(body, '\n');
        if (line.empty() || line[0] != ' ') continue;  // continuation lines start with a space
        line.remove_prefix(1);
        std::size_t equals = line.find('=');
        if (equals == std::string_view::npos) continue;
        result.properties.emplace_back(unescape_kmsg(line.substr(0, equals)), unescape_kmsg(line.substr(equals + 1)));
    }
    return result;
}

}  // namespace berth::logd
