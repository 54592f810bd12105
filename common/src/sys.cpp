#include "berth/sys.hpp"
#include "berth/parse_integer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/blkpg.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace berth::sys {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

UniqueFd::~UniqueFd() { reset(); }

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return fail_sys("open '" + path + "'");
    return UniqueFd(fd);
}

Result<UniqueFd> openat(int dirfd, const std::string& path, int flags, mode_t mode) {
    int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return fail_sys("open '" + path + "'");
    return UniqueFd(fd);
}

Result<void> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_sys("write");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<std::string> read_all(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_sys("read");
        }
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

Result<std::string> read_file(const std::string& path) {
    auto fd = TRY(open(path, O_RDONLY));
    return TRY_CTX(read_all(fd.get()), "read '" + path + "'");
}

Result<void> write_file(const std::string& path, std::string_view content, int flags, mode_t mode) {
    auto fd = TRY(open(path, O_WRONLY | O_CREAT | O_TRUNC | flags, mode));
    TRY_CTX(write_all(fd.get(), content), "write '" + path + "'");
    return {};
}

Result<void> fsync(int fd, const std::string& what) {
    if (::fsync(fd) != 0) return fail_sys("fsync " + what);
    return {};
}

// <linux/fs.h> would clash with <sys/mount.h> (glibc 2.36); this is its definition.
#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif

Result<uint64_t> device_size(int fd, const std::string& what) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return fail_sys("stat " + what);
    if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) return fail_sys("size of " + what);
    return bytes;
}

#ifndef BLKSSZGET
#define BLKSSZGET _IO(0x12, 104)
#endif
// <linux/ext4.h> is not in the uapi headers; this is the kernel's definition.
#define BERTH_EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)

Result<uint64_t> logical_sector_size(int fd, const std::string& what) {
    int size = 0;
    if (::ioctl(fd, BLKSSZGET, &size) != 0) return fail_sys("sector size of " + what);
    return static_cast<uint64_t>(size);
}

Result<void> resize_partition(int disk_fd, int number, uint64_t start, uint64_t length) {
    struct blkpg_partition part{};
    part.start = static_cast<long long>(start);
    part.length = static_cast<long long>(length);
    part.pno = number;
    struct blkpg_ioctl_arg arg{};
    arg.op = BLKPG_RESIZE_PARTITION;
    arg.datalen = sizeof part;
    arg.data = &part;
    if (::ioctl(disk_fd, BLKPG, &arg) != 0) return fail_sys("tell the kernel partition " + std::to_string(number) + "'s new size");
    return {};
}

Result<void> resize_ext4(int dir_fd, uint64_t blocks) {
    if (::ioctl(dir_fd, BERTH_EXT4_IOC_RESIZE_FS, &blocks) != 0) return fail_sys("grow the ext4 filesystem to " + std::to_string(blocks) + " blocks");
    return {};
}

Result<FreeSpace> free_space(const std::string& path) {
    struct statvfs st{};
    if (::statvfs(path.c_str(), &st) != 0) return fail_sys("statvfs " + path);
    return FreeSpace{static_cast<uint64_t>(st.f_bavail) * st.f_frsize, st.f_bsize};
}

Result<void> write_existing(const std::string& path, std::string_view content) {
    auto fd = TRY(open(path, O_WRONLY));
    // Kernel files take one write per value; a short or failed write is an error.
    ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0) return fail_sys("write '" + std::string(content) + "' to '" + path + "'");
    return {};
}

Result<void> mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty()) return {};
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), mode) < 0 && errno != EEXIST) return fail_sys("mkdir '" + partial + "'");
    }
    return {};
}

Result<void> unlink(const std::string& path) {
    if (::unlink(path.c_str()) < 0) return fail_sys("unlink '" + path + "'");
    return {};
}

Result<void> rmdir(const std::string& path) {
    if (::rmdir(path.c_str()) < 0) return fail_sys("rmdir '" + path + "'");
    return {};
}

Result<void> rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) < 0) return fail_sys("rename '" + from + "' to '" + to + "'");
    return {};
}

