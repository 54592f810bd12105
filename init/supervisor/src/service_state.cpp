#include "berth/supervisor/service_state.hpp"

namespace berth::supervisor {

const char* service_state_name(ServiceState state) {
    switch (state) {
        case ServiceState::Waiting: return "waiting";
        case ServiceState::Starting: return "starting";
        case ServiceState::Running: return "running";
        case ServiceState::Ready: return "ready";
        case ServiceState::Stopping: return "stopping";
        case ServiceState::Backoff: return "backoff";
        case ServiceState::Exited: return "exited";
        case ServiceState::Failed: return "failed";
        case ServiceState::Stopped: return "stopped";
    }
    return "?";
}

const char* health_name(Health health) {
    switch (health) {
        case Health::None: return "none";
        case Health::Unknown: return "unknown";
        case Health::Healthy: return "healthy";
        case Health::Unhealthy: return "unhealthy";
    }
    return "?";
}

}  // namespace berth::supervisor
