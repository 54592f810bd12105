// A Supervisor driven by a fake clock and fake pids, with helpers to pick actions apart.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "berth/supervisor/supervisor.hpp"

namespace berth::supervisor::testing {

using namespace std::chrono_literals;

inline ServiceConfig service(std::string name, std::vector<std::string> after = {},
                             std::vector<std::string> requires_ = {}) {
    ServiceConfig config;
    config.name = std::move(name);
    config.dependencies = std::move(after);
    config.requirements = std::move(requires_);
    return config;
}

inline ServiceConfig oneshot(std::string name, std::vector<std::string> after = {},
                             std::vector<std::string> requires_ = {}) {
    ServiceConfig config = service(std::move(name), std::move(after), std::move(requires_));
    config.oneshot = true;
    return config;
}

template <typename T>
std::vector<T> all_of(const Actions& actions) {
    std::vector<T> found;
    for (const auto& action : actions)
        if (const T* typed = std::get_if<T>(&action)) found.push_back(*typed);
    return found;
}

template <typename T>
bool has(const Actions& actions) {
    return !all_of<T>(actions).empty();
}

// Names of the services the actions start, in order.
inline std::vector<std::string> started(const Actions& actions) {
    std::vector<std::string> names;
    for (const auto& start : all_of<StartService>(actions)) names.push_back(start.name);
    return names;
}

// "name:SIGNAL" for each SignalService, in order.
inline std::vector<std::string> signalled(const Actions& actions) {
    std::vector<std::string> sent;
    for (const auto& signal : all_of<SignalService>(actions)) sent.push_back(signal.name + ":" + signal_name(signal.signal));
    return sent;
}

inline std::string describe(const Actions& actions) {
    std::ostringstream text;
    for (const auto& action : actions) text << "  " << describe_action(action) << "\n";
    return text.str();
}

inline Supervisor make_supervisor(std::vector<ServiceConfig> configs) {
    auto supervisor = Supervisor::create(std::move(configs));
    if (!supervisor) FAIL("Supervisor::create: " << supervisor.error().message);
    return std::move(*supervisor);
}

// Plays the PID 1 loop: remembers pids, owns the clock.
struct Harness {
    explicit Harness(std::vector<ServiceConfig> configs) : supervisor(make_supervisor(std::move(configs))) {}

    Actions start_all() { return supervisor.start_all(now); }
    Actions started(const std::string& name) {
        pids[name] = next_pid++;
        return supervisor.process_started(name, pids[name], now);
    }
    Actions exited(const std::string& name, ExitStatus status) {
        return supervisor.process_exited(name, pids.at(name), status, now);
    }
    Actions ready(const std::string& name) { return supervisor.became_ready(name, now); }
    Actions probe(const std::string& name, ProbeKind kind, bool ok) { return supervisor.probe_result(name, kind, ok, now); }
    // Moves the clock and fires the timers, as the loop does when next_deadline() arrives.
    Actions advance(std::chrono::milliseconds step) {
        now += step;
        return supervisor.tick(now);
    }
    Actions advance_to_deadline() {
        auto deadline = supervisor.next_deadline();
        REQUIRE(deadline);
        now = *deadline;
        return supervisor.tick(now);
    }

    ServiceStatus status(const std::string& name) {
        auto found = supervisor.status(name, now);
        REQUIRE(found);
        return *found;
    }
    ServiceState state(const std::string& name) { return status(name).state; }
    int pid(const std::string& name) { return pids.at(name); }

    // Starts and readies a service without readiness checks.
    void bring_up(const std::string& name) {
        started(name);
        REQUIRE(state(name) == ServiceState::Ready);
    }

    Supervisor supervisor;
    TimePoint now = TimePoint{} + 1000s;
    std::map<std::string, int> pids;
    int next_pid = 100;
};

}  // namespace berth::supervisor::testing

// Catch prints states by name.
namespace Catch {
template <>
struct StringMaker<berth::supervisor::ServiceState> {
    static std::string convert(berth::supervisor::ServiceState state) { return berth::supervisor::service_state_name(state); }
};
template <>
struct StringMaker<berth::supervisor::Health> {
    static std::string convert(berth::supervisor::Health health) { return berth::supervisor::health_name(health); }
};
}  // namespace Catch
