#include "berth/logd/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "berth/log.hpp"
#include "berth/logd/ingest.hpp"
#include "berth/logd/kmsg.hpp"
#include "berth/logd/record.hpp"
#include "berth/logd/rotating_log.hpp"
#include "berth/logd/syslog.hpp"
#include "berth/logd/unix_socket.hpp"

namespace berth::logd {

namespace {

constexpr std::size_t kMaxClients = 16;      // berth-init is the one expected client
constexpr int kMessagesPerWakeup = 64;       // per source, so one busy source cannot starve the rest
constexpr std::size_t kMaxSyslogBytes = 8192;  // longer datagrams are kept, truncated
constexpr std::size_t kKmsgReadBytes = 8192;   // a kmsg read needs room for a whole record
constexpr int kDrainBudget = 100000;        // at shutdown: what is queued, not a writer that never stops

enum class Source { Signal, IngestListener, IngestClient, Kmsg, Syslog };

// Wall time of a kmsg timestamp (CLOCK_MONOTONIC µs), via the current wall-minus-monotonic offset.
supervisor::WallTime kmsg_wall_time(std::uint64_t usec) {
    struct timespec mono;
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    auto now_mono = std::chrono::seconds(mono.tv_sec) + std::chrono::nanoseconds(mono.tv_nsec);
    auto boot = supervisor::WallClock::now() - now_mono;
    return std::chrono::time_point_cast<supervisor::WallTime::duration>(boot + std::chrono::microseconds(usec));
}

class Server {
public:
    explicit Server(const Options& options) : options_(options), buffer_(kMaxIngestMessageBytes) {}

    Result<void> start() {
        TRY(sys::mkdir_p(options_.dir, 0755));
        epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!epoll_) return fail_sys("epoll_create1");

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (::sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return fail_sys("sigprocmask");
        ::signal(SIGPIPE, SIG_IGN);
        signal_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
        if (!signal_) return fail_sys("signalfd");
        TRY(watch(signal_.get(), Source::Signal));

        TRY(sys::mkdir_p(parent_of(options_.ingest_socket), 0755));
        ingest_ = TRY_CTX(listen_unix(options_.ingest_socket, SOCK_SEQPACKET, 0600), "ingest socket");
        TRY(watch(ingest_.get(), Source::IngestListener));

        if (!options_.syslog_socket.empty()) {
            TRY(sys::mkdir_p(parent_of(options_.syslog_socket), 0755));
            // Anyone in a container that gets it as /dev/log may write.
            syslog_ = TRY_CTX(listen_unix(options_.syslog_socket, SOCK_DGRAM, 0666), "syslog socket");
            TRY(watch(syslog_.get(), Source::Syslog));
        }
        if (!options_.kmsg_path.empty()) open_kmsg();
        return {};
    }

    // Until SIGTERM/SIGINT; then drains what is already queued and flushes.
    Result<void> serve() {
        epoll_event events[32];
        while (!stopping_) {
            int n = ::epoll_wait(epoll_.get(), events, 32, -1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail_sys("epoll_wait");
            for (int i = 0; i < n; ++i) {
                int fd = events[i].data.fd;
                auto source = sources_.find(fd);
                if (source == sources_.end()) continue;  // closed earlier in this batch
                dispatch(fd, source->second, kMessagesPerWakeup);
            }
            flush_all();
        }
        // Records sent before the signal are already queued on the sockets: keep them.
        if (syslog_) read_syslog(kDrainBudget);
        std::vector<int> clients;
        for (auto& [fd, client] : clients_) clients.push_back(fd);
        for (int fd : clients) read_client(fd, kDrainBudget);
        if (kmsg_) read_kmsg(1024);
        flush_all();
        log::info("logd: stopping; " + std::to_string(bad_records_) + " bad records, " +
                  std::to_string(dropped_records_) + " records not written");
        return {};
    }

private:
    struct Client {
        sys::UniqueFd fd;
        bool warned = false;  // one warning per connection about bad records, not one per record
    };

    static std::string parent_of(const std::string& path) {
        auto slash = path.rfind('/');
        return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
    }

    Result<void> watch(int fd, Source source) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) < 0) return fail_sys("epoll_ctl add");
        sources_[fd] = source;
        return {};
    }

