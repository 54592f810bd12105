#include "log_forwarder.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "berth/supervisor/wall_time.hpp"

namespace berth::pid1 {

bool LogForwarder::try_connect(supervisor::TimePoint now) {
    if (logd_ || now < next_attempt_ || !sys::exists(socket_path_)) return false;
    next_attempt_ = now + std::chrono::milliseconds(500);
    auto connected = sys::connect_unix(socket_path_, SOCK_SEQPACKET | SOCK_NONBLOCK);
    if (!connected) return false;
    sys::UniqueFd sock = std::move(*connected);
    if (!loop_.watch(sock.get(), Source::Logd, EPOLLIN)) return false;  // EPOLLIN/HUP: logd went away
    logd_ = std::move(sock);
    return true;
}

void LogForwarder::forward(const std::string& service, const supervisor::LogRing& ring) {
    if (!logd_) return;
    uint64_t& last = forwarded_[service];
    for (const auto& r : ring.after(last)) {
        nlohmann::json record{{"service", service}, {"time", supervisor::format_rfc3339(r.time)},
                              {"stream", supervisor::log_stream_name(r.stream)}, {"line", r.line}};
        std::string message = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (::send(logd_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            if (errno != EAGAIN || !loop_.modify(logd_.get(), Source::Logd, EPOLLIN | EPOLLOUT)) disconnect();
            return;  // the rest stays in the ring and goes out when logd can take it
        }
        last = r.seq;
    }
}

bool LogForwarder::writable_again(uint32_t events) {
    if (events & (EPOLLHUP | EPOLLERR | EPOLLIN)) {
        disconnect();
        return false;
    }
    if (!loop_.modify(logd_.get(), Source::Logd, EPOLLIN)) {
        disconnect();
        return false;
    }
    return true;
}

void LogForwarder::disconnect() {
    if (!logd_) return;
    loop_.unwatch(logd_.get());
    logd_.reset();
}

}  // namespace berth::pid1
