#include "berth/update/version.hpp"

#include <algorithm>
#include <cstring>

namespace berth::update {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Everything else is skipped as a separator before each comparison step.
bool is_version_char(char c) { return is_digit(c) || is_letter(c) || std::strchr("~-^.", c) != nullptr; }
int sign(long long v) { return (v > 0) - (v < 0); }

size_t span_of(std::string_view s, bool (*pred)(char)) {
    size_t n = 0;
    while (n < s.size() && pred(s[n])) ++n;
    return n;
}

// When one side starts with the marker and the other does not, the side with it is older; when
// both do, both skip it.
bool differs_at(std::string_view& a, std::string_view& b, char marker, int& out) {
    bool ma = !a.empty() && a[0] == marker, mb = !b.empty() && b[0] == marker;
    if (ma != mb) {
        out = ma ? -1 : 1;
        return true;
    }
    if (ma) {
        a.remove_prefix(1);
        b.remove_prefix(1);
    }
    return false;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    for (;;) {
        while (!a.empty() && !is_version_char(a[0])) a.remove_prefix(1);
        while (!b.empty() && !is_version_char(b[0])) b.remove_prefix(1);
        int r = 0;
        // '~' marks a pre-release: older than anything, the end of the string included.
        if (differs_at(a, b, '~', r)) return r;
        // Past the '~' check, the side with more left is newer.
        if (a.empty() || b.empty()) return sign(static_cast<long long>(!a.empty()) - static_cast<long long>(!b.empty()));
        // '-' separates version from release: "1.0-2" is older than "1.0.1".
        if (differs_at(a, b, '-', r)) return r;
        // '^' marks a patched release: newer than the end, older than a further component.
        if (differs_at(a, b, '^', r)) return r;
        if (differs_at(a, b, '.', r)) return r;
        if (a.empty() || b.empty()) return sign(static_cast<long long>(!a.empty()) - static_cast<long long>(!b.empty()));
        if (is_digit(a[0]) || is_digit(b[0])) {
            // Numbers compare as numbers (leading zeros ignored); a number is newer than letters.
            while (!a.empty() && a[0] == '0') a.remove_prefix(1);
            while (!b.empty() && b[0] == '0') b.remove_prefix(1);
            size_t na = span_of(a, is_digit), nb = span_of(b, is_digit);
            if (na != nb) return na > nb ? 1 : -1;
            if (int c = a.substr(0, na).compare(b.substr(0, nb)); c != 0) return sign(c);
            a.remove_prefix(na);
            b.remove_prefix(nb);
        } else {
            size_t na = span_of(a, is_letter), nb = span_of(b, is_letter);
            if (int c = a.substr(0, std::min(na, nb)).compare(b.substr(0, std::min(na, nb))); c != 0) return sign(c);
            if (na != nb) return na > nb ? 1 : -1;
            a.remove_prefix(na);
            b.remove_prefix(nb);
        }
    }
}

bool is_valid_version(std::string_view version) {
    if (version.empty() || version.size() > 64 || !is_digit(version[0])) return false;
    return std::all_of(version.begin(), version.end(),
                       [](char c) { return is_digit(c) || is_letter(c) || std::strchr(".~^-+_", c) != nullptr; });
}

}  // namespace berth::update
