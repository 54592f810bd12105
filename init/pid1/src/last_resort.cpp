#include "berth/pid1/last_resort.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace berth::pid1 {
namespace {

bool running_machine = false;

void write_everywhere(const std::string& text) {
    (void)!::write(STDERR_FILENO, text.data(), text.size());
    int kmsg = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (kmsg >= 0) {
        std::string record = "<2>" + text;  // KERN_CRIT
        (void)!::write(kmsg, record.data(), record.size());
        ::close(kmsg);
    }
}

[[noreturn]] void on_terminate() {
    std::string what = "no exception";
    if (auto current = std::current_exception()) {
        try {
            std::rethrow_exception(current);
        } catch (const std::exception& e) {
            what = std::string("exception: ") + e.what();
        } catch (...) {  // the message only: whatever it was, it is reported, not swallowed
            what = "an exception of unknown type";
        }
    }
    bool pid1 = ::getpid() == 1;
    write_everywhere(std::string("berth-init") + (pid1 ? "" : " (helper process)") + ": fatal: std::terminate (" + what +
                     ")" + (pid1 && running_machine ? "; services are no longer supervised, reaping only\n" : "\n"));
    if (pid1 && running_machine) reap_forever();
    std::abort();
}

}  // namespace

void install_terminate_handler(bool machine) {
    running_machine = machine;
    std::set_terminate(on_terminate);
}

void reap_forever() {
    sigset_t children;
    sigemptyset(&children);
    sigaddset(&children, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &children, nullptr);
    for (;;) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        // Woken by SIGCHLD; the timeout catches a child that ended between the two calls.
        struct timespec second{1, 0};
        (void)::sigtimedwait(&children, nullptr, &second);
    }
}

}  // namespace berth::pid1
