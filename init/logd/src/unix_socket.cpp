#include "berth/logd/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>

namespace berth::logd {

namespace {

Result<std::pair<sockaddr_un, socklen_t>> address_of(std::string_view path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path)
        return fail("socket path '" + std::string(path) + "' is empty or too long");
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    return std::pair{address, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size())};
}

}  // namespace

Result<sys::UniqueFd> listen_unix(const std::string& path, int type, unsigned mode) {
    auto [address, length] = TRY(address_of(path));
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
    auto [address, length] = TRY(address_of(socket_path));
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_sys("socket for NOTIFY_SOCKET");
    if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length) < 0)
        return fail_sys("send to NOTIFY_SOCKET '" + std::string(socket_path) + "'");
    return {};
}

}  // namespace berth::logd
