// Input numbers, parsed without exceptions: the whole text must be one decimal integer that fits
// T. Everything a client, a file or the kernel command line hands us goes through here (never
// stoi/atoi/strtol: they throw, or silently read "12abc" as 12 and a huge value as LONG_MAX).
#pragma once

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

namespace berth {

// "42" → 42; "", " 42", "+42", "42x", "0x2a" and values outside T's range → nullopt.
// A leading '-' is accepted only for signed T.
template <std::integral T>
std::optional<T> parse_integer(std::string_view text) {
    T value{};
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
    return value;
}

// As above, and within [min, max].
template <std::integral T>
std::optional<T> parse_integer(std::string_view text, T min, T max) {
    auto value = parse_integer<T>(text);
    if (!value || *value < min || *value > max) return std::nullopt;
    return value;
}

}  // namespace berth
