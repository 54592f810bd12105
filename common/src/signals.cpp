#include "berth/signals.hpp"

#include <csignal>

#include "berth/parse_integer.hpp"

namespace berth {

namespace {

// A fixed table rather than sigabbrev_np(): the same names on every libc.
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},   {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

std::string quoted(std::string_view text) {
    std::string out(1, '\'');  // appended, not "'" + text: GCC 12 warns of a false -Wrestrict there
    out.append(text).push_back('\'');
    return out;
}

// "RTMIN", "RTMIN+3", "RTMAX-1" (already upper-case, without SIG); nullopt if not of that form.
std::optional<Result<int>> realtime_signal(std::string_view name, std::string_view text) {
    const bool min = name.starts_with("RTMIN"), max = name.starts_with("RTMAX");
    if (!min && !max) return std::nullopt;
    const int base = min ? SIGRTMIN : SIGRTMAX;
    std::string_view rest = name.substr(5);
    if (rest.empty()) return Result<int>(base);
    if (rest[0] != '+' && rest[0] != '-') return std::nullopt;
    const std::string range = "RTMIN..RTMAX (" + std::to_string(SIGRTMIN) + "-" + std::to_string(SIGRTMAX) + ")";
    auto offset = parse_integer<int>(rest.substr(1), 0, SIGRTMAX);
    const int signal = !offset ? 0 : rest[0] == '+' ? base + *offset : base - *offset;
    if (signal < SIGRTMIN || signal > SIGRTMAX)
        return Result<int>(fail("invalid signal " + quoted(text) + ": outside the real-time signals " + range));
    return Result<int>(signal);
}

}  // namespace

std::span<const SignalName> signal_names() { return kSignals; }

Result<int> parse_signal(std::string_view text) {
    const std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
        auto number = parse_integer<int>(text, 1, SIGRTMAX);
        if (!number)
            return fail("invalid signal number " + std::string(text) + " (expected 1-" + std::to_string(SIGRTMAX) + ")");
        return *number;
    }
    std::string name;
    for (char c : text) name += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (name.starts_with("SIG")) name.erase(0, 3);
    for (const auto& known : kSignals)
        if (name == known.name) return known.number;
    if (auto realtime = realtime_signal(name, text)) return *realtime;
    return fail("unknown signal " + quoted(text));
}

std::string signal_name(int signal) {
    for (const auto& known : kSignals)
        if (known.number == signal) return "SIG" + std::string(known.name);
    return std::to_string(signal);
}

}  // namespace berth
