// A control-socket client that sends whatever bytes it is given and never waits without a
// deadline: hostile tests need both, berthctl offers neither.
#pragma once

#include <string>
#include <string_view>

namespace berth::test {

struct Reply {
    enum class Kind { Line, Timeout, Closed } kind = Kind::Timeout;
    std::string line;  // without the newline
    bool ok() const { return kind == Kind::Line; }
    std::string describe() const;  // the line, or "timed out" / "connection closed"
};

class RawClient {
public:
    // Connects, retrying while the server's backlog is full; check connected().
    RawClient(const std::string& socket_path, int timeout_ms = 2000);
    ~RawClient();
    RawClient(RawClient&& other) noexcept;
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // Sends all of `data` unless the peer stops reading for timeout_ms; returns the bytes sent.
    size_t send(std::string_view data, int timeout_ms = 2000);
    Reply read_line(int timeout_ms = 2000);
    // One request line (a newline is added) and its answer.
    Reply request(std::string_view line, int timeout_ms = 2000);
    // Whether the server closed the connection (EOF or reset) within timeout_ms; data is discarded.
    bool closed_by_server(int timeout_ms);
    void close();

private:
    int fd_ = -1;
    std::string pending_;  // read past the last line returned
};

}  // namespace berth::test
