#include "small_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/sys.hpp"

namespace berth::manifest {

Result<std::string> read_small_file(const std::string& path, size_t max_bytes, FinalSymlink final_symlink) {
    // O_NONBLOCK: opening a FIFO must not hang berth-init; it is refused below anyway.
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (final_symlink == FinalSymlink::Refuse ? O_NOFOLLOW : 0);
    int fd = ::open(path.c_str(), flags);
    if (fd < 0) return fail_sys("cannot read '" + path + "'");
    sys::UniqueFd file(fd);
    struct stat st;
    if (::fstat(file.get(), &st) != 0) return fail_sys("cannot read '" + path + "'");
    if (!S_ISREG(st.st_mode)) return fail("cannot read '" + path + "': not a regular file");
    if (static_cast<size_t>(st.st_size) > max_bytes)
        return fail("cannot read '" + path + "': larger than " + std::to_string(max_bytes) + " bytes");
    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(file.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_sys("cannot read '" + path + "'");
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > max_bytes)
            return fail("cannot read '" + path + "': larger than " + std::to_string(max_bytes) + " bytes");
    }
    return text;
}

}  // namespace berth::manifest
