#include "berth/supervisor/wall_time.hpp"

#include <cstdio>
#include <optional>

namespace berth::supervisor {

namespace {

// (Not "'" + std::string(text): GCC 12 warns -Wrestrict on that at -O2, a false positive.)
std::string quoted(std::string_view text) {
    std::string result(1, '\'');
    result.append(text).push_back('\'');
    return result;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `width` digits at text[at...].
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t width) {
    if (at + width > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + width; ++i) {
        if (!is_digit(text[i])) return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

// Up to 6 fractional digits as microseconds; more digits are accepted and ignored.
std::chrono::microseconds fraction(std::string_view digits_text) {
    long long micros = 0;
    for (std::size_t i = 0; i < 6; ++i)
        micros = micros * 10 + (i < digits_text.size() ? digits_text[i] - '0' : 0);
    return std::chrono::microseconds(micros);
}

// WallTime counts nanoseconds in 64 bits (years 1677-2262); refuse what would overflow it.
Result<WallTime> to_wall_time(std::chrono::microseconds since_epoch, std::string_view text) {
    using namespace std::chrono;
    const auto limit = duration_cast<microseconds>(WallTime::duration::max()) - 1s;
    if (since_epoch > limit || since_epoch < -limit)
        return fail(quoted(text) + " is out of range (years 1678-2261)");
    return WallTime(duration_cast<WallTime::duration>(since_epoch));
}

}  // namespace

std::string format_rfc3339(WallTime time) {
    using namespace std::chrono;
    const auto millis = floor<milliseconds>(time);
    const auto day = floor<days>(millis);
    const year_month_day date{day};
    const hh_mm_ss clock{millis - day};
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
    return text;
}

Result<WallTime> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    auto invalid = [&] { return fail(quoted(text) + " is not an RFC 3339 time (like 2024-05-01T12:00:00Z)"); };
    // YYYY-MM-DDTHH:MM:SS
    const auto y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
    const auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':')
        return invalid();
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return invalid();
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return invalid();  // 60: a leap second

    std::size_t at = 19;
    microseconds sub{0};
    if (at < text.size() && text[at] == '.') {
        const std::size_t begin = ++at;
        while (at < text.size() && is_digit(text[at])) ++at;
        if (at == begin) return invalid();
        sub = fraction(text.substr(begin, at - begin));
    }
    minutes offset{0};
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const auto oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
        if (!oh || !om || text[at + 3] != ':' || *oh > 23 || *om > 59) return invalid();
        offset = hours(*oh) + minutes(*om);
        if (text[at] == '-') offset = -offset;
        at += 6;
    } else {
        return invalid();  // the offset is mandatory: a time without one is ambiguous
    }
    if (at != text.size()) return invalid();

    const auto local = sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s) + sub;  // microseconds: no overflow
    return to_wall_time((local - offset).time_since_epoch(), text);
}

Result<WallTime> parse_unix_seconds(std::string_view text) {
    auto invalid = [&] { return fail(quoted(text) + " is not a number of seconds since 1970"); };
    std::size_t at = 0;
    long long whole = 0;
    while (at < text.size() && is_digit(text[at])) {
        if (whole > 1'000'000'000'000LL) return invalid();  // far beyond any real time; keeps the sum exact
        whole = whole * 10 + (text[at++] - '0');
    }
    if (at == 0) return invalid();
    std::chrono::microseconds sub{0};
    if (at < text.size() && text[at] == '.') {
        const std::size_t begin = ++at;
        while (at < text.size() && is_digit(text[at])) ++at;
        if (at == begin) return invalid();
        sub = fraction(text.substr(begin, at - begin));
    }
    if (at != text.size()) return invalid();
    return to_wall_time(std::chrono::seconds(whole) + sub, text);
}

}  // namespace berth::supervisor
