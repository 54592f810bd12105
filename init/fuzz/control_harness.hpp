// The control protocol's request handler with a real Supervisor behind it and a fake process
// table: what the control fuzzer drives, and what the unit tests replay its corpus through.
// "Processes" start at once with made-up pids, die of the signals that kill, probes pass.
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "../pid1/src/control_handler.hpp"

namespace berth::pid1::testing {

class FakeMachine final : public ControlBackend {
public:
    FakeMachine() {
        using supervisor::ServiceConfig;
        std::vector<ServiceConfig> configs(3);
        configs[0].name = "logd";
        configs[1].name = "web";
        configs[1].dependencies = configs[1].requirements = {"logd"};
        configs[2].name = "job";
        configs[2].oneshot = true;
        for (auto& c : configs) rings_.emplace(c.name, std::make_unique<supervisor::LogRing>(4096));
        auto created = supervisor::Supervisor::create(std::move(configs));
        super_.emplace(std::move(*created));
        perform(super_->start_all(now_));
        for (auto& [name, ring] : rings_) ring->append(supervisor::LogStream::Stdout, "hello from " + name + "\n", {});
    }

    // One request line; a deferred add is answered at once by the fake (its check is not ours).
    std::string handle(std::string_view line) {
        now_ += std::chrono::milliseconds(7);
        perform(super_->tick(now_));
        ControlReply reply = handler_.handle(line, 1, now_);
        return reply.deferred ? supervisor::control::ok_response() : reply.line;
    }
    PowerAction power() const { return power_; }

    supervisor::Supervisor& supervisor() override { return *super_; }
    void perform(supervisor::Actions actions) override {
        for (size_t i = 0; i < actions.size(); ++i) {
            supervisor::Actions more;
            if (auto* start = std::get_if<supervisor::StartService>(&actions[i])) {
                more = super_->process_started(start->name, next_pid_++, now_);
            } else if (auto* sig = std::get_if<supervisor::SignalService>(&actions[i])) {
                if (sig->pid > 0 && sig->signal != 0)
                    more = super_->process_exited(sig->name, sig->pid, supervisor::ExitStatus::signaled(sig->signal), now_);
            } else if (auto* probe = std::get_if<supervisor::RunProbe>(&actions[i])) {
                more = super_->probe_result(probe->name, probe->kind, true, now_);
            } else if (auto* removed = std::get_if<supervisor::ServiceRemoved>(&actions[i])) {
                rings_.erase(removed->name);
            }
            actions.insert(actions.end(), more.begin(), more.end());
        }
    }
    const supervisor::LogRing* log_ring(std::string_view service) override {
        auto it = rings_.find(std::string(service));
        return it == rings_.end() ? nullptr : it->second.get();
    }
    const std::vector<manifest::Diagnostic>& invalid_manifests() override { return invalid_; }
    void add_machine_status(nlohmann::json& payload) override { payload["init_resident_kib"] = 1400; }
    void add_kernel_view(nlohmann::json& service) override { service["cgroup"] = "/berth/" + service["name"].get<std::string>(); }
    Result<void> send_signal(const std::string& service, int pid, int signal) override {
        if (signal < 0 || signal > 64) return fail("signal out of range reached the process table");
        if (signal != 0 && signal != SIGCHLD && signal != SIGCONT && signal != SIGWINCH && signal != SIGURG)
            perform(super_->process_exited(service, pid, supervisor::ExitStatus::signaled(signal), now_));
        return {};
    }
    Result<void> begin_add(const supervisor::control::AddRequest&, uint64_t) override { return {}; }
    Result<void> begin_update(const supervisor::control::UpdateRequest&, uint64_t) override { return {}; }
    void forget_added_manifest(const std::string&) override {}
    void request_power(PowerAction action) override { power_ = action; }
    void note(const std::string&, supervisor::LogLevel, const std::string&) override {}

private:
    std::optional<supervisor::Supervisor> super_;
    std::map<std::string, std::unique_ptr<supervisor::LogRing>> rings_;
    std::vector<manifest::Diagnostic> invalid_{{"/etc/berth/services/bad.toml", "bad", "bad.toml:1:1: broken"}};
    ControlHandler handler_{*this};
    supervisor::TimePoint now_{};
    int next_pid_ = 100;
    PowerAction power_ = PowerAction::None;
};

}  // namespace berth::pid1::testing
