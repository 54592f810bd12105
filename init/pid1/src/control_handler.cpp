#include "control_handler.hpp"

#include <type_traits>

#include "berth/runtime/container.hpp"

namespace berth::pid1 {
namespace {

namespace control = supervisor::control;

ControlReply reply(std::string line) { return ControlReply{std::move(line), false, std::nullopt}; }

}  // namespace

ControlReply ControlHandler::handle(std::string_view line, uint64_t client, supervisor::TimePoint now) {
    auto request = control::parse_request(line);
    if (!request) return reply(control::error_response(request.error().describe()));
    auto& super = backend_.supervisor();
    auto user_result = [this](Result<supervisor::Actions> r) {
        if (!r) return reply(control::error_response(r.error().describe()));
        backend_.perform(std::move(*r));
        return reply(control::ok_response());
    };
    return std::visit(
        [&](auto& req) -> ControlReply {
            using T = std::decay_t<decltype(req)>;
            if constexpr (std::is_same_v<T, control::StatusRequest>) {
                auto payload = control::status_payload(super.statuses(now), super.shutting_down());
                payload["invalid"] = backend_.invalid_manifests().size();
                backend_.add_machine_status(payload);
                return reply(control::ok_response(payload));
            } else if constexpr (std::is_same_v<T, control::ServicesRequest>) {
                nlohmann::json payload = control::services_payload(super.statuses(now));
                for (auto& service : payload["services"])
                    if (service["pid"].is_number()) backend_.add_kernel_view(service);
                for (const auto& d : backend_.invalid_manifests())
                    payload["services"].push_back({{"name", d.service}, {"state", "invalid"}, {"pid", nullptr},
                                                   {"uptime_seconds", nullptr}, {"restarts", 0}, {"health", "none"},
                                                   {"last_exit", nullptr}, {"last_error", d.message},
                                                   {"oneshot", false}, {"critical", false}});
                return reply(control::ok_response(payload));
            } else if constexpr (std::is_same_v<T, control::LogsRequest>) {
                const supervisor::LogRing* ring = backend_.log_ring(req.service);
                if (!ring) return reply(control::error_response("no service named '" + req.service + "'"));
                auto records = ring->lines(req.lines.value_or(supervisor::LogRing::kAll), req.since);
                ControlReply r = reply(control::ok_response(control::logs_payload(req.service, records, ring->dropped())));
                if (req.follow) r.follow.emplace(req.service, ring->last_seq());
                return r;
            } else if constexpr (std::is_same_v<T, control::StartRequest>) {
                return user_result(super.user_start(req.service, now));
            } else if constexpr (std::is_same_v<T, control::StopRequest>) {
                return user_result(super.user_stop(req.service, now));
            } else if constexpr (std::is_same_v<T, control::RestartRequest>) {
                return user_result(super.user_restart(req.service, now));
            } else if constexpr (std::is_same_v<T, control::AddRequest>) {
                if (auto begun = backend_.begin_add(req, client); !begun)
                    return reply(control::error_response(begun.error().describe()));
                return ControlReply{"", true, std::nullopt};
            } else if constexpr (std::is_same_v<T, control::RemoveRequest>) {
                auto r = super.remove_service(req.service, now);
                if (r) backend_.forget_added_manifest(req.service);
                return user_result(std::move(r));
            } else if constexpr (std::is_same_v<T, control::KillRequest>) {
                auto signal = runtime::parse_signal(req.signal);
                if (!signal) return reply(control::error_response("request.signal: " + signal.error().describe()));
                auto status = super.status(req.service, now);
                if (!status) return reply(control::error_response("no service named '" + req.service + "'"));
                if (status->pid <= 0) return reply(control::error_response("service '" + req.service + "' is not running"));
                if (auto sent = backend_.send_signal(req.service, status->pid, *signal); !sent)
                    return reply(control::error_response("kill '" + req.service + "': " + sent.error().describe()));
                backend_.note(req.service, supervisor::LogLevel::Info, "sent signal " + req.signal + " on request");
                return reply(control::ok_response());
            } else if constexpr (std::is_same_v<T, control::RebootRequest>) {
                backend_.request_power(PowerAction::Reboot);
                return reply(control::ok_response());
            } else if constexpr (std::is_same_v<T, control::UpdateRequest>) {
                // An update job in a child process; its progress and answer come later.
                if (auto begun = backend_.begin_update(req, client); !begun)
                    return reply(control::error_response("update " + req.action + ": " + begun.error().describe()));
                return ControlReply{"", true, std::nullopt};
            } else {
                static_assert(std::is_same_v<T, control::PoweroffRequest>);
                backend_.request_power(PowerAction::Poweroff);
                return reply(control::ok_response());
            }
        },
        *request);
}

}  // namespace berth::pid1
