#include "raw_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace berth::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

std::string Reply::describe() const {
    switch (kind) {
        case Kind::Line: return line.size() > 300 ? line.substr(0, 300) + "... (" + std::to_string(line.size()) + " bytes)" : line;
        case Kind::Timeout: return "no answer: timed out";
        case Kind::Closed: return "no answer: connection closed";
    }
    return "";
}

RawClient::RawClient(const std::string& socket_path, int timeout_ms) {
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    do {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return;
        // A Unix socket connects at once or fails with EAGAIN when the listen backlog is full.
        if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0) {
            fd_ = fd;
            return;
        }
        int error = errno;
        ::close(fd);
        if (error != EAGAIN) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (Clock::now() < deadline);
}

RawClient::~RawClient() { close(); }

RawClient::RawClient(RawClient&& other) noexcept : fd_(other.fd_), pending_(std::move(other.pending_)) { other.fd_ = -1; }

void RawClient::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

size_t RawClient::send(std::string_view data, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t sent = 0;
    while (fd_ >= 0 && sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) break;
        struct pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    }
    return sent;
}

Reply RawClient::read_line(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (auto nl = pending_.find('\n'); nl != std::string::npos) {
            Reply r{Reply::Kind::Line, pending_.substr(0, nl)};
            pending_.erase(0, nl + 1);
            return r;
        }
        if (fd_ < 0) return {Reply::Kind::Closed, ""};
        struct pollfd p{fd_, POLLIN, 0};
        int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return {Reply::Kind::Timeout, ""};
        char buf[65536];
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n > 0) {
            pending_.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        return {Reply::Kind::Closed, ""};
    }
}

Reply RawClient::request(std::string_view line, int timeout_ms) {
    std::string framed(line);
    framed += '\n';
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    if (send(framed, timeout_ms) != framed.size()) {
        // The server may have answered (an error) and closed before taking all of it.
        Reply r = read_line(remaining_ms(deadline));
        return r.kind == Reply::Kind::Line ? r : Reply{Reply::Kind::Closed, ""};
    }
    return read_line(remaining_ms(deadline));
}

bool RawClient::closed_by_server(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (fd_ < 0) return true;
        struct pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
        char buf[65536];
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
}

}  // namespace berth::test
