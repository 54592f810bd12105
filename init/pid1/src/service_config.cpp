#include "berth/pid1/service_config.hpp"

namespace berth::pid1 {

supervisor::ServiceConfig service_config_from(const manifest::ServiceManifest& m) {
    supervisor::ServiceConfig c;
    c.name = m.name;
    c.oneshot = m.type == manifest::ServiceType::Oneshot;
    c.critical = m.critical;
    using Kind = supervisor::RestartPolicy::Kind;
    c.restart.kind = m.restart.policy == manifest::RestartPolicy::Always      ? Kind::Always
                     : m.restart.policy == manifest::RestartPolicy::OnFailure ? Kind::OnFailure
                                                                               : Kind::No;
    c.restart.initial_delay = m.restart.delay;
    c.restart.max_delay = m.restart.max_delay;
    c.restart.reset_after = m.restart.reset_after;
    switch (m.ready.kind) {
        case manifest::ReadyKind::None: c.readiness.kind = supervisor::ReadinessKind::None; break;
        case manifest::ReadyKind::Exec: c.readiness.kind = supervisor::ReadinessKind::Exec; break;
        case manifest::ReadyKind::Tcp:
            c.readiness.kind = supervisor::ReadinessKind::Tcp;
            // In the host's network namespace PID 1 connects itself, no process: as cheap as a
            // file probe.
            if (m.container.network == manifest::NetworkMode::Host) c.readiness.retry_interval = std::chrono::milliseconds(50);
            break;
        case manifest::ReadyKind::File:
            c.readiness.kind = supervisor::ReadinessKind::File;
            // A file probe is a stat by PID 1, no process: cheap enough to repeat every 50 ms.
            c.readiness.retry_interval = std::chrono::milliseconds(50);
            break;
        case manifest::ReadyKind::Notify: c.readiness.kind = supervisor::ReadinessKind::Notify; break;
    }
    c.readiness.timeout = m.ready.timeout;
    if (m.health) {
        supervisor::HealthConfig h;
        h.interval = m.health->interval;
        h.timeout = m.health->timeout;
        h.retries = m.health->retries;
        h.start_period = m.health->start_period;
        c.health = h;
    }
    c.stop_signal = m.stop.signal;
    c.stop_timeout = m.stop.timeout;
    c.requirements = m.required_services;
    c.dependencies = m.after;
    for (const auto& r : m.required_services)
        if (std::find(c.dependencies.begin(), c.dependencies.end(), r) == c.dependencies.end()) c.dependencies.push_back(r);
    return c;
}

}  // namespace berth::pid1
