#include "berth/service_name.hpp"

#include <algorithm>

namespace berth {

bool is_valid_service_name(std::string_view name) {
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (name.empty() || name.size() > 63 || !lower_or_digit(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return lower_or_digit(c) || c == '-'; });
}

}  // namespace berth
