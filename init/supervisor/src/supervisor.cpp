#include "berth/supervisor/supervisor.hpp"

#include <algorithm>
#include <csignal>
#include <map>
#include <set>

#include "berth/dependency_cycles.hpp"

namespace berth::supervisor {

namespace {

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void log(Actions& out, const std::string& name, LogLevel level, std::string text) {
    out.push_back(LogEvent{name, level, std::move(text)});
}

// A requirement is also a dependency; callers may list it in either vector or both.
// Sorted, not searched per name: the lists come from clients.
void merge_requirements(ServiceConfig& config) {
    std::set<std::string> listed(config.dependencies.begin(), config.dependencies.end());
    for (const auto& required : config.requirements)
        if (listed.insert(required).second) config.dependencies.push_back(required);
}

// The service has (or is about to have) a process.
bool is_up(ServiceState state) {
    return state == ServiceState::Starting || state == ServiceState::Running || state == ServiceState::Ready ||
           state == ServiceState::Stopping;
}

// An `after` dependency no longer in motion: whatever it became, ordering against it is done.
bool is_settled(ServiceState state) {
    return state == ServiceState::Ready || state == ServiceState::Exited || state == ServiceState::Failed ||
           state == ServiceState::Stopped;
}

bool polls_readiness(ReadinessKind kind) {
    return kind == ReadinessKind::Exec || kind == ReadinessKind::Tcp || kind == ReadinessKind::File;
}

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

tl::unexpected<Error> unknown_service(std::string_view name) { return fail("unknown service " + quoted(name)); }

}  // namespace

// ---- construction and validation ----

Result<Supervisor> Supervisor::create(std::vector<ServiceConfig> configs) {
    std::vector<Service> services;
    services.reserve(configs.size());
    for (auto& config : configs) {
        TRY(validate_service_config(config));
        merge_requirements(config);
        for (const auto& existing : services)
            if (existing.config.name == config.name) return fail("service " + quoted(config.name) + " is defined twice");
        services.emplace_back(std::move(config));
    }
    std::vector<const ServiceConfig*> all;
    for (const auto& service : services) all.push_back(&service.config);
    TRY(check_dependencies(all));
    return Supervisor(std::move(services));
}

Result<void> Supervisor::check_dependencies(const std::vector<const ServiceConfig*>& configs) {
    std::map<std::string_view, size_t> index;
    for (size_t i = 0; i < configs.size(); ++i) index[configs[i]->name] = i;
    for (const auto* config : configs)
        for (const auto& required : config->requirements)
            if (!index.count(required))
                return fail("service " + quoted(config->name) + " requires unknown service " + quoted(required));

    // The graph of what starts after what; an `after` on an absent service orders nothing.
    DependencyGraph graph;
    for (const auto* config : configs) {
        auto& edges = graph[config->name];
        for (const auto& dependency : config->dependencies)
            if (index.count(dependency)) edges.push_back(dependency);
        std::sort(edges.begin(), edges.end());
        edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    }
    if (auto cycles = find_cycles(graph); !cycles.empty()) return fail(describe(cycles.front()));
    return {};
}

// ---- lookups ----

Supervisor::Service* Supervisor::find(std::string_view name) {
    for (auto& service : services_)
        if (service.config.name == name) return &service;
    return nullptr;
}

const Supervisor::Service* Supervisor::find(std::string_view name) const {
    for (const auto& service : services_)
        if (service.config.name == name) return &service;
    return nullptr;
}

bool Supervisor::has_process(const Service& service) {
    return service.pid != 0 && (service.state == ServiceState::Running || service.state == ServiceState::Ready ||
                                service.state == ServiceState::Stopping);
}

bool Supervisor::has_live_dependent(const Service& service) const {
    return std::any_of(services_.begin(), services_.end(), [&](const Service& other) {
        return is_up(other.state) && contains(other.config.dependencies, service.config.name);
    });
}

const ServiceConfig* Supervisor::config(std::string_view name) const {
    const Service* service = find(name);
    return service ? &service->config : nullptr;
}

// ---- transitions ----

void Supervisor::launch(Service& service, Actions& out) {
    clear_process(service);
    service.state = ServiceState::Starting;
    service.stop_intent = StopIntent::None;
    service.failure_reason.clear();
    service.health = service.config.health && !service.config.oneshot ? Health::Unknown : Health::None;
    out.push_back(StartService{service.config.name});
    log(out, service.config.name, LogLevel::Info, "starting");
}

void Supervisor::mark_ready(Service& service, TimePoint now, Actions& out) {
    service.state = ServiceState::Ready;
    service.ready_deadline.reset();
    service.next_ready_probe.reset();
    service.ready_probe_deadline.reset();
    log(out, service.config.name, LogLevel::Info, "ready");
    if (const auto& health = service.config.health) {
        // First probe one interval after ready, and never inside the start period.
        const TimePoint grace_over = service.started_at.value_or(now) + health->start_period;
        service.next_health_probe = std::max(now + health->interval, grace_over);
    }
}

void Supervisor::begin_stop(Service& service, StopIntent intent, TimePoint now, Actions& out) {
    if (service.stop_intent == StopIntent::Remove) intent = StopIntent::Remove;  // removal is final
    switch (service.state) {
        case ServiceState::Starting:  // no pid to signal yet: stop as soon as it is known
            service.stop_when_started = true;
            service.stop_intent = intent;
            return;
        case ServiceState::Running:
        case ServiceState::Ready:
            service.stop_intent = intent;
            service.state = ServiceState::Stopping;
            service.ready_deadline.reset();
            service.next_ready_probe.reset();
            service.ready_probe_deadline.reset();
            service.next_health_probe.reset();
            service.health_probe_deadline.reset();
            service.stop_deadline = now + service.config.stop_timeout;
            out.push_back(SignalService{service.config.name, service.pid, service.config.stop_signal});
            log(out, service.config.name, LogLevel::Info, "stopping with " + signal_name(service.config.stop_signal));
            return;
        case ServiceState::Stopping:  // already signalled; only what the exit leads to changes
            service.stop_intent = intent;
            return;
        default:
            return;
    }
}

void Supervisor::stop_for_failure(Service& service, std::string reason, TimePoint now, Actions& out) {
    log(out, service.config.name, LogLevel::Warning, reason);
    service.last_error = reason;
    service.failure_reason = std::move(reason);
    begin_stop(service, StopIntent::Failure, now, out);
}

void Supervisor::handle_failure(Service& service, std::string reason, TimePoint now, Actions& out) {
    if (service.config.restart.kind == RestartPolicy::No) {
        mark_failed(service, std::move(reason), out);
        return;
    }
    service.last_error = reason;
    schedule_restart(service, reason, now, out);
}

void Supervisor::schedule_restart(Service& service, const std::string& why, TimePoint now, Actions& out) {
    const Duration delay = service.backoff.next_delay(now);
    service.state = ServiceState::Backoff;
    service.restart_at = now + delay;
    log(out, service.config.name, LogLevel::Warning, why + "; restarting in " + format_duration(delay));
}

void Supervisor::mark_failed(Service& service, std::string reason, Actions& out) {
    clear_process(service);
    service.state = ServiceState::Failed;
    service.last_error = reason;
    log(out, service.config.name, LogLevel::Error, "failed: " + reason);
    if (service.config.critical) out.push_back(ServiceFailedCritical{service.config.name, std::move(reason)});
}

void Supervisor::health_probe_failed(Service& service, const std::string& why, TimePoint now, Actions& out) {
    const int retries = service.config.health->retries;
    ++service.health_failures;
    if (service.health_failures < retries) {
        log(out, service.config.name, LogLevel::Warning,
            why + " (" + std::to_string(service.health_failures) + "/" + std::to_string(retries) + ")");
        return;
    }
    service.health = Health::Unhealthy;
    stop_for_failure(service, "unhealthy: " + std::to_string(service.health_failures) + " consecutive health checks failed",
                     now, out);
}

void Supervisor::clear_process(Service& service) {
    service.pid = 0;
    service.started_at.reset();
    service.stop_when_started = false;
    service.restart_at.reset();
    service.ready_deadline.reset();
    service.next_ready_probe.reset();
    service.ready_probe_deadline.reset();
    service.next_health_probe.reset();
    service.health_probe_deadline.reset();
    service.health_failures = 0;
    service.stop_deadline.reset();
}

void Supervisor::erase(std::string name, Actions& out) {
    std::erase_if(services_, [&](const Service& service) { return service.config.name == name; });
    log(out, name, LogLevel::Info, "removed");
    out.push_back(ServiceRemoved{std::move(name)});
}

void Supervisor::run_due_timers(Service& service, TimePoint now, Actions& out) {
    const auto due = [&](const std::optional<TimePoint>& at) { return at && *at <= now; };
    switch (service.state) {
        case ServiceState::Backoff:
            if (shutting_down_ || !due(service.restart_at)) return;
            service.restart_at.reset();
            ++service.restarts;
            service.state = ServiceState::Waiting;  // settle() launches it once its dependencies are up
            log(out, service.config.name, LogLevel::Info, "restart #" + std::to_string(service.restarts));
            return;
        case ServiceState::Running:
            if (shutting_down_ || service.config.oneshot) return;
            if (due(service.ready_deadline)) {
                stop_for_failure(service, "not ready within " + format_duration(service.config.readiness.timeout), now, out);
                return;
            }
            if (!service.ready_probe_deadline && due(service.next_ready_probe)) {
                service.next_ready_probe.reset();
                service.ready_probe_deadline = service.ready_deadline;  // an attempt may use all that is left
                out.push_back(RunProbe{service.config.name, ProbeKind::Ready, service.pid, *service.ready_deadline});
            }
            return;
        case ServiceState::Ready: {
            if (shutting_down_ || !service.config.health) return;
            const HealthConfig& health = *service.config.health;
            if (due(service.health_probe_deadline)) {
                service.health_probe_deadline.reset();
                health_probe_failed(service, "health check timed out after " + format_duration(health.timeout), now, out);
                if (service.state != ServiceState::Ready) return;
            }
            if (!service.health_probe_deadline && due(service.next_health_probe)) {
                service.health_probe_deadline = now + health.timeout;
                service.next_health_probe = now + health.interval;
                out.push_back(RunProbe{service.config.name, ProbeKind::Health, service.pid, *service.health_probe_deadline});
            }
            return;
        }
        case ServiceState::Stopping:
            if (!due(service.stop_deadline)) return;
            service.stop_deadline.reset();  // SIGKILL cannot be ignored: no further escalation
            out.push_back(SignalService{service.config.name, service.pid, SIGKILL});
            log(out, service.config.name, LogLevel::Warning,
                "still running " + format_duration(service.config.stop_timeout) + " after " +
                    signal_name(service.config.stop_signal) + "; sending SIGKILL");
            return;
        default:
            return;
    }
}

// ---- settling: starts, failure cascades, shutdown progress ----

void Supervisor::settle(TimePoint now, Actions& out) {
    start_waiting_services(out);
    if (shutting_down_) advance_shutdown(now, out);
}

void Supervisor::start_waiting_services(Actions& out) {
    if (!started_ || shutting_down_) return;
    // A failure can unblock (fail) a service earlier in the list: repeat until nothing fails.
    for (bool failed_any = true; failed_any;) {
        failed_any = false;
        for (auto& service : services_) {
            if (service.state != ServiceState::Waiting) continue;
            bool dependencies_up = true;
            std::string blocked_by;
            for (const auto& name : service.config.dependencies) {
                const Service* dependency = find(name);
                if (!dependency) continue;  // absent: nothing to order against
                const ServiceState state = dependency->state;
                if (!contains(service.config.requirements, name)) {
                    dependencies_up = dependencies_up && is_settled(state);
                    continue;
                }
                if (state == ServiceState::Failed) {
                    blocked_by = "required service " + quoted(name) + " failed";
                    break;
                }
                if (state == ServiceState::Exited && !dependency->config.oneshot) {
                    blocked_by = "required service " + quoted(name) + " exited";
                    break;
                }
                dependencies_up = dependencies_up && (state == ServiceState::Ready || state == ServiceState::Exited);
            }
            if (!blocked_by.empty()) {
                mark_failed(service, blocked_by, out);
                failed_any = true;
            } else if (dependencies_up) {
                launch(service, out);
            }
        }
    }
}

void Supervisor::advance_shutdown(TimePoint now, Actions& out) {
    for (auto& service : services_)
        if ((service.state == ServiceState::Running || service.state == ServiceState::Ready) &&
            !has_live_dependent(service))
            begin_stop(service, StopIntent::Shutdown, now, out);
    const bool any_up = std::any_of(services_.begin(), services_.end(), [](const Service& s) { return is_up(s.state); });
    if (!any_up && !all_stopped_) {
        all_stopped_ = true;
        log(out, "", LogLevel::Info, "all services stopped");
        out.push_back(AllStopped{});
    }
}

// ---- events from the loop ----

Actions Supervisor::start_all(TimePoint now) {
    Actions out;
    if (started_) return out;
    started_ = true;
    settle(now, out);
    return out;
}

Actions Supervisor::tick(TimePoint now) {
    Actions out;
    for (auto& service : services_) run_due_timers(service, now, out);
    settle(now, out);
    return out;
}

Actions Supervisor::process_started(std::string_view name, int pid, TimePoint now) {
    Actions out;
    Service* service = find(name);
    if (!service || service->state != ServiceState::Starting) {
        log(out, std::string(name), LogLevel::Warning, "unexpected start report (pid " + std::to_string(pid) + ")");
        return out;
    }
    service->pid = pid;
    service->started_at = now;
    service->backoff.on_started(now);
    log(out, service->config.name, LogLevel::Info, "started, pid " + std::to_string(pid));
    const ReadinessConfig& readiness = service->config.readiness;
    if (service->stop_when_started) {
        service->stop_when_started = false;
        service->state = ServiceState::Running;
        begin_stop(*service, service->stop_intent, now, out);
    } else if (shutting_down_ || service->config.oneshot) {
        service->state = ServiceState::Running;
    } else if (readiness.kind == ReadinessKind::None) {
        mark_ready(*service, now, out);
    } else {
        service->state = ServiceState::Running;
        service->ready_deadline = now + readiness.timeout;
        service->ready_retry = std::min(readiness.first_retry, readiness.retry_interval);
        if (polls_readiness(readiness.kind)) {
            service->next_ready_probe = now;
            run_due_timers(*service, now, out);  // first probe right away
        }
    }
    settle(now, out);
    return out;
}

Actions Supervisor::start_failed(std::string_view name, std::string_view error, TimePoint now) {
    Actions out;
    Service* service = find(name);
    if (!service || service->state != ServiceState::Starting) {
        log(out, std::string(name), LogLevel::Warning, "unexpected start failure: " + std::string(error));
        return out;
    }
    const StopIntent intent = service->stop_when_started ? service->stop_intent : StopIntent::None;
    clear_process(*service);
    service->stop_intent = StopIntent::None;
    const std::string reason = "start failed: " + std::string(error);
    if (intent == StopIntent::Remove) {
        erase(service->config.name, out);
    } else if (shutting_down_ || intent == StopIntent::User) {
        service->last_error = reason;
        service->state = ServiceState::Stopped;
        log(out, service->config.name, LogLevel::Warning, reason);
    } else {
        // Not retried: creating a container fails the same way again (bad spec, missing image).
        mark_failed(*service, reason, out);
    }
    settle(now, out);
    return out;
}

Actions Supervisor::process_exited(std::string_view name, int pid, ExitStatus status, TimePoint now) {
    Actions out;
    Service* service = find(name);
    if (!service || !has_process(*service) || service->pid != pid) {
        log(out, std::string(name), LogLevel::Warning, "exit of unknown process " + std::to_string(pid));
        return out;
    }
    const StopIntent intent = service->stop_intent;
    service->stop_intent = StopIntent::None;
    service->last_exit = status;
    service->backoff.on_exited(now);
    clear_process(*service);
    const std::string& service_name = service->config.name;

    if (intent == StopIntent::Remove) {
        log(out, service_name, LogLevel::Info, "stopped (" + status.describe() + ")");
        erase(service_name, out);
    } else if (shutting_down_ || intent == StopIntent::User) {
        service->state = ServiceState::Stopped;
        log(out, service_name, LogLevel::Info, "stopped (" + status.describe() + ")");
    } else if (intent == StopIntent::Restart) {
        service->backoff.reset();  // asked for: no back-off delay
        service->state = ServiceState::Waiting;
        log(out, service_name, LogLevel::Info, "stopped for restart (" + status.describe() + ")");
    } else if (intent == StopIntent::Failure) {
        handle_failure(*service, service->failure_reason, now, out);
    } else if (!status.success()) {
        handle_failure(*service, status.describe(), now, out);
    } else if (service->config.oneshot) {
        service->state = ServiceState::Exited;
        log(out, service_name, LogLevel::Info, "finished");
    } else if (service->config.restart.kind == RestartPolicy::Always) {
        schedule_restart(*service, "exited with code 0", now, out);
    } else {
        service->state = ServiceState::Exited;
        log(out, service_name, LogLevel::Info, "exited with code 0");
    }
    settle(now, out);
    return out;
}

Actions Supervisor::became_ready(std::string_view name, TimePoint now) {
    Actions out;
    Service* service = find(name);
    // Anything else is a late or repeated READY=1: nothing to do.
    if (!service || service->state != ServiceState::Running || service->config.oneshot || shutting_down_) return out;
    mark_ready(*service, now, out);
    settle(now, out);
    return out;
}

Actions Supervisor::probe_result(std::string_view name, ProbeKind kind, bool ok, TimePoint now) {
    Actions out;
    Service* service = find(name);
    if (!service) return out;
    // A result for a probe no longer in flight (timed out, or the process changed) is stale.
    if (kind == ProbeKind::Ready) {
        if (service->state != ServiceState::Running || !service->ready_probe_deadline) return out;
        service->ready_probe_deadline.reset();
        if (ok)
            mark_ready(*service, now, out);
        else {
            service->next_ready_probe = now + service->ready_retry;
            service->ready_retry = std::min(service->ready_retry * 2, service->config.readiness.retry_interval);
        }
    } else {
        if (service->state != ServiceState::Ready || !service->health_probe_deadline) return out;
        service->health_probe_deadline.reset();
        if (ok) {
            if (service->health != Health::Healthy) log(out, service->config.name, LogLevel::Info, "healthy");
            service->health = Health::Healthy;
            service->health_failures = 0;
        } else {
            health_probe_failed(*service, "health check failed", now, out);
        }
    }
    settle(now, out);
    return out;
}

Actions Supervisor::ready_probe_soon(std::string_view name, TimePoint now) {
    Service* service = find(name);
    if (service && service->state == ServiceState::Running && !service->ready_probe_deadline && service->next_ready_probe)
        service->next_ready_probe = now;
    return {};
}

Actions Supervisor::shutdown(TimePoint now) {
    Actions out;
    if (shutting_down_) return out;
    shutting_down_ = true;
    log(out, "", LogLevel::Info, "shutting down");
    for (auto& service : services_) {
        if (service.state == ServiceState::Waiting || service.state == ServiceState::Backoff) {
            service.restart_at.reset();
            service.state = ServiceState::Stopped;
        } else if (service.state == ServiceState::Stopping) {
            begin_stop(service, StopIntent::Shutdown, now, out);  // no restart after this exit
        }
    }
    settle(now, out);
    return out;
}

// ---- requests from berthctl ----

Result<Actions> Supervisor::user_start(std::string_view name, TimePoint now) {
    if (shutting_down_) return fail("cannot start " + quoted(name) + ": shutting down");
    Service* service = find(name);
    if (!service) return unknown_service(name);
    Actions out;
    switch (service->state) {
        case ServiceState::Starting:
            if (service->stop_intent != StopIntent::Remove) {  // cancel a stop requested meanwhile
                service->stop_when_started = false;
                service->stop_intent = StopIntent::None;
            }
            break;
        case ServiceState::Waiting:
        case ServiceState::Running:
        case ServiceState::Ready:
            break;  // up, or on its way
        case ServiceState::Stopping:
            if (service->stop_intent == StopIntent::Remove) return fail("service " + quoted(name) + " is being removed");
            service->stop_intent = StopIntent::Restart;  // start again once it has exited
            break;
        case ServiceState::Backoff:
        case ServiceState::Exited:
        case ServiceState::Failed:
        case ServiceState::Stopped:
            service->restart_at.reset();
            service->backoff.reset();
            service->state = ServiceState::Waiting;
            log(out, service->config.name, LogLevel::Info, "start requested");
            break;
    }
    settle(now, out);
    return out;
}

Result<Actions> Supervisor::user_stop(std::string_view name, TimePoint now) {
    if (shutting_down_) return fail("cannot stop " + quoted(name) + ": shutting down");
    Service* service = find(name);
    if (!service) return unknown_service(name);
    Actions out;
    switch (service->state) {
        case ServiceState::Waiting:
        case ServiceState::Backoff:
            service->restart_at.reset();
            service->state = ServiceState::Stopped;
            log(out, service->config.name, LogLevel::Info, "stopped");
            break;
        case ServiceState::Starting:
        case ServiceState::Running:
        case ServiceState::Ready:
        case ServiceState::Stopping:
            begin_stop(*service, StopIntent::User, now, out);
            break;
        case ServiceState::Exited:
        case ServiceState::Failed:
        case ServiceState::Stopped:
            break;  // already down
    }
    settle(now, out);
    return out;
}

Result<Actions> Supervisor::user_restart(std::string_view name, TimePoint now) {
    if (shutting_down_) return fail("cannot restart " + quoted(name) + ": shutting down");
    Service* service = find(name);
    if (!service) return unknown_service(name);
    switch (service->state) {
        case ServiceState::Starting:
        case ServiceState::Running:
        case ServiceState::Ready:
        case ServiceState::Stopping: {
            if (service->stop_intent == StopIntent::Remove) return fail("service " + quoted(name) + " is being removed");
            Actions out;
            begin_stop(*service, StopIntent::Restart, now, out);
            settle(now, out);
            return out;
        }
        default:
            return user_start(name, now);
    }
}

Result<Actions> Supervisor::add_service(ServiceConfig config, TimePoint now) {
    if (shutting_down_) return fail("cannot add service " + quoted(config.name) + ": shutting down");
    TRY(validate_service_config(config));
    merge_requirements(config);
    if (find(config.name)) return fail("service " + quoted(config.name) + " already exists");
    std::vector<const ServiceConfig*> all;
    for (const auto& service : services_) all.push_back(&service.config);
    all.push_back(&config);
    TRY(check_dependencies(all));

    Actions out;
    log(out, config.name, LogLevel::Info, "added");
    services_.emplace_back(std::move(config));
    settle(now, out);
    return out;
}

Result<Actions> Supervisor::remove_service(std::string_view name, TimePoint now) {
    if (shutting_down_) return fail("cannot remove " + quoted(name) + ": shutting down");
    Service* service = find(name);
    if (!service) return unknown_service(name);
    for (const auto& other : services_)
        if (contains(other.config.requirements, name))
            return fail("service " + quoted(name) + " is required by " + quoted(other.config.name) + "; remove " +
                        quoted(other.config.name) + " first");
    Actions out;
    if (is_up(service->state)) {
        log(out, service->config.name, LogLevel::Info, "removing");
        begin_stop(*service, StopIntent::Remove, now, out);
    } else {
        erase(service->config.name, out);
    }
    settle(now, out);
    return out;
}

// ---- queries ----

std::optional<ServiceStatus> Supervisor::status(std::string_view name, TimePoint now) const {
    const Service* service = find(name);
    if (!service) return std::nullopt;
    ServiceStatus status;
    status.name = service->config.name;
    status.state = service->state;
    status.oneshot = service->config.oneshot;
    status.critical = service->config.critical;
    status.pid = service->pid;
    status.started_at = service->started_at;
    if (service->started_at) status.uptime = now - *service->started_at;
    status.restarts = service->restarts;
    status.last_exit = service->last_exit;
    status.health = service->health;
    status.last_error = service->last_error;
    status.restart_at = service->restart_at;
    return status;
}

std::vector<ServiceStatus> Supervisor::statuses(TimePoint now) const {
    std::vector<ServiceStatus> all;
    all.reserve(services_.size());
    for (const auto& service : services_) all.push_back(*status(service.config.name, now));
    return all;
}

std::optional<TimePoint> Supervisor::next_deadline() const {
    std::optional<TimePoint> earliest;
    const auto consider = [&](const std::optional<TimePoint>& at) {
        if (at && (!earliest || *at < *earliest)) earliest = at;
    };
    for (const auto& service : services_) {
        switch (service.state) {
            case ServiceState::Backoff:
                if (!shutting_down_) consider(service.restart_at);
                break;
            case ServiceState::Running:
                if (shutting_down_) break;
                consider(service.ready_deadline);
                if (!service.ready_probe_deadline) consider(service.next_ready_probe);
                break;
            case ServiceState::Ready:
                if (shutting_down_) break;
                consider(service.health_probe_deadline);
                if (!service.health_probe_deadline) consider(service.next_health_probe);
                break;
            case ServiceState::Stopping:
                consider(service.stop_deadline);
                break;
            default:
                break;
        }
    }
    return earliest;
}

}  // namespace berth::supervisor
