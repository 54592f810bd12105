// The ESP is mounted read-only; whoever writes it (the update job, the boot blessing) holds this:
// an exclusive lock (/run/berth/esp.lock, one writer at a time) and the ESP remounted read-write
// until release(), which remounts it read-only (writing the FAT out) and reports how that went.
#pragma once

#include <string>

#include "berth/result.hpp"
#include "berth/sys.hpp"

namespace berth::update {

class EspWriteAccess {
public:
    // remount: false where the "ESP" is a plain directory (tests): no remount, no lock.
    static Result<EspWriteAccess> acquire(const std::string& esp, bool remount);
    EspWriteAccess(EspWriteAccess&& other) noexcept : lock_(std::move(other.lock_)), esp_(std::move(other.esp_)) { other.esp_.clear(); }
    EspWriteAccess& operator=(EspWriteAccess&&) = delete;
    ~EspWriteAccess() { (void)release(); }
    Result<void> release();

private:
    EspWriteAccess() = default;
    sys::UniqueFd lock_;
    std::string esp_;  // remounted: read-only again on release
};

}  // namespace berth::update
