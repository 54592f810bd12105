// Client-side rendering for `berthctl services`.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace berth::supervisor::control {

// "3s", "5m12s", "2h3m", "4d2h".
std::string format_uptime(std::int64_t seconds);

// Columns NAME STATE PID UPTIME RESTARTS HEALTH LAST-EXIT, two spaces apart, one line per service.
// `services` is the array from services_payload() (or the whole payload/response); absent or
// null fields show as "-", and a service without a health check shows "-".
std::string render_services_table(const nlohmann::json& services);

}  // namespace berth::supervisor::control
