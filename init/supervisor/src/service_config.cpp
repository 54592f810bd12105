#include "berth/supervisor/service_config.hpp"

#include <algorithm>

namespace berth::supervisor {

const char* readiness_kind_name(ReadinessKind kind) {
    switch (kind) {
        case ReadinessKind::None: return "none";
        case ReadinessKind::Exec: return "exec";
        case ReadinessKind::Tcp: return "tcp";
        case ReadinessKind::File: return "file";
        case ReadinessKind::Notify: return "notify";
    }
    return "?";
}

Result<void> validate_service_config(const ServiceConfig& config) {
    if (!is_valid_service_name(config.name))
        return fail("service name '" + config.name + "': expected [a-z0-9][a-z0-9-]*, at most 63 characters");
    const std::string where = "service '" + config.name + "': ";
    auto names_self = [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), config.name) != names.end();
    };
    if (names_self(config.dependencies) || names_self(config.requirements))
        return fail(where + "depends on itself");
    if (config.stop_signal < 1 || config.stop_signal > 64)
        return fail(where + "stop_signal: expected a signal number 1-64, got " + std::to_string(config.stop_signal));
    if (config.stop_timeout < 0ms) return fail(where + "stop_timeout: must not be negative");
    if (config.restart.initial_delay < 0ms || config.restart.max_delay < 0ms || config.restart.reset_after < 0ms)
        return fail(where + "restart: delays must not be negative");
    if (config.readiness.timeout <= 0ms) return fail(where + "readiness.timeout: must be positive");
    if (config.readiness.retry_interval <= 0ms) return fail(where + "readiness.retry_interval: must be positive");
    if (config.readiness.first_retry <= 0ms) return fail(where + "readiness.first_retry: must be positive");
    if (config.health) {
        if (config.health->interval <= 0ms) return fail(where + "health.interval: must be positive");
        if (config.health->timeout <= 0ms) return fail(where + "health.timeout: must be positive");
        if (config.health->retries < 1) return fail(where + "health.retries: must be at least 1");
        if (config.health->start_period < 0ms) return fail(where + "health.start_period: must not be negative");
    }
    return {};
}

}  // namespace berth::supervisor
