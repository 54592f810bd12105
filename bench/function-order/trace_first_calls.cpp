// Lists the functions a program runs, in the order of their first call: the input of the
// linker's --symbol-ordering-file, which places them together so that PID 1's resident code is
// what it runs (see docs/benchmarks.md, "Memory: where it goes").
//
//   trace_first_calls SYMBOLS OUT -- PROGRAM ARGS...
//
// SYMBOLS: lines "hexaddr name" (from `nm --defined-only`) of PROGRAM, a static executable.
// PROGRAM runs as PID 1 of a new pid + mount namespace, with a one-shot breakpoint (int3) on
// every listed function: the first call traps, is recorded and the byte is put back, so a
// function costs one trap. Processes that share PROGRAM's memory (vfork, threads) are traced
// alike, since what they run is PROGRAM's resident code too; forked processes (containers, the
// manifest helper) get the original bytes back and are let go. SIGUSR1 writes OUT (the names of
// the functions called so far, in order) and SIGTERM writes it and ends the trace.
//
// SIGUSR2 starts the steady state: every breakpoint is set again, and the functions called from
// then on are listed first in OUT, in the order of their first call since, followed by the rest.
// PID 1 drops the mappings of its code once the boot has settled (pid1/src/resident_code.hpp):
// what it maps again is what it runs while idle and answering, and that is then packed together.
// OUT.steady gets that part alone.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Function {
    unsigned long address = 0;
    std::string name;  // all names at this address, one per line (C1/C2 constructors and other aliases)
    unsigned char original = 0;
    long first_call = 0;   // 0: not called yet
    long steady_call = 0;  // its first call in the steady state; 0: none
};

volatile sig_atomic_t dump_requested = 0;
volatile sig_atomic_t stop_requested = 0;
volatile sig_atomic_t rearm_requested = 0;

std::vector<Function> read_symbols(const char* path) {
    std::ifstream in(path);
    std::vector<Function> functions;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        Function f;
        fields >> std::hex >> f.address >> f.name;
        if (fields && f.address) functions.push_back(std::move(f));
    }
    std::sort(functions.begin(), functions.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    // Aliases share an address: one breakpoint, every name (which of them another build of the
    // same code keeps, or lists first, varies).
    std::vector<Function> unique;
    for (auto& f : functions) {
        if (!unique.empty() && unique.back().address == f.address) unique.back().name += "\n" + f.name;
        else unique.push_back(std::move(f));
    }
    return unique;
}

Function* find(std::vector<Function>& functions, unsigned long address) {
    auto it = std::lower_bound(functions.begin(), functions.end(), address,
                               [](const Function& f, unsigned long a) { return f.address < a; });
    return it != functions.end() && it->address == address ? &*it : nullptr;
}

int open_memory(pid_t pid) {
    return ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
}

bool write_byte(int memory, unsigned long address, unsigned char byte) {
    return ::pwrite(memory, &byte, 1, static_cast<off_t>(address)) == 1;
}

bool shares_memory(pid_t a, pid_t b) { return ::syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0; }

