#include "berth/manifest/units.hpp"

#include <array>
#include <cctype>

namespace berth::manifest {
namespace {

// Reads a run of decimal digits at `pos`; nullopt when there are none or they overflow.
std::optional<uint64_t> read_number(std::string_view text, size_t& pos, bool& overflow) {
    size_t start = pos;
    uint64_t value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, text[pos] - '0', &value))
            overflow = true;
        ++pos;
    }
    if (pos == start) return std::nullopt;
    return value;
}

struct DurationUnit {
    std::string_view name;
    uint64_t milliseconds;
};
// Largest first: a duration lists its parts in this order.
constexpr std::array<DurationUnit, 4> kDurationUnits{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
    std::string quoted = "'";
    quoted.append(text).append("'");
    const std::string expected = " (expected e.g. \"100ms\", \"2s\", \"1m30s\", \"1h\")";
    if (text.empty()) return fail("invalid duration ''" + expected);
    size_t pos = 0;
    size_t next_unit = 0;  // index into kDurationUnits: parts must get smaller
    uint64_t total = 0;
    bool overflow = false;
    while (pos < text.size()) {
        auto number = read_number(text, pos, overflow);
        if (!number) return fail("invalid duration " + quoted + expected);
        size_t unit_start = pos;
        while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
        std::string_view unit = text.substr(unit_start, pos - unit_start);
        if (unit.empty() && pos == text.size())
            return fail("invalid duration " + quoted + ": a unit (h, m, s or ms) is required after the number");
        if (unit.empty()) return fail("invalid duration " + quoted + expected);
        size_t found = kDurationUnits.size();
        for (size_t i = 0; i < kDurationUnits.size(); ++i)
            if (kDurationUnits[i].name == unit) found = i;
        if (found == kDurationUnits.size())
            return fail("invalid duration " + quoted + ": unknown unit '" + std::string(unit) + "' (use h, m, s or ms)");
        if (found < next_unit)
            return fail("invalid duration " + quoted + ": units must go from largest to smallest, each once");
        next_unit = found + 1;
        uint64_t part = 0;
        if (__builtin_mul_overflow(*number, kDurationUnits[found].milliseconds, &part) ||
            __builtin_add_overflow(total, part, &total))
            overflow = true;
    }
    // Duration holds int64 milliseconds; a year is far beyond any sensible timeout anyway.
    if (overflow || total > static_cast<uint64_t>(INT64_MAX)) return fail("invalid duration " + quoted + ": too large");
    return Duration(static_cast<int64_t>(total));
}

std::string format_duration(Duration duration) {
    uint64_t left = static_cast<uint64_t>(duration.count() < 0 ? 0 : duration.count());
    if (left == 0) return "0s";
    std::string out;
    for (const auto& unit : kDurationUnits) {
        if (left < unit.milliseconds) continue;
        out += std::to_string(left / unit.milliseconds) + std::string(unit.name);
        left %= unit.milliseconds;
    }
    return out;
}

Result<uint64_t> parse_size(std::string_view text) {
    std::string invalid = "invalid size '";
    invalid.append(text).append("'");
    size_t pos = 0;
    bool overflow = false;
    auto number = read_number(text, pos, overflow);
    if (!number) return fail(invalid + " (expected e.g. \"64M\", \"512Ki\", \"1G\" or a number of bytes)");
    std::string_view suffix = text.substr(pos);
    static constexpr std::pair<std::string_view, uint64_t> suffixes[] = {
        {"", 1},
        {"K", 1000ULL},        {"M", 1000ULL * 1000},        {"G", 1000ULL * 1000 * 1000},
        {"T", 1000ULL * 1000 * 1000 * 1000},
        {"Ki", 1ULL << 10},    {"Mi", 1ULL << 20},           {"Gi", 1ULL << 30},    {"Ti", 1ULL << 40},
    };
    for (const auto& [name, factor] : suffixes) {
        if (suffix != name) continue;
        uint64_t bytes = 0;
        if (overflow || __builtin_mul_overflow(*number, factor, &bytes) || bytes > static_cast<uint64_t>(INT64_MAX))
            return fail(invalid + ": too large");
        return bytes;
    }
    return fail(invalid + ": unknown suffix '" + std::string(suffix) + "' (use K, M, G, T or Ki, Mi, Gi, Ti)");
}

}  // namespace berth::manifest
