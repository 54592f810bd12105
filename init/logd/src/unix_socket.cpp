#include "berth/logd/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>

namespace berth::logd {

Result<sys::UniqueFd> listen_unix(const std::string& path, int type, unsigned mode) {
    auto [address, length] = TRY(sys::unix_socket_address(path));
    sys::UniqueFd fd(::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return fail_sys("socket for '" + path + "'");
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) TRY(sys::unlink(path));  // left by a previous run
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0) return fail_sys("bind '" + path + "'");
    if (::chmod(path.c_str(), mode) < 0) return fail_sys("chmod '" + path + "'");
    if (type != SOCK_DGRAM && ::listen(fd.get(), 16) < 0) return fail_sys("listen '" + path + "'");
    return fd;
}

Result<void> sd_notify(std::string_view state) {
    const char* socket_path = std::getenv("NOTIFY_SOCKET");
    if (!socket_path || !*socket_path) return {};
    auto [address, length] = TRY(sys::unix_socket_address(socket_path));
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_sys("socket for NOTIFY_SOCKET");
    if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length) < 0)
        return fail_sys("send to NOTIFY_SOCKET '" + std::string(socket_path) + "'");
    return {};
}

}  // namespace berth::logd
