// The control socket's clients: accepting, reading request lines, writing answers, `logs -f`
// streams. Every client is bounded so that none can stall the loop or grow PID 1's memory:
// - at most kMaxClients connections (at the cap the longest-idle plain client makes room, and
//   running out of fds never leaves the listener spinning);
// - a request line of at most control::kMaxLineBytes, and kMaxUnfinishedInput of unfinished
//   lines over all clients together;
// - a client's next request waits while kPauseOutput of answers are unread (or while its `add`
//   is being checked), so a client that never reads holds one answer, not thousands;
// - a follower more than kMaxFollowBacklog behind is dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "berth/result.hpp"
#include "berth/supervisor/clock.hpp"
#include "berth/supervisor/log_ring.hpp"
#include "berth/sys.hpp"
#include "control_handler.hpp"
#include "event_loop.hpp"

namespace berth::pid1 {

class ControlServer {
public:
    static constexpr size_t kMaxClients = 256;
    static constexpr size_t kPauseOutput = 256 * 1024;
    static constexpr size_t kMaxFollowBacklog = 4 * 1024 * 1024;
    static constexpr size_t kMaxUnfinishedInput = 32 * 1024 * 1024;

    ControlServer(EventLoop& loop, ControlHandler& handler) : loop_(loop), handler_(handler) {}

    // Root, and the members of admin_gid when >= 0; SO_PEERCRED checks each client again.
    Result<void> listen(const std::string& path, int admin_gid);
    void listener_ready();
    void client_ready(int fd, uint32_t events);
    // The answer to `client`'s deferred request (add, update); dropped if the client is gone.
    void answer(uint64_t client, const std::string& line);
    // A line on the way to that answer (an update's progress); the request stays deferred.
    void progress(uint64_t client, const std::string& line);
    // The file descriptor `client` sent with its request (SCM_RIGHTS), if any; one is kept per
    // client, the latest, and closed with it.
    sys::UniqueFd take_received_fd(uint64_t client);
    // New records in a ring: to every follower of that service.
    void push_logs(const std::string& service, const supervisor::LogRing& ring);
    // The service was removed: its next instance's ring counts from the start again.
    void restart_followers(const std::string& service);
    size_t clients() const { return clients_.size(); }

private:
    struct Client {
        sys::UniqueFd fd;
        uint64_t id = 0;
        std::string in, out;
        bool deferred = false;         // an answer is on its way (add)
        bool input_closed = false;     // read returned 0: answer what came, then close
        bool close_after_write = false;
        sys::UniqueFd received_fd;     // sent with a request (update apply: the bundle)
        std::optional<std::string> follow_service;
        uint64_t follow_seq = 0;
        supervisor::TimePoint last_active{};
    };

    Client* find(uint64_t client);
    void accept_one(int fd);
    bool make_room();
    void read_input(Client& c);
    void answer_lines(Client& c);
    void flush(int fd);
    void drop(int fd);
    void refuse(int fd, const std::string& why);
    size_t unfinished_input() const;

    EventLoop& loop_;
    ControlHandler& handler_;
    sys::UniqueFd listener_;
    sys::UniqueFd spare_fd_;  // given up for a moment at EMFILE, to accept and refuse one client
    int admin_gid_ = -1;
    uint64_t next_id_ = 1;
    std::map<int, Client> clients_;
};

}  // namespace berth::pid1
