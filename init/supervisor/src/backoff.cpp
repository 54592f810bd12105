#include "berth/supervisor/backoff.hpp"

#include <algorithm>

namespace berth::supervisor {

const char* restart_policy_name(RestartPolicy::Kind kind) {
    switch (kind) {
        case RestartPolicy::No: return "no";
        case RestartPolicy::OnFailure: return "on-failure";
        case RestartPolicy::Always: return "always";
    }
    return "?";
}

Backoff::Backoff(RestartPolicy policy) : policy_(policy), next_(std::min(policy.initial_delay, policy.max_delay)) {}

void Backoff::on_started(TimePoint now) { running_since_ = now; }

void Backoff::on_exited(TimePoint now) {
    if (ran_stably(now)) reset();
    running_since_.reset();
}

Duration Backoff::next_delay(TimePoint now) {
    if (ran_stably(now)) reset();  // in case on_exited was not called
    const Duration delay = next_;
    next_ = std::min(next_ * 2, policy_.max_delay);
    return delay;
}

void Backoff::reset() { next_ = std::min(policy_.initial_delay, policy_.max_delay); }

bool Backoff::ran_stably(TimePoint now) const {
    return running_since_ && now - *running_since_ >= policy_.reset_after;
}

}  // namespace berth::supervisor
