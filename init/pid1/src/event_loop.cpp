#include "event_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <string>

namespace berth::pid1 {
namespace {

uint64_t tag(Source source, int fd) { return (static_cast<uint64_t>(source) << 32) | static_cast<uint32_t>(fd); }

Result<void> control(int epoll, int op, int fd, Source source, uint32_t events) {
    struct epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag(source, fd);
    if (::epoll_ctl(epoll, op, fd, &ev) < 0)
        return fail_sys(std::string(op == EPOLL_CTL_ADD ? "watch" : "re-watch") + " fd " + std::to_string(fd));
    return {};
}

}  // namespace

Result<EventLoop> EventLoop::create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return fail_sys("epoll");
    return EventLoop(sys::UniqueFd(fd));
}

Result<void> EventLoop::watch(int fd, Source source, uint32_t events) {
    return control(epoll_.get(), EPOLL_CTL_ADD, fd, source, events);
}

Result<void> EventLoop::modify(int fd, Source source, uint32_t events) {
    return control(epoll_.get(), EPOLL_CTL_MOD, fd, source, events);
}

void EventLoop::unwatch(int fd) {
    // ENOENT/EBADF: not in the set (a watch that had failed); nothing to undo.
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::wait(ReadyEvent* ready, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    int n = ::epoll_wait(epoll_.get(), events, std::min(capacity, 64), timeout_ms);
    for (int i = 0; i < n; ++i)
        ready[i] = {static_cast<Source>(events[i].data.u64 >> 32), static_cast<int>(events[i].data.u64 & 0xffffffff),
                    events[i].events};
    return n < 0 ? 0 : n;
}

}  // namespace berth::pid1
