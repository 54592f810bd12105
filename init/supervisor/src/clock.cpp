#include "berth/supervisor/clock.hpp"

namespace berth::supervisor {

std::string format_duration(std::chrono::nanoseconds duration) {
    using namespace std::chrono;
    if (duration < 0ns) return std::string("-").append(format_duration(-duration));
    // Sub-second precision only where it is the interesting part ("250ms", "1500ms").
    if (duration < 60s && duration_cast<milliseconds>(duration) % 1000 != 0ms)
        return std::to_string(duration_cast<milliseconds>(duration).count()) + "ms";
    const long long total = duration_cast<seconds>(duration).count();
    const long long days = total / 86400, hours = total % 86400 / 3600;
    const long long minutes = total % 3600 / 60, secs = total % 60;
    if (total < 60) return std::to_string(secs) + "s";
    if (total < 3600) return std::to_string(minutes) + "m" + std::to_string(secs) + "s";
    if (total < 86400) return std::to_string(hours) + "h" + std::to_string(minutes) + "m";
    return std::to_string(days) + "d" + std::to_string(hours) + "h";
}

}  // namespace berth::supervisor