void write_order(const std::vector<Function>& functions, const std::string& path) {
    std::vector<const Function*> called;
    for (const auto& f : functions)
        if (f.first_call) called.push_back(&f);
    // Steady-state functions first (in their order), then the others in first-call order.
    std::sort(called.begin(), called.end(), [](auto* a, auto* b) {
        if ((a->steady_call != 0) != (b->steady_call != 0)) return a->steady_call != 0;
        return a->steady_call ? a->steady_call < b->steady_call : a->first_call < b->first_call;
    });
    // OUT, and OUT.steady with the steady-state part alone (to merge several traces' lists).
    for (bool steady_only : {true, false}) {
        std::string target = steady_only ? path + ".steady" : path;
        std::string temporary = target + ".tmp";
        std::ofstream out(temporary, std::ios::trunc);
        for (auto* f : called)
            if (!steady_only || f->steady_call) out << f->name << '\n';
        out.close();
        if (!out || std::rename(temporary.c_str(), target.c_str()) != 0)
            std::cerr << "trace_first_calls: cannot write " << target << ": " << std::strerror(errno) << '\n';
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5 || std::string(argv[3]) != "--") {
        std::cerr << "usage: trace_first_calls SYMBOLS OUT -- PROGRAM ARGS...\n";
        return 2;
    }
    auto functions = read_symbols(argv[1]);
    if (functions.empty()) {
        std::cerr << "trace_first_calls: no symbols in " << argv[1] << '\n';
        return 2;
    }
    std::string out_path = argv[2];

    struct sigaction on_signal = {};
    on_signal.sa_handler = [](int signal) {
        (signal == SIGUSR1 ? dump_requested : signal == SIGUSR2 ? rearm_requested : stop_requested) = 1;
    };
    ::sigaction(SIGUSR1, &on_signal, nullptr);
    ::sigaction(SIGUSR2, &on_signal, nullptr);
    ::sigaction(SIGTERM, &on_signal, nullptr);

    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
        std::perror("trace_first_calls: unshare");
        return 1;
    }
    pid_t traced = ::fork();
    if (traced < 0) {
        std::perror("trace_first_calls: fork");
        return 1;
    }
    if (traced == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Its own mount namespace: the /proc it mounts for its pid namespace must not hide the
        // tracer's view of the processes' memory.
        ::unshare(CLONE_NEWNS);
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        ::execv(argv[4], argv + 4);
        std::perror("trace_first_calls: exec");
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(traced, &status, 0);  // stopped at its exec
    ::ptrace(PTRACE_SETOPTIONS, traced, nullptr,
             PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL);
    int memory = open_memory(traced);
    for (auto& f : functions) {
        if (::pread(memory, &f.original, 1, static_cast<off_t>(f.address)) != 1 || !write_byte(memory, f.address, 0xCC)) {
            std::cerr << "trace_first_calls: cannot set a breakpoint at " << f.name << '\n';
            return 1;
        }
    }
    ::ptrace(PTRACE_CONT, traced, nullptr, nullptr);

    long calls = 0, steady_calls = 0;
    bool steady = false;
    for (;;) {
        if (rearm_requested) {
            rearm_requested = 0;
            steady = true;
            for (const auto& f : functions) write_byte(memory, f.address, 0xCC);
        }
        if (dump_requested) {
            dump_requested = 0;
            write_order(functions, out_path);
        }
        if (stop_requested) break;
        pid_t pid = ::waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == traced) break;
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int signal = WSTOPSIG(status);
        if (std::getenv("TRACE_FIRST_CALLS_DEBUG"))
            std::cerr << "trace_first_calls: " << pid << " stopped: signal " << signal << " event " << (status >> 16)
                      << " shares memory " << shares_memory(pid, traced) << '\n';
        bool event = (status >> 16) != 0;  // a fork/clone event of the stopped process
        if (pid != traced && (signal == SIGSTOP || event) && !shares_memory(pid, traced)) {
            // A new process with its own copy of the memory: give it back its code and let it go.
            // Every byte: the copy is as old as the fork, and this process has since put back some.
            int child_memory = open_memory(pid);
            for (const auto& f : functions) write_byte(child_memory, f.address, f.original);
            ::close(child_memory);
            ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
            continue;
        }
        if (event || signal == SIGSTOP) {
            ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
            continue;
        }
        if (signal == SIGTRAP) {
            user_regs_struct registers;
            ::ptrace(PTRACE_GETREGS, pid, nullptr, &registers);
            if (Function* f = find(functions, registers.rip - 1)) {
                write_byte(memory, f->address, f->original);
                if (!f->first_call) f->first_call = ++calls;
                if (steady && !f->steady_call) f->steady_call = ++steady_calls;
                registers.rip -= 1;
                ::ptrace(PTRACE_SETREGS, pid, nullptr, &registers);
                ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
                continue;
            }
        }
        ::ptrace(PTRACE_CONT, pid, nullptr, signal);
    }
    write_order(functions, out_path);
    return 0;
}
