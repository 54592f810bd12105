#include "control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "berth/log.hpp"

namespace berth::pid1 {
namespace {

namespace control = supervisor::control;
using supervisor::Clock;

sys::UniqueFd open_spare() { return sys::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

// A last word to a client about to be closed; it may not read it (non-blocking, best effort).
void tell(int fd, const std::string& line) { (void)!::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL); }

}  // namespace

Result<void> ControlServer::listen(const std::string& path, int admin_gid) {
    admin_gid_ = admin_gid;
    TRY(sys::mkdir_p(path.substr(0, path.rfind('/')), 0755));
    auto [addr, addr_length] = TRY_CTX(sys::unix_socket_address(path), "control socket");
    ::unlink(path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail_sys("control socket");
    listener_.reset(fd);
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), addr_length) < 0) return fail_sys("bind '" + path + "'");
    ::chmod(path.c_str(), admin_gid >= 0 ? 0660 : 0600);
    // Without the group, root still gets in: a warning, not a control socket less.
    if (admin_gid >= 0 && ::chown(path.c_str(), 0, static_cast<gid_t>(admin_gid)) < 0)
        log::warning("control socket: give '" + path + "' to group " + std::to_string(admin_gid) + ": " + error_text(errno));
    if (::listen(fd, 64) < 0) return fail_sys("listen on '" + path + "'");
    spare_fd_ = open_spare();
    return loop_.watch(fd, Source::Control);
}

void ControlServer::listener_ready() {
    for (int accepted = 0; accepted < 64; ++accepted) {  // then the rest of the loop gets its turn
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            accept_one(fd);
            continue;
        }
        if ((errno == EMFILE || errno == ENFILE) && spare_fd_) {
            // Out of fds: the waiting client would keep the listener readable and the loop
            // spinning. Accept it with the spare fd and tell it why it is closed.
            spare_fd_.reset();
            int refused = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (refused >= 0) {
                tell(refused, control::error_response("berth-init is out of file descriptors; try again later"));
                ::close(refused);
            }
            spare_fd_ = open_spare();
            continue;
        }
        return;  // EAGAIN: none left (or an error the next event retries)
    }
}

void ControlServer::accept_one(int fd) {
    struct ucred cred{};
    socklen_t len = sizeof cred;
    bool allowed = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                   (cred.uid == 0 || (admin_gid_ >= 0 && cred.gid == static_cast<gid_t>(admin_gid_)));
    if (!allowed) return refuse(fd, "permission denied: root or the admin group only");
    if (clients_.size() >= kMaxClients && !make_room())
        return refuse(fd, "too many clients (" + std::to_string(kMaxClients) + "); try again later");
    if (auto watched = loop_.watch(fd, Source::Client); !watched) return refuse(fd, watched.error().describe());
    Client& c = clients_[fd];
    c.fd.reset(fd);
    c.id = next_id_++;
    c.last_active = Clock::now();
}

void ControlServer::refuse(int fd, const std::string& why) {
    tell(fd, control::error_response(why));
    ::close(fd);
}

// At the cap, the client idle the longest goes, unless it is waiting for something (an answer, a
// log stream): an operator's new connection matters more than a forgotten one.
bool ControlServer::make_room() {
    auto idlest = clients_.end();
    for (auto it = clients_.begin(); it != clients_.end(); ++it) {
        const Client& c = it->second;
        if (c.deferred || c.follow_service || !c.out.empty()) continue;
        if (idlest == clients_.end() || c.last_active < idlest->second.last_active) idlest = it;
    }
    if (idlest == clients_.end()) return false;
    tell(idlest->first, control::error_response("closed: too many clients, and this one was idle the longest"));
    drop(idlest->first);
    return true;
}

void ControlServer::drop(int fd) {
    loop_.unwatch(fd);
    clients_.erase(fd);
}

size_t ControlServer::unfinished_input() const {
    size_t total = 0;
    for (const auto& [fd, c] : clients_) total += c.in.size();
    return total;
}

void ControlServer::client_ready(int fd, uint32_t events) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    Client& c = it->second;
    c.last_active = Clock::now();
    // What it sent is carried out even if it has already closed (`echo poweroff | nc -U`).
    if (events & EPOLLIN) read_input(c);
    if (events & (EPOLLHUP | EPOLLERR)) return drop(fd);  // gone both ways: nobody to answer
    flush(fd);
}

