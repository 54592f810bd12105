// Service output and PID 1's own events, forwarded in order from the in-memory rings to logd's
// ingest socket (SOCK_SEQPACKET, one JSON record per message) once logd listens. Records wait in
// the rings meanwhile (and while logd is slow or restarting): nothing from boot is lost.
#pragma once

#include <map>
#include <string>

#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/sys.hpp"
#include "event_loop.hpp"

namespace berth::pid1 {

class LogForwarder {
public:
    LogForwarder(EventLoop& loop, std::string socket_path) : loop_(loop), socket_path_(std::move(socket_path)) {}

    bool connected() const { return static_cast<bool>(logd_); }
    // Connects when logd's socket is there (at most every 500 ms); true if it just connected.
    bool try_connect(supervisor::TimePoint now);
    // Sends what logd does not have yet, as far as it takes it without blocking.
    void forward(const std::string& service, const supervisor::LogRing& ring);
    // The socket's event: writable again (the caller then forwards everything) or logd went away.
    bool writable_again(uint32_t events);
    // A ring that is gone (its service was removed): its count starts over with the next one.
    void forget(const std::string& service) { forwarded_.erase(service); }

private:
    void disconnect();

    EventLoop& loop_;
    std::string socket_path_;
    sys::UniqueFd logd_;
    std::map<std::string, uint64_t> forwarded_;  // per ring: the last record logd has
    supervisor::TimePoint next_attempt_{};
};

}  // namespace berth::pid1
