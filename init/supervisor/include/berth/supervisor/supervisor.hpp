// The state machine that supervises every host service. Pure: no syscalls, no clock reads.
// The PID 1 loop calls one event method per thing that happened, performs the returned Actions
// in order, and sleeps until next_deadline() (then calls tick) or the next event.
//
// Rules, in short:
// - A service starts once each dependency is up: Ready, or Exited for a oneshot. An `after`-only
//   dependency merely orders: Failed/Stopped/Exited count as settled. If a `requires` dependency
//   is Failed (or a long-running one Exited), a Waiting dependent goes Failed naming it.
//   Running dependents are left alone when a dependency later restarts or fails.
// - Exits: under `always` any exit restarts after the back-off; under `on-failure` a non-zero
//   code or a signal does; under `no` the service ends Exited (code 0) or Failed. A oneshot that
//   exits 0 is Exited whatever the policy. A start error (start_failed) is not retried: Failed.
// - A readiness timeout, or `retries` consecutive health-check failures, stops the service with
//   its stop signal and then counts as a failure for the restart policy.
// - Stopping: stop signal, then SIGKILL once stop_timeout has passed.
// - shutdown(): no more starts or restarts; each service is stopped only after every service that
//   depends on it is down; AllStopped once all are down.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"
#include "berth/supervisor/actions.hpp"
#include "berth/supervisor/backoff.hpp"
#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/exit_status.hpp"
#include "berth/supervisor/service_config.hpp"
#include "berth/supervisor/service_state.hpp"

namespace berth::supervisor {

class Supervisor {
public:
    // `services` in start order. Fails on invalid configs, duplicate names, a `requires` naming an
    // unknown service, or a dependency cycle. `after` may name services that are not (yet) there.
    static Result<Supervisor> create(std::vector<ServiceConfig> services);

    // Events from the loop.
    Actions start_all(TimePoint now);
    Actions tick(TimePoint now);  // timers: back-off, readiness, health, stop escalation
    Actions process_started(std::string_view name, int pid, TimePoint now);
    Actions start_failed(std::string_view name, std::string_view error, TimePoint now);
    Actions process_exited(std::string_view name, int pid, ExitStatus status, TimePoint now);
    Actions became_ready(std::string_view name, TimePoint now);  // notify READY=1 (or any probe)
    Actions probe_result(std::string_view name, ProbeKind kind, bool ok, TimePoint now);
    // What the ready probe looks at may have changed (a file appeared): a service waiting to
    // probe again does so at the next tick instead of at its retry time.
    Actions ready_probe_soon(std::string_view name, TimePoint now);
    Actions shutdown(TimePoint now);

    // Requests from berthctl; errors are messages for the user (unknown service, shutting down).
    // Starting a service that is already up (or waiting) succeeds with nothing to do.
    Result<Actions> user_start(std::string_view name, TimePoint now);
    Result<Actions> user_stop(std::string_view name, TimePoint now);
    Result<Actions> user_restart(std::string_view name, TimePoint now);
    // Validated like create(); the new service starts as soon as its dependencies allow.
    Result<Actions> add_service(ServiceConfig config, TimePoint now);
    // Stops the service if it is up, then forgets it (ServiceRemoved). Refused while another
    // service `requires` it.
    Result<Actions> remove_service(std::string_view name, TimePoint now);

    // Queries.
    std::vector<ServiceStatus> statuses(TimePoint now) const;  // in start order
    std::optional<ServiceStatus> status(std::string_view name, TimePoint now) const;
    const ServiceConfig* config(std::string_view name) const;
    // The earliest time tick() has something to do; nullopt when only events can change anything.
    std::optional<TimePoint> next_deadline() const;
    bool shutting_down() const { return shutting_down_; }
    bool all_stopped() const { return all_stopped_; }

private:
    // Why a Stopping service is being stopped: decides what its exit leads to.
    enum class StopIntent { None, User, Restart, Failure, Shutdown, Remove };

    struct Service {
        explicit Service(ServiceConfig c) : config(std::move(c)), backoff(config.restart) {}

        ServiceConfig config;
        ServiceState state = ServiceState::Waiting;
        Backoff backoff;
        int pid = 0;
        std::optional<TimePoint> started_at;
        int restarts = 0;
        std::optional<ExitStatus> last_exit;
        Health health = Health::None;
        std::string last_error;

        StopIntent stop_intent = StopIntent::None;
        bool stop_when_started = false;  // a stop came while Starting, before the pid was known
        std::string failure_reason;      // for StopIntent::Failure

        // Timers; each is set only in the state it belongs to.
        std::optional<TimePoint> restart_at;            // Backoff
        std::optional<TimePoint> ready_deadline;        // Running, readiness pending
        std::optional<TimePoint> next_ready_probe;      // Running, polled readiness, none in flight
        std::optional<TimePoint> ready_probe_deadline;  // Running, a readiness probe in flight
        Duration ready_retry{0};                        // Running: the wait after the next failed probe
        std::optional<TimePoint> next_health_probe;     // Ready, none in flight
        std::optional<TimePoint> health_probe_deadline; // Ready, a health probe in flight
        int health_failures = 0;                        // consecutive
        std::optional<TimePoint> stop_deadline;         // Stopping, SIGKILL not yet sent
    };

    explicit Supervisor(std::vector<Service> services) : services_(std::move(services)) {}

    Service* find(std::string_view name);
    const Service* find(std::string_view name) const;
    static bool has_process(const Service& service);
    bool has_live_dependent(const Service& service) const;
    static Result<void> check_dependencies(const std::vector<const ServiceConfig*>& configs);

    void launch(Service& service, Actions& out);
    void mark_ready(Service& service, TimePoint now, Actions& out);
    void begin_stop(Service& service, StopIntent intent, TimePoint now, Actions& out);
    void stop_for_failure(Service& service, std::string reason, TimePoint now, Actions& out);
    void handle_failure(Service& service, std::string reason, TimePoint now, Actions& out);
    void schedule_restart(Service& service, const std::string& why, TimePoint now, Actions& out);
    void mark_failed(Service& service, std::string reason, Actions& out);
    void health_probe_failed(Service& service, const std::string& why, TimePoint now, Actions& out);
    void run_due_timers(Service& service, TimePoint now, Actions& out);
    void clear_process(Service& service);
    void erase(std::string name, Actions& out);

    // After every event: start what can start, cascade failures, progress the shutdown.
    void settle(TimePoint now, Actions& out);
    void start_waiting_services(Actions& out);
    void advance_shutdown(TimePoint now, Actions& out);

    std::vector<Service> services_;
    bool started_ = false;
    bool shutting_down_ = false;
    bool all_stopped_ = false;
};

}  // namespace berth::supervisor