Result<void> fsync_path(const std::string& path) {
    auto fd = TRY(open(path, O_RDONLY | O_CLOEXEC));
    if (::fsync(fd.get()) < 0) return fail_sys("fsync '" + path + "'");
    return {};
}

Result<void> write_file_synced(const std::string& path, std::string_view content, mode_t mode) {
    auto fd = TRY(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    TRY_CTX(write_all(fd.get(), content), "write '" + path + "'");
    if (::fsync(fd.get()) < 0) return fail_sys("fsync '" + path + "'");
    return {};
}

Result<void> rename_durably(const std::string& from, const std::string& to) {
    TRY(rename(from, to));
    TRY(fsync_path(to));
    auto slash = to.rfind('/');
    return fsync_path(slash == std::string::npos ? "." : slash == 0 ? "/" : to.substr(0, slash));
}

Result<void> write_file_durably(const std::string& path, std::string_view content, mode_t mode) {
    const std::string temporary = path + ".new";
    TRY(write_file_synced(temporary, content, mode));
    return rename_durably(temporary, path);
}

Result<int> ioctl_int(int fd, unsigned long request, int value, const std::string& what) {
    if (::ioctl(fd, request, &value) < 0) return fail_sys(what);
    return value;
}

std::vector<std::string> list_directory(const std::string& path) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(path.c_str())) {
        while (auto* e = ::readdir(d))
            if (std::string_view name = e->d_name; name != "." && name != "..") names.emplace_back(name);
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

uint64_t file_size(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

Result<void> mount(const std::string& source, const std::string& target, const std::string& fstype,
                   unsigned long flags, const std::string& data) {
    if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                fstype.empty() ? nullptr : fstype.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0)
        return fail_sys("mount '" + source + "' on '" + target + "'" + (fstype.empty() ? "" : " (" + fstype + ")"));
    return {};
}

Result<void> umount2(const std::string& target, int flags) {
    if (::umount2(target.c_str(), flags) < 0) return fail_sys("umount '" + target + "'");
    return {};
}

Result<void> pivot_root(const std::string& new_root, const std::string& put_old) {
    if (::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) < 0)
        return fail_sys("pivot_root to '" + new_root + "'");
    return {};
}

Result<void> chdir(const std::string& path) {
    if (::chdir(path.c_str()) < 0) return fail_sys("chdir '" + path + "'");
    return {};
}

Result<void> chroot(const std::string& path) {
    if (::chroot(path.c_str()) < 0) return fail_sys("chroot '" + path + "'");
    return {};
}

Result<void> setns(int fd, int nstype, const std::string& what) {
    if (::setns(fd, nstype) < 0) return fail_sys("join namespace '" + what + "'");
    return {};
}

Result<void> unshare(int flags) {
    if (::unshare(flags) < 0) return fail_sys("unshare namespaces");
    return {};
}

Result<void> bring_up_loopback() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail_sys("loopback: socket");
    UniqueFd sock(fd);
    struct ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIFFLAGS, &req) < 0) return fail_sys("loopback: get flags");
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(fd, SIOCSIFFLAGS, &req) < 0) return fail_sys("loopback: set up");
    return {};
}

Result<void> sethostname(const std::string& name) {
    if (::sethostname(name.c_str(), name.size()) < 0) return fail_sys("set hostname '" + name + "'");
    return {};
}

Result<void> setdomainname(const std::string& name) {
    if (::setdomainname(name.c_str(), name.size()) < 0) return fail_sys("set domainname '" + name + "'");
    return {};
}

Result<void> mknod(const std::string& path, mode_t mode, dev_t dev) {
    if (::mknod(path.c_str(), mode, dev) < 0) return fail_sys("mknod '" + path + "'");
    return {};
}

Result<void> ioctl(int fd, unsigned long request, void* argument, const std::string& what) {
    if (::ioctl(fd, request, argument) < 0) return fail_sys(what);
    return {};
}

Result<void> symlink(const std::string& target, const std::string& link) {
    if (::symlink(target.c_str(), link.c_str()) < 0) return fail_sys("symlink '" + link + "' -> '" + target + "'");
    return {};
}

Result<void> chown(const std::string& path, uid_t uid, gid_t gid) {
    if (::chown(path.c_str(), uid, gid) < 0) return fail_sys("chown '" + path + "'");
    return {};
}