namespace {

// recvmsg with room for one file descriptor: more in one message are closed by the kernel
// (MSG_CTRUNC), and a later one replaces the earlier (which is closed).
ssize_t receive(int socket, sys::UniqueFd& received, char* buf, size_t size) {
    iovec iov{buf, size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(sizeof(int))) continue;
        int fd;
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        received.reset(fd);
    }
    return n;
}

}  // namespace

void ControlServer::read_input(Client& c) {
    char buf[65536];
    while (!c.deferred && !c.input_closed && !c.close_after_write && c.out.size() < kPauseOutput) {
        ssize_t n = receive(c.fd.get(), c.received_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (errno != EAGAIN) c.close_after_write = true;
            break;
        }
        if (n == 0) {
            c.input_closed = true;
            break;
        }
        c.in.append(buf, static_cast<size_t>(n));
        answer_lines(c);
        size_t unfinished = c.in.size() - (c.in.rfind('\n') == std::string::npos ? 0 : c.in.rfind('\n') + 1);
        if (unfinished > control::kMaxLineBytes) {
            c.out += control::error_response("request longer than " + std::to_string(control::kMaxLineBytes) + " bytes");
            c.in.clear();
            c.close_after_write = true;
        } else if (unfinished > 0 && unfinished_input() > kMaxUnfinishedInput) {
            c.out += control::error_response("berth-init is holding too much unfinished input from clients; try again later");
            c.in.clear();
            c.close_after_write = true;
        }
    }
    answer_lines(c);
}

void ControlServer::answer_lines(Client& c) {
    while (!c.deferred && !c.close_after_write && c.out.size() < kPauseOutput) {
        size_t nl = c.in.find('\n');
        if (nl == std::string::npos) break;
        ControlReply r = handler_.handle(std::string_view(c.in).substr(0, nl), c.id, Clock::now());
        c.in.erase(0, nl + 1);
        c.out += r.line;
        c.deferred = r.deferred;
        if (r.follow) {
            c.follow_service = std::move(r.follow->first);
            c.follow_seq = r.follow->second;
        }
    }
}

void ControlServer::flush(int fd) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    Client& c = it->second;
    for (;;) {
        while (!c.out.empty()) {
            ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                c.out.erase(0, static_cast<size_t>(n));
                c.last_active = Clock::now();
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            return drop(fd);
        }
        // Everything was taken: requests that waited for that go on, without waiting for input.
        if (!c.out.empty() || c.deferred || c.close_after_write || c.in.find('\n') == std::string::npos) break;
        answer_lines(c);
    }
    if (c.out.size() > kMaxFollowBacklog) return drop(fd);  // a follower that stopped reading
    bool finished = c.close_after_write || (c.input_closed && c.in.find('\n') == std::string::npos);
    if (c.out.empty() && !c.deferred && finished) return drop(fd);
    bool wants_input = !c.deferred && !c.input_closed && !c.close_after_write && c.out.size() < kPauseOutput;
    uint32_t events = (wants_input ? static_cast<uint32_t>(EPOLLIN) : 0u) | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    if (!loop_.modify(fd, Source::Client, events)) drop(fd);
}

ControlServer::Client* ControlServer::find(uint64_t client) {
    for (auto& [fd, c] : clients_)
        if (c.id == client) return &c;
    return nullptr;
}

void ControlServer::answer(uint64_t client, const std::string& line) {
    Client* c = find(client);
    if (!c) return;
    c->out += line;
    c->deferred = false;
    answer_lines(*c);
    flush(c->fd.get());
}

void ControlServer::progress(uint64_t client, const std::string& line) {
    Client* c = find(client);
    if (!c) return;
    c->out += line;
    flush(c->fd.get());
}

sys::UniqueFd ControlServer::take_received_fd(uint64_t client) {
    Client* c = find(client);
    return c ? std::move(c->received_fd) : sys::UniqueFd();
}

void ControlServer::push_logs(const std::string& service, const supervisor::LogRing& ring) {
    std::vector<int> behind;
    for (auto& [fd, c] : clients_) {
        if (c.follow_service != service) continue;
        for (const auto& r : ring.after(c.follow_seq)) {
            c.out += control::ok_response(control::log_record_json(r));
            c.follow_seq = r.seq;
        }
        behind.push_back(fd);
    }
    for (int fd : behind) flush(fd);
}

void ControlServer::restart_followers(const std::string& service) {
    for (auto& [fd, c] : clients_)
        if (c.follow_service == service) c.follow_seq = 0;
}

}  // namespace berth::pid1
