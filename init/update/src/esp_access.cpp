#include "berth/update/esp_access.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>

#include "berth/paths.hpp"

namespace berth::update {
namespace {
constexpr unsigned long kEspFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr const char* kEspOptions = "umask=0077";
}  // namespace

Result<EspWriteAccess> EspWriteAccess::acquire(const std::string& esp, bool remount) {
    EspWriteAccess access;
    if (remount) {
        TRY(sys::mkdir_p(paths::kRun));
        access.lock_ = TRY(sys::open(paths::kEspLock, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (::flock(access.lock_.get(), LOCK_EX) != 0) return fail_sys("lock the ESP");
        TRY_CTX(sys::mount("", esp, "", MS_REMOUNT | kEspFlags, kEspOptions), "the ESP read-write");
        access.esp_ = esp;
    }
    return access;
}

Result<void> EspWriteAccess::release() {
    std::string esp = std::move(esp_);
    esp_.clear();
    Result<void> back;
    if (!esp.empty()) back = sys::mount("", esp, "", MS_REMOUNT | MS_RDONLY | kEspFlags, kEspOptions);
    lock_.reset();  // the lock goes with its fd, once the ESP is read-only again
    if (!back) return fail(back.error().wrap("the ESP read-only again"));
    return {};
}

}  // namespace berth::update
