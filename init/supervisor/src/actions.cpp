#include "berth/supervisor/actions.hpp"

#include "berth/supervisor/exit_status.hpp"

namespace berth::supervisor {

const char* probe_kind_name(ProbeKind kind) { return kind == ProbeKind::Ready ? "ready" : "health"; }

namespace {

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::Info: return "info";
        case LogLevel::Warning: return "warning";
        case LogLevel::Error: return "error";
    }
    return "?";
}

struct Describe {
    std::string operator()(const StartService& a) const { return "start " + a.name; }
    std::string operator()(const SignalService& a) const {
        return "signal " + a.name + " pid " + std::to_string(a.pid) + " " + signal_name(a.signal);
    }
    std::string operator()(const RunProbe& a) const {
        auto deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(a.deadline.time_since_epoch());
        return std::string("probe ") + probe_kind_name(a.kind) + " " + a.name + " pid " + std::to_string(a.pid) +
               " deadline " + std::to_string(deadline_ms.count()) + "ms";
    }
    std::string operator()(const LogEvent& a) const {
        return std::string("log ") + level_name(a.level) + " " + a.name + ": " + a.text;
    }
    std::string operator()(const AllStopped&) const { return "all stopped"; }
    std::string operator()(const ServiceFailedCritical& a) const {
        return "critical failure " + a.name + ": " + a.reason;
    }
    std::string operator()(const ServiceRemoved& a) const { return "removed " + a.name; }
};

}  // namespace

std::string describe_action(const Action& action) { return std::visit(Describe{}, action); }

}  // namespace berth::supervisor
