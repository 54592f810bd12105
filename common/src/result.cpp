#include "berth/result.hpp"

#include <cstring>

namespace berth {

std::string error_text(int errnum) {
    if (const char* text = ::strerrordesc_np(errnum)) return text;
    return "error " + std::to_string(errnum);
}

std::string Error::describe() const {
    if (errnum == 0) return message;
    if (message.empty()) return error_text(errnum);
    return message + ": " + error_text(errnum);
}

Error Error::wrap(std::string context) const& {
    Error copy = *this;
    return std::move(copy).wrap(std::move(context));
}

Error Error::wrap(std::string context) && {
    message = message.empty() ? std::move(context) : std::move(context) + ": " + message;
    return std::move(*this);
}

}  // namespace berth
