// The real logd binary as a child process, on temporary paths: READY=1, ingest, syslog, SIGTERM.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "berth/logd/unix_socket.hpp"
#include "berth/sys.hpp"
#include "temp_dir.hpp"

using berth::logd::test::read_text;
using berth::logd::test::TempDir;

namespace {

class LogdProcess {
public:
    LogdProcess(const TempDir& dir, std::vector<std::string> extra_args) {
        auto notify = berth::logd::listen_unix(dir / "notify.sock", SOCK_DGRAM, 0600);
        REQUIRE(notify);
        notify_ = std::move(*notify);
        std::vector<std::string> args{LOGD_BINARY, "--dir", dir / "logs", "--ingest", dir / "run/ingest.sock",
                                      "--syslog", dir / "run/log", "--kmsg", dir / "no-kmsg"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            auto err = berth::sys::open(dir / "logd.stderr", O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err) ::dup2(err->get(), STDERR_FILENO);
            ::setenv("NOTIFY_SOCKET", (dir / "notify.sock").c_str(), 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~LogdProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    // The first datagram on the notify socket, or "" after the timeout.
    std::string wait_notify(int timeout_ms = 10000) {
        pollfd p{notify_.get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return "";
        char buf[256];
        ssize_t n = ::recv(notify_.get(), buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }

    // SIGTERM, then the exit status (-1 if it did not exit normally).
    int terminate() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    berth::sys::UniqueFd notify_;
};

berth::sys::UniqueFd connect_ingest(const std::string& path) {
    auto fd = berth::sys::connect_unix(path, SOCK_SEQPACKET);
    REQUIRE(fd);
    return std::move(*fd);
}

void send_message(int fd, const std::string& message) {
    REQUIRE(::send(fd, message.data(), message.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(message.size()));
}

std::string record(const std::string& service, const std::string& time, const std::string& stream,
                   const std::string& line) {
    return R"({"service":")" + service + R"(","time":")" + time + R"(","stream":")" + stream + R"(","line":")" +
           line + R"("})";
}

}  // namespace

TEST_CASE("logd: READY=1, ingest and syslog records to files, SIGTERM exits 0") {
    TempDir dir;
    LogdProcess logd(dir, {});
    REQUIRE(logd.wait_notify() == "READY=1");

    auto ingest = connect_ingest(dir / "run/ingest.sock");
    send_message(ingest.get(), record("web", "2026-11-24T06:17:20.212Z", "stdout", "GET / 200"));
    send_message(ingest.get(), "{not json");
    send_message(ingest.get(), record("web", "2026-11-24T06:17:21.000Z", "stderr", "slow\\nrequest"));
    send_message(ingest.get(), record("db", "2026-11-24T06:17:22.5Z", "stdout", "ready"));

    berth::sys::UniqueFd syslog_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto syslog_address = berth::sys::unix_socket_address(dir / "run/log");
    REQUIRE(syslog_address);
    std::string datagram = "<11>Nov 24 06:17:20 myapp[42]: disk almost full";
    REQUIRE(::sendto(syslog_fd.get(), datagram.data(), datagram.size(), 0,
                     reinterpret_cast<sockaddr*>(&syslog_address->first), syslog_address->second) ==
            static_cast<ssize_t>(datagram.size()));

    CHECK(logd.terminate() == 0);

    CHECK(read_text(dir / "logs/web.log") ==
          "2026-11-24T06:17:20.212Z web stdout GET / 200\n"
          "2026-11-24T06:17:21.000Z web stderr slow\\nrequest\n");
    CHECK(read_text(dir / "logs/db.log") == "2026-11-24T06:17:22.500Z db stdout ready\n");
    std::string syslog = read_text(dir / "logs/syslog.log");
    CHECK(syslog.substr(24) == " syslog syslog user.err myapp[42]: disk almost full\n");
    std::string errors = read_text(dir / "logd.stderr");
    CHECK(errors.find("dropping bad ingest record: invalid JSON at byte 3") != std::string::npos);
    CHECK(errors.find("kernel log '" + (dir / "no-kmsg") + "' unavailable") != std::string::npos);
    CHECK(errors.find("1 bad records") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "logs/kernel.log"));
}

TEST_CASE("logd: rotates by --max-bytes and continues after a restart") {
    TempDir dir;
    const std::string line(100, 'x');  // disk line: 24 + " web stdout " + 100 + "\n" = 137 bytes
    {
        LogdProcess logd(dir, {"--max-bytes", "1024", "--keep", "2"});
        REQUIRE(logd.wait_notify() == "READY=1");
        auto ingest = connect_ingest(dir / "run/ingest.sock");
        for (int i = 0; i < 10; ++i) send_message(ingest.get(), record("web", "2026-11-24T06:17:20.212Z", "stdout", line));
        CHECK(logd.terminate() == 0);
    }
    // 7 lines (959 bytes) fit in 1024; the 8th rotates.
    CHECK(std::filesystem::file_size(dir / "logs/web.log.1") == 7 * 137);
    CHECK(std::filesystem::file_size(dir / "logs/web.log") == 3 * 137);
    {
        LogdProcess logd(dir, {"--max-bytes", "1024", "--keep", "2"});
        REQUIRE(logd.wait_notify() == "READY=1");
        auto ingest = connect_ingest(dir / "run/ingest.sock");
        for (int i = 0; i < 5; ++i) send_message(ingest.get(), record("web", "2026-11-24T06:17:20.212Z", "stdout", line));
        CHECK(logd.terminate() == 0);
    }
    CHECK(std::filesystem::file_size(dir / "logs/web.log.2") == 7 * 137);
    CHECK(std::filesystem::file_size(dir / "logs/web.log.1") == 7 * 137);
    CHECK(std::filesystem::file_size(dir / "logs/web.log") == 1 * 137);
}
