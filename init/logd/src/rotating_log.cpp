#include "berth/logd/rotating_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "berth/logd/record.hpp"

namespace berth::logd {

Result<RotatingLog> RotatingLog::open(const std::string& dir, const std::string& name, RotationPolicy policy) {
    if (!is_valid_log_name(name)) return fail("invalid log name '" + name + "'");
    RotatingLog log(dir, name, policy);
    log.dir_fd_ = TRY(sys::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    TRY(log.open_current());
    return log;
}

Result<void> RotatingLog::open_current() {
    const std::string file = name_ + ".log";
    file_ = TRY(sys::openat(dir_fd_.get(), file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
    struct stat st;
    if (::fstat(file_.get(), &st) < 0) return fail_sys("stat '" + path() + "'");
    written_ = static_cast<std::uint64_t>(st.st_size);
    return {};
}

Result<void> RotatingLog::append(std::string_view line) {
    // An empty file takes any line, so one longer than max_bytes still gets written (alone).
    if (size() > 0 && size() + line.size() > policy_.max_bytes) {
        TRY(flush());
        TRY(rotate());
    }
    pending_.append(line);
    return {};
}

Result<void> RotatingLog::flush() {
    std::string_view rest = pending_;
    while (!rest.empty()) {
        ssize_t n = ::write(file_.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto error = fail_sys("write '" + path() + "'");
            pending_.clear();
            return error;
        }
        written_ += static_cast<std::uint64_t>(n);
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    bool wrote = !pending_.empty();
    pending_.clear();
    if (wrote && ::fdatasync(file_.get()) < 0) return fail_sys("fdatasync '" + path() + "'");
    return {};
}

Result<void> RotatingLog::rotate() {
    const std::string current = name_ + ".log";
    auto numbered = [&](unsigned i) { return current + "." + std::to_string(i); };
    if (policy_.keep == 0) {
        if (::unlinkat(dir_fd_.get(), current.c_str(), 0) < 0 && errno != ENOENT)
            return fail_sys("remove '" + path() + "'");
    } else {
        // Shift from the oldest down; renaming onto .<keep> deletes the oldest. Gaps are fine.
        for (unsigned i = policy_.keep - 1; i >= 1; --i) {
            if (::renameat(dir_fd_.get(), numbered(i).c_str(), dir_fd_.get(), numbered(i + 1).c_str()) < 0 &&
                errno != ENOENT)
                return fail_sys("rename '" + dir_ + "/" + numbered(i) + "'");
        }
        if (::renameat(dir_fd_.get(), current.c_str(), dir_fd_.get(), numbered(1).c_str()) < 0)
            return fail_sys("rename '" + path() + "'");
    }
    return open_current();
}

}  // namespace berth::logd
