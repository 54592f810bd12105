// berth-init's epoll set: each fd is registered with what it is (its Source), so a ready event
// says which part of PID 1 it belongs to without a lookup.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "berth/result.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {

enum class Source : uint32_t {
    Signal = 1, Control, Client, ServiceOut, ServiceErr, Notify, Logd, Launch, ReadyFile, ManifestCheck, UpdateJob,
    BootBlessing
};

struct ReadyEvent {
    Source source;
    int fd;
    uint32_t events;  // EPOLLIN, EPOLLOUT, EPOLLHUP, ...
};

class EventLoop {
public:
    static Result<EventLoop> create();

    Result<void> watch(int fd, Source source, uint32_t events = EPOLLIN);
    Result<void> modify(int fd, Source source, uint32_t events);
    // Before the fd is closed (a closed fd leaves the set by itself only once every duplicate is closed).
    void unwatch(int fd);

    // Up to `capacity` ready fds, waiting at most timeout_ms (-1: until one is ready).
    int wait(ReadyEvent* ready, int capacity, int timeout_ms);

private:
    explicit EventLoop(sys::UniqueFd epoll) : epoll_(std::move(epoll)) {}
    sys::UniqueFd epoll_;
};

}  // namespace berth::pid1
