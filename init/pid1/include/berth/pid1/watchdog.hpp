// The machine's watchdog (/dev/watchdog0: a hardware one such as QEMU's i6300esb, or softdog):
// armed by berth-init early in the machine role and petted from its loop, so a PID 1 that hangs
// ends in a reset, and a trial boot that hangs uses up one of its tries.
#pragma once

#include <optional>
#include <string>

#include "berth/result.hpp"
#include "berth/supervisor/clock.hpp"
#include "berth/sys.hpp"

namespace berth::pid1 {

inline constexpr const char* kWatchdogDevice = "/dev/watchdog0";

class Watchdog {
public:
    static constexpr int kTimeoutSeconds = 30;
    // A reboot keeps the watchdog armed with this much time: a hang in the kernel's shutdown or
    // in the firmware ends in a reset (systemd's RebootWatchdogSec does the same, 10 min).
    static constexpr int kRebootTimeoutSeconds = 600;

    // Opens and arms `device` with kTimeoutSeconds (or what the driver allows near it).
    // No device: none, and nothing to do.
    static Result<std::optional<Watchdog>> open(const std::string& device = kWatchdogDevice);

    int timeout_seconds() const { return timeout_seconds_; }
    // Pets when a third of the timeout has passed since the last time: a loop that wakes for
    // other reasons pets no more than it needs, an idle one wakes for it (next_pet()).
    void pet_if_due(supervisor::TimePoint now);
    // A full timeout from now (before work that may block, such as unmounting).
    void pet();
    supervisor::TimePoint next_pet() const { return last_pet_ + interval(); }
    // An orderly poweroff: the magic close ('V') stops the timer, so a slow power-off does not
    // bring the machine back up.
    void disarm();
    // An orderly reboot: a fresh, longer timeout, left armed (see kRebootTimeoutSeconds).
    void arm_for_reboot();

private:
    Watchdog(sys::UniqueFd fd, int timeout_seconds);
    supervisor::Duration interval() const { return std::chrono::seconds(timeout_seconds_) / 3; }

    sys::UniqueFd fd_;
    int timeout_seconds_;
    supervisor::TimePoint last_pet_;
};

}  // namespace berth::pid1
