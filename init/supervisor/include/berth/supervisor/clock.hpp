// Time types shared by the supervision logic. Every function takes `now` explicitly, so tests
// drive a fake clock and the PID 1 loop passes Clock::now().
#pragma once

#include <chrono>
#include <string>

namespace berth::supervisor {

using namespace std::chrono_literals;  // 100ms, 30s in configs and tests

using Clock = std::chrono::steady_clock;  // timers: immune to the wall clock being set (NTP, RTC)
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;  // configured delays and timeouts

using WallClock = std::chrono::system_clock;  // log timestamps and `since` in the control protocol
using WallTime = WallClock::time_point;

// "250ms", "3s", "5m12s", "2h3m", "4d2h": two units at most; sub-second only below a minute.
std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace berth::supervisor