Result<void> setresuid(uid_t uid) {
    // The raw syscall sets only this thread's ids, which is what a single-threaded child wants.
    if (::syscall(SYS_setresuid, uid, uid, uid) < 0) return fail_sys("setuid " + std::to_string(uid));
    return {};
}

Result<void> setresgid(gid_t gid) {
    if (::syscall(SYS_setresgid, gid, gid, gid) < 0) return fail_sys("setgid " + std::to_string(gid));
    return {};
}

Result<void> setgroups(std::span<const gid_t> groups) {
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) < 0) return fail_sys("setgroups");
    return {};
}

Result<void> set_no_new_privs() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail_sys("set no_new_privs");
    return {};
}

Result<void> set_keep_caps(bool keep) {
    if (::prctl(PR_SET_KEEPCAPS, keep ? 1 : 0, 0, 0, 0) < 0) return fail_sys("set keep_caps");
    return {};
}

Result<void> set_parent_death_signal(int signal) {
    if (::prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0) < 0) return fail_sys("set the parent death signal");
    return {};
}

Result<void> setrlimit(int resource, unsigned long long soft, unsigned long long hard) {
    struct rlimit64 limit{soft, hard};
    if (::setrlimit64(static_cast<__rlimit_resource>(resource), &limit) < 0)
        return fail_sys("setrlimit " + std::to_string(resource));
    return {};
}

Result<void> kill(pid_t pid, int signal) {
    if (::kill(pid, signal) < 0) return fail_sys("kill " + std::to_string(pid) + " with signal " + std::to_string(signal));
    return {};
}

Result<pid_t> clone_process(unsigned long flags) {
    long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) return fail_sys("clone");
    return static_cast<pid_t>(pid);
}

Result<std::pair<sockaddr_un, socklen_t>> unix_socket_address(std::string_view path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty()) return fail("socket path is empty");
    // One byte stays for the terminating NUL of a path name.
    if (path.size() >= sizeof address.sun_path)
        return fail("socket path '" + std::string(path) + "' is too long (" + std::to_string(path.size()) +
                    " bytes, at most " + std::to_string(sizeof address.sun_path - 1) + ")");
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
    return std::pair{address, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size())};
}

Result<UniqueFd> connect_unix(std::string_view path, int type) {
    auto [address, length] = TRY(unix_socket_address(path));
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!fd) return fail_sys("socket for '" + std::string(path) + "'");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0)
        return fail_sys("connect to '" + std::string(path) + "'");
    return fd;
}

Result<std::pair<UniqueFd, UniqueFd>> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) return fail_sys("socketpair");
    return std::pair<UniqueFd, UniqueFd>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<void> send_fd(int socket, int fd, std::string_view payload) {
    char byte = 0;
    struct iovec iov{payload.empty() ? &byte : const_cast<char*>(payload.data()), payload.empty() ? 1 : payload.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) return fail_sys("send file descriptor");
    return {};
}

Result<UniqueFd> recv_fd(int socket) {
    char buf[256];
    struct iovec iov{buf, sizeof buf};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC) < 0) return fail_sys("receive file descriptor");
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return fail("receive file descriptor: no descriptor in message");
    int fd;
    std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return UniqueFd(fd);
}

Result<unsigned long long> process_start_time(pid_t pid) {
    auto stat = TRY(read_file("/proc/" + std::to_string(pid) + "/stat"));
    // The command name (field 2) may contain spaces and ')', so count fields after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return fail("parse /proc/" + std::to_string(pid) + "/stat");
    size_t pos = close + 2;
    for (int field = 3; field < 22; ++field) {
        pos = stat.find(' ', pos);
        if (pos == std::string::npos) return fail("parse /proc/" + std::to_string(pid) + "/stat");
        ++pos;
    }
    std::string_view rest = std::string_view(stat).substr(pos);
    auto start_time = parse_integer<unsigned long long>(rest.substr(0, rest.find(' ')));
    if (!start_time) return fail("parse /proc/" + std::to_string(pid) + "/stat: field 22 is not a number");
    return *start_time;
}

}  // namespace berth::sys
