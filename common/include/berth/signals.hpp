// The one table of signal names: what `berth kill`, `berthctl kill`, the control socket and a
// manifest's [stop] signal accept, and how logs and status name a signal.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "berth/result.hpp"

namespace berth {

struct SignalName {
    std::string_view name;  // without "SIG": "TERM"
    int number;
};

// Every named signal, in number order (aliases such as IOT after their signal).
std::span<const SignalName> signal_names();

// "KILL", "SIGKILL", "kill", "9", "RTMIN", "RTMIN+2", "SIGRTMAX-1" → the signal number.
// Refuses 0, negative numbers, numbers above SIGRTMAX (64) and real-time offsets outside
// RTMIN..RTMAX, with a message naming the text.
Result<int> parse_signal(std::string_view text);

// "SIGTERM" for a named signal, else the number ("42").
std::string signal_name(int signal);

}  // namespace berth