    void unwatch(int fd) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        sources_.erase(fd);
    }

    void dispatch(int fd, Source source, int budget) {
        switch (source) {
            case Source::Signal: read_signal(); break;
            case Source::IngestListener: accept_clients(); break;
            case Source::IngestClient: read_client(fd, budget); break;
            case Source::Kmsg: read_kmsg(budget); break;
            case Source::Syslog: read_syslog(budget); break;
        }
    }

    void read_signal() {
        signalfd_siginfo info;
        while (::read(signal_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) stopping_ = true;
    }

    void accept_clients() {
        for (;;) {
            sys::UniqueFd fd(::accept4(ingest_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
            if (!fd) {
                if (errno != EAGAIN && errno != EINTR) warn_once("accept", "logd: accept on ingest socket: " + error_text(errno));
                return;
            }
            if (clients_.size() >= kMaxClients) {
                warn_once("clients", "logd: more than " + std::to_string(kMaxClients) + " ingest clients; refusing more");
                continue;  // closed by UniqueFd
            }
            int raw = fd.get();
            if (!watch(raw, Source::IngestClient)) continue;
            clients_[raw] = Client{std::move(fd)};
        }
    }

    void close_client(int fd) {
        unwatch(fd);
        clients_.erase(fd);
    }

    void read_client(int fd, int budget) {
        auto it = clients_.find(fd);
        if (it == clients_.end()) return;
        Client& client = it->second;
        for (int i = 0; i < budget; ++i) {
            // MSG_TRUNC: the full length even when it does not fit, so oversize is detected.
            ssize_t n = ::recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;
            if (n <= 0) return close_client(fd);  // 0: berth-init closed the connection
            auto size = static_cast<std::size_t>(n);
            auto record = size > buffer_.size()
                              ? Result<LogRecord>(fail("message of " + std::to_string(size) + " bytes exceeds " +
                                                       std::to_string(buffer_.size())))
                              : parse_ingest_record(std::string_view(buffer_.data(), size));
            if (!record) {
                ++bad_records_;
                if (!client.warned) log::warning("logd: dropping bad ingest record: " + record.error().describe());
                client.warned = true;
                continue;
            }
            write(*record);
        }
    }

    void open_kmsg() {
        sys::UniqueFd fd(::open(options_.kmsg_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        auto watched = fd ? watch(fd.get(), Source::Kmsg) : Result<void>(fail_sys("open"));
        if (!watched) {
            log::warning("logd: kernel log '" + options_.kmsg_path + "' unavailable (" + watched.error().describe() +
                         "); continuing without it");
            return;
        }
        kmsg_ = std::move(fd);
    }

    void read_kmsg(int budget) {
        std::vector<char>& buffer = buffer_;
        for (int i = 0; i < budget; ++i) {
            ssize_t n = ::read(kmsg_.get(), buffer.data(), kKmsgReadBytes);
            if (n < 0 && errno == EPIPE) {  // the ring overwrote records before we read them
                warn_once("kmsg-lost", "logd: kernel log records were lost (ring buffer overrun)");
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;
            if (n <= 0) {
                log::warning("logd: reading kernel log: " + std::string(n < 0 ? error_text(errno) : "end of file") +
                             "; continuing without it");
                unwatch(kmsg_.get());
                kmsg_.reset();
                return;
            }
            auto record = parse_kmsg_record(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            if (!record) {
                ++bad_records_;
                warn_once("kmsg-bad", "logd: bad kernel log record: " + record.error().describe());
                continue;
            }
            write(LogRecord{"kernel", kmsg_wall_time(record->usec), Stream::Kernel,
                            priority_name(record->priority) + " " + record->text});
        }
    }

    void read_syslog(int budget) {
        for (int i = 0; i < budget; ++i) {
            ssize_t n = ::recv(syslog_.get(), buffer_.data(), kMaxSyslogBytes, MSG_DONTWAIT);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return;  // EAGAIN; a datagram socket has no other error worth stopping for
            auto message = parse_syslog_message(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
            write(LogRecord{"syslog", supervisor::WallClock::now(), Stream::Syslog, syslog_disk_text(message)});
        }
    }

    void write(const LogRecord& record) {
        auto it = logs_.find(record.service);
        if (it == logs_.end()) {
            auto log = RotatingLog::open(options_.dir, record.service, options_.rotation);
            if (!log) return drop(record.service, log.error());
            it = logs_.emplace(record.service, std::move(*log)).first;
        }
        if (auto appended = it->second.append(format_disk_line(record)); !appended)
            return drop(record.service, appended.error());
        dirty_.insert(record.service);
    }

    void flush_all() {
        for (const auto& name : dirty_) {
            auto it = logs_.find(name);
            if (it == logs_.end()) continue;
            if (auto flushed = it->second.flush(); !flushed) drop(name, flushed.error());
            else warned_.erase("log:" + name);
        }
        dirty_.clear();
    }

    // Closes the log so the next record reopens it; warns once until writing works again.
    // (logd's own stderr comes back to it through berth-init: never one warning per record.)
    void drop(const std::string& name, const Error& error) {
        ++dropped_records_;
        logs_.erase(name);
        warn_once("log:" + name, "logd: cannot write log '" + name + "': " + error.describe());
    }

    void warn_once(const std::string& key, const std::string& message) {
        if (warned_.insert(key).second) log::warning(message);
    }

    Options options_;
    std::vector<char> buffer_;
    sys::UniqueFd epoll_, signal_, ingest_, syslog_, kmsg_;
    std::unordered_map<int, Source> sources_;
    std::map<int, Client> clients_;
    std::map<std::string, RotatingLog> logs_;
    std::set<std::string> dirty_;
    std::set<std::string> warned_;
    std::uint64_t bad_records_ = 0;
    std::uint64_t dropped_records_ = 0;
    bool stopping_ = false;
};

}  // namespace

Result<void> run_server(const Options& options) {
    Server server(options);
    TRY(server.start());
    if (auto notified = sd_notify("READY=1"); !notified) log::warning("logd: " + notified.error().describe());
    return server.serve();
}

}  // namespace berth::logd
