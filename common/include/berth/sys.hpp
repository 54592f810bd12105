// Thin wrappers over the syscalls Berth uses: each turns -1/errno into an
// Error with context and does nothing else, so the logic above stays testable.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/result.hpp"

namespace berth::sys {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();

    int get() const { return fd_; }
    int release() { int fd = fd_; fd_ = -1; return fd; }
    void reset(int fd = -1);
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> openat(int dirfd, const std::string& path, int flags, mode_t mode = 0);
Result<std::string> read_file(const std::string& path);
Result<void> write_file(const std::string& path, std::string_view content, int flags = 0, mode_t mode = 0644);
// Writes to a file that must already exist (procfs, sysfs, cgroupfs).
Result<void> write_existing(const std::string& path, std::string_view content);
Result<void> write_all(int fd, std::string_view data);
Result<std::string> read_all(int fd);
Result<void> mkdir_p(const std::string& path, mode_t mode = 0755);
Result<void> unlink(const std::string& path);
Result<void> rmdir(const std::string& path);
Result<void> rename(const std::string& from, const std::string& to);
// fsync(2) of a file or directory (a directory's fsync makes a rename in it durable).
Result<void> fsync_path(const std::string& path);
// rename(2), then made to last: the file under its new name fsynced, then its directory. Both
// are needed on FAT (the ESP): vfat writes the renamed file's size and first cluster into its new
// directory entry only when the file itself is written back, so a directory fsync alone leaves
// an empty file after a power cut.
Result<void> rename_durably(const std::string& from, const std::string& to);
// Replaces `path` so that a reader, or the next boot after a power cut, sees the old content or
// the new, never half: written to path.new, fsynced, renamed over path durably (rename_durably).
Result<void> write_file_durably(const std::string& path, std::string_view content, mode_t mode = 0644);
// The first half of that: `path` created or truncated, written and fsynced (no rename).
Result<void> write_file_synced(const std::string& path, std::string_view content, mode_t mode = 0644);
// ioctl(2) with an int argument the kernel may change (WDIOC_SETTIMEOUT); returns that value.
Result<int> ioctl_int(int fd, unsigned long request, int value, const std::string& what);
bool exists(const std::string& path);
// A file's size in bytes (stat(2)); 0 when it is missing.
uint64_t file_size(const std::string& path);
// The names in a directory (not . and ..), sorted; none if it cannot be opened.
std::vector<std::string> list_directory(const std::string& path);
// fsync(2) of an open file.
Result<void> fsync(int fd, const std::string& what);
// The size of a block device (BLKGETSIZE64), or of a regular file (tests stand in files for disks).
Result<uint64_t> device_size(int fd, const std::string& what);
// A disk's logical sector size (BLKSSZGET).
Result<uint64_t> logical_sector_size(int fd, const std::string& what);
// Tells the kernel a partition of the disk open as `disk_fd` now spans [start, start + length) bytes.
Result<void> resize_partition(int disk_fd, int number, uint64_t start, uint64_t length);
// Grows the mounted ext4 filesystem whose mount point is open as `dir_fd` to `blocks` blocks.
Result<void> resize_ext4(int dir_fd, uint64_t blocks);
// Bytes an unprivileged writer may still use on the filesystem holding `path`, and its block size.
struct FreeSpace {
    uint64_t bytes = 0, block_size = 0;
};
Result<FreeSpace> free_space(const std::string& path);

Result<void> mount(const std::string& source, const std::string& target, const std::string& fstype,
                   unsigned long flags, const std::string& data);
Result<void> umount2(const std::string& target, int flags);
Result<void> pivot_root(const std::string& new_root, const std::string& put_old);
Result<void> chdir(const std::string& path);
Result<void> chroot(const std::string& path);
Result<void> setns(int fd, int nstype, const std::string& what);
Result<void> unshare(int flags);
Result<void> sethostname(const std::string& name);
// The loopback interface of this process's network namespace, up.
Result<void> bring_up_loopback();
Result<void> setdomainname(const std::string& name);
Result<void> mknod(const std::string& path, mode_t mode, dev_t dev);
// ioctl(2) with a pointer argument (device-mapper's control requests, ...); `what` names the
// request in the error.
Result<void> ioctl(int fd, unsigned long request, void* argument, const std::string& what);
Result<void> symlink(const std::string& target, const std::string& link);
Result<void> chown(const std::string& path, uid_t uid, gid_t gid);
Result<void> setresuid(uid_t uid);
Result<void> setresgid(gid_t gid);
Result<void> setgroups(std::span<const gid_t> groups);
Result<void> set_no_new_privs();
Result<void> set_keep_caps(bool keep);
// The signal this process gets when its parent ends (PR_SET_PDEATHSIG).
Result<void> set_parent_death_signal(int signal);
Result<void> setrlimit(int resource, unsigned long long soft, unsigned long long hard);
Result<void> kill(pid_t pid, int signal);

// fork() through clone(2) with extra flags (CLONE_PARENT, namespace flags).
// Returns 0 in the child, the child's pid in the parent.
Result<pid_t> clone_process(unsigned long flags);

// The address of a Unix socket at `path` ("@name": the abstract namespace), with its length.
// Refuses an empty path and one that does not fit sun_path: never a truncated address.
Result<std::pair<sockaddr_un, socklen_t>> unix_socket_address(std::string_view path);
// A socket of `type` (SOCK_STREAM, SOCK_SEQPACKET, ...) connected to the Unix socket at `path`.
Result<UniqueFd> connect_unix(std::string_view path, int type);

// A socketpair for parent/child synchronisation.
Result<std::pair<UniqueFd, UniqueFd>> socket_pair();
// Sends/receives an fd over a Unix socket (SCM_RIGHTS).
Result<void> send_fd(int socket, int fd, std::string_view payload);
Result<UniqueFd> recv_fd(int socket);

// Start time of a process (field 22 of /proc/PID/stat), to tell a pid from a reused one.
Result<unsigned long long> process_start_time(pid_t pid);

}  // namespace berth::sys
