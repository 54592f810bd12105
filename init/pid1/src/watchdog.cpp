#include "berth/pid1/watchdog.hpp"

#include <fcntl.h>
#include <linux/watchdog.h>

#include "berth/log.hpp"

namespace berth::pid1 {

Watchdog::Watchdog(sys::UniqueFd fd, int timeout_seconds)
    : fd_(std::move(fd)), timeout_seconds_(timeout_seconds), last_pet_(supervisor::Clock::now()) {}

Result<std::optional<Watchdog>> Watchdog::open(const std::string& device) {
    if (!sys::exists(device)) return std::optional<Watchdog>();
    // Opening starts the timer (with the driver's default): the timeout is set right after.
    auto fd = TRY(sys::open(device, O_WRONLY | O_CLOEXEC));
    auto timeout = sys::ioctl_int(fd.get(), WDIOC_SETTIMEOUT, kTimeoutSeconds, "set the timeout of " + device);
    int seconds = timeout ? *timeout : 0;
    if (!timeout || seconds <= 0) {
        // The driver's own timeout stays: ask which it is (pets follow a third of it).
        auto current = sys::ioctl_int(fd.get(), WDIOC_GETTIMEOUT, 0, "read the timeout of " + device);
        if (!current || *current <= 0) {
            (void)sys::write_all(fd.get(), "V");  // cannot know how often to pet: leave it stopped
            return fail(timeout ? current.error() : timeout.error());
        }
        seconds = *current;
    }
    Watchdog watchdog(std::move(fd), seconds);
    watchdog.pet();
    log::info("watchdog " + device + " armed: " + std::to_string(seconds) + " s");
    return std::optional<Watchdog>(std::move(watchdog));
}

void Watchdog::pet() {
    if (!fd_) return;
    // The ioctl is the documented keep-alive; a write would do the same.
    if (auto petted = sys::ioctl_int(fd_.get(), WDIOC_KEEPALIVE, 0, "pet the watchdog"); !petted)
        log::error(petted.error().describe());
    last_pet_ = supervisor::Clock::now();
}

void Watchdog::pet_if_due(supervisor::TimePoint now) {
    if (now >= next_pet()) pet();
}

void Watchdog::disarm() {
    if (!fd_) return;
    if (auto written = sys::write_all(fd_.get(), "V"); !written) log::error("disarm the watchdog: " + written.error().describe());
    fd_.reset();
}

void Watchdog::arm_for_reboot() {
    if (!fd_) return;
    auto timeout = sys::ioctl_int(fd_.get(), WDIOC_SETTIMEOUT, kRebootTimeoutSeconds, "set the watchdog's reboot timeout");
    if (!timeout) log::warning(timeout.error().describe() + "; it keeps " + std::to_string(timeout_seconds_) + " s");
    pet();
    // Closed without 'V': the timer keeps running through the reboot.
    fd_.reset();
}

}  // namespace berth::pid1
