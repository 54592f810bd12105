#include "berth/pid1/early_boot.hpp"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "berth/log.hpp"
#include "berth/parse_integer.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/gpt.hpp"
#include "berth/pid1/system_setup.hpp"
#include "berth/sys.hpp"
#include "berth/update/boot_record.hpp"
#include "berth/update/host_update.hpp"

namespace berth::pid1 {
namespace {

constexpr const char* kNewRoot = "/sysroot";
constexpr const char* kStateMount = "/sysroot/var";

}  // namespace

std::vector<BlockDevice> scan_block_devices() {
    std::vector<BlockDevice> devices;
    DIR* dir = ::opendir("/sys/class/block");
    if (!dir) return devices;
    while (auto* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        auto uevent = sys::read_file(std::string("/sys/class/block/") + entry->d_name + "/uevent");
        if (uevent) devices.push_back(parse_block_uevent(*uevent));
    }
    ::closedir(dir);
    return devices;
}

namespace {

// Devices appear as their drivers probe them, asynchronously: poll until the spec resolves.
Result<std::string> wait_for_device(const std::string& spec, const std::string& role, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        auto devices = scan_block_devices();
        auto name = find_block_device(spec, devices);
        if (!name.empty()) return "/dev/" + name;
        if (std::chrono::steady_clock::now() > deadline)
            return fail(role + " partition '" + spec + "' not found after " + std::to_string(seconds) +
                        " s; block devices: " + describe_block_devices(devices));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// The first word of a sysfs file ("4\n" → "4").
std::string first_word(const std::string& text) {
    size_t end = text.find_first_of(" \t\n");
    return text.substr(0, end);
}

// The block device's sysfs name and its disk's: "vda4" → "vda", with the partition's number.
struct PartitionOf {
    std::string disk;
    int number = 0;
};
Result<PartitionOf> partition_of(const std::string& device) {
    std::string name = device.substr(device.rfind('/') + 1), sys_dir = "/sys/class/block/" + name;
    auto number = parse_integer<int>(first_word(TRY(sys::read_file(sys_dir + "/partition"))), 1, 256);
    if (!number) return fail(device + " is not a partition");
    char resolved[PATH_MAX];
    if (!::realpath((sys_dir + "/..").c_str(), resolved)) return fail_sys("the disk of " + device);
    std::string disk = resolved;
    return PartitionOf{disk.substr(disk.rfind('/') + 1), *number};
}

// A disk larger than the image written to it (a server's disk, a cloud volume grown later): the
// state partition, the last one, takes the rest. The table is rewritten (backup first), then the
// kernel is told the partition's new size; the filesystem follows once mounted.
Result<void> grow_state_partition(const std::string& device) {
    auto where = TRY(partition_of(device));
    std::string disk_path = "/dev/" + where.disk;
    auto disk = TRY(sys::open(disk_path, O_RDWR | O_CLOEXEC));
    uint64_t bytes = TRY(sys::device_size(disk.get(), disk_path));
    uint64_t sector = TRY(sys::logical_sector_size(disk.get(), disk_path));
    auto grown = TRY_CTX(grow_last_partition(disk.get(), bytes, sector, u"state"), disk_path);
    if (!grown) return {};
    uint64_t length = (grown->new_last_lba - grown->first_lba + 1) * sector;
    TRY(sys::resize_partition(disk.get(), where.number, grown->first_lba * sector, length));
    log::info("state partition " + device + " grown to the end of " + disk_path + ": " +
              std::to_string((grown->old_last_lba - grown->first_lba + 1) * sector >> 20) + " MiB -> " + std::to_string(length >> 20) + " MiB");
    return {};
}

// The mounted state filesystem follows its partition (online resize, as resize2fs does it).
Result<void> grow_state_filesystem(const std::string& device, const std::string& mount_point) {
    auto head = TRY(read_head(device, 4096));
    uint64_t fs_bytes = ext_size_bytes(head);
    auto sectors = parse_integer<uint64_t>(first_word(TRY(sys::read_file("/sys/class/block/" + device.substr(device.rfind('/') + 1) + "/size"))));
    if (!sectors || fs_bytes == 0) return {};
    uint64_t part_bytes = *sectors * 512, block = ext_block_size(head);
    if (part_bytes < fs_bytes + (1 << 20)) return {};
    auto dir = TRY(sys::open(mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    TRY(sys::resize_ext4(dir.get(), part_bytes / block));
    log::info("state filesystem grown from " + std::to_string(fs_bytes >> 20) + " MiB to " + std::to_string(part_bytes / block * block >> 20) + " MiB");
    return {};
}

// The state partition: formatted on first boot (no filesystem yet), then mounted at /var of the
// new root. A damaged filesystem is never reformatted: that would lose the host's keys and logs.
Result<void> mount_state(const std::string& device) {
    if (auto grown = grow_state_partition(device); !grown)
        log::warning("state partition " + device + " keeps its size: " + grown.error().describe());
    auto head = TRY(read_head(device, 4096));
    const std::string bin = std::string(kNewRoot) + "/usr/bin/";
    if (!has_ext_magic(head)) {
        log::info("state partition " + device + " has no filesystem: formatting it (first boot)");
        // 4 KiB blocks, a page each: mke2fs's writes then need no read of the rest of the page
        // first (with 1 KiB blocks, its default at this size, it read 2 MiB back block by block).
        if (int code = TRY(run_program({bin + "busybox", "mke2fs", "-b", "4096", "-I", "256", "-i", "16384", "-L", "state", device}, true)); code != 0)
            return fail("mke2fs " + device + " exited with " + std::to_string(code));
    } else if (!ext_is_clean(head)) {
        // After a power cut the filesystem may need repairs: e2fsck fixes what is safe (-p),
        // then, if that is not enough, everything (-y): nobody is at the console to answer.
        int code = TRY(run_program({bin + "e2fsck", "-p", device}, false));
        if (code >= 4) {
            log::warning("state partition " + device + ": e2fsck -p found errors it cannot fix alone (" +
                         std::to_string(code) + "); repairing with e2fsck -y");
            code = TRY(run_program({bin + "e2fsck", "-y", device}, false));
        }
        if (code >= 4) return fail("state partition " + device + " has errors e2fsck could not repair (exit " + std::to_string(code) + ")");
        if (code != 0) log::warning("state partition " + device + ": e2fsck repaired the filesystem (exit " + std::to_string(code) + ")");
    }
    TRY(sys::mkdir_p(kStateMount));
    TRY_CTX(sys::mount(device, kStateMount, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, ""),
            "mount state partition " + device);
    if (auto grown = grow_state_filesystem(device, kStateMount); !grown)
        log::warning("state filesystem on " + device + " keeps its size: " + grown.error().describe());
    return {};
}

// Frees the initramfs (it stays in RAM otherwise) without crossing into mounts.
void remove_tree(int dirfd, dev_t root_dev) {
    DIR* dir = ::fdopendir(dirfd);
    if (!dir) return;
    while (auto* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st{};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != root_dev) continue;
        if (S_ISDIR(st.st_mode)) {
            int child = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (child >= 0) remove_tree(child, root_dev);
            ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR);
        } else {
            ::unlinkat(dirfd, name.c_str(), 0);
        }
    }
    ::closedir(dir);
}

// The root slot, read-only: through dm-verity when the command line names its root hash (every
// block checked as it is read), else straight from the partition, said to be unverified.
Result<void> mount_root(const std::string& partition, const BootParameters& params) {
    std::string described = params.root + ", slot " + (params.slot.empty() ? "?" : params.slot);
    std::string source = partition;
    if (params.verity) {
        source = TRY_CTX(open_verity_device("root", partition, *params.verity),
                         "open root " + partition + " through dm-verity");
        described = "dm-verity over " + partition + ", root hash " + params.verity->root_hash + ", " + described;
    }
    if (auto mounted = sys::mount(source, kNewRoot, params.root_fstype, MS_RDONLY | MS_NODEV, ""); !mounted) {
        auto error = std::move(mounted).error().wrap("mount root " + source + " (" + params.root_fstype + ", " + described + ")");
        // What dm-verity returns for a block that does not match the tree (the kernel log names it).
        if (params.verity && error.errnum == EIO)
            error = std::move(error).wrap("the root slot cannot be read or does not match its root hash (dm-verity)");
        return fail(std::move(error));
    }
    if (params.verity) log::info("root: " + source + " (" + described + ")");
    else log::warning("root: " + source + " (" + described + ") is not verified: no berth.verity= on the kernel command line");
    return {};
}

// This boot ends here, before the blessing that records failed tries: the reason is left on the
// state partition for the boot of the other slot (update::EarlyFailure), when the state
// filesystem is clean enough to mount without a check (its checker lives in the root).
void note_root_failure(const BootParameters& params, const std::string& reason) {
    if (!params.verity || params.slot.empty()) return;
    constexpr const char* kNoteMount = "/run/state";
    auto noted = [&]() -> Result<void> {
        auto device = find_block_device(params.state, scan_block_devices());
        if (device.empty()) return fail("no state partition");
        device = "/dev/" + device;
        auto head = TRY(read_head(device, 4096));
        if (!has_ext_magic(head) || !ext_is_clean(head)) return fail("the state filesystem is new or needs a check");
        TRY(sys::mkdir_p(kNoteMount));
        TRY(sys::mount(device, kNoteMount, "ext4", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, ""));
        std::string dir = std::string(kNoteMount) + "/lib/berth/update";
        auto written = sys::mkdir_p(dir, 0700).and_then([&] {
            update::EarlyFailure note{params.slot, params.verity->root_hash, reason, update::utc_now()};
            return sys::write_file_durably(update::early_failure_path(dir, params.slot), update::format_early_failure(note), 0600);
        });
        auto unmounted = sys::umount2(kNoteMount, 0);
        TRY(written);
        return unmounted;
    }();
    if (noted) log::info("the reason is noted on the state partition for the next boot");
    else log::warning("the reason could not be noted on the state partition: " + noted.error().describe());
}

Result<void> switch_root(const std::string& init) {
    for (const char* m : {"/dev", "/proc", "/sys", "/run"}) {
        std::string target = std::string(kNewRoot) + m;
        TRY(sys::mkdir_p(target));
        TRY_CTX(sys::mount(m, target, "", MS_MOVE, ""), std::string("move ") + m);
    }
    struct stat root{};
    ::stat("/", &root);
    TRY(sys::chdir(kNewRoot));
    if (int fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) remove_tree(fd, root.st_dev);
    TRY_CTX(sys::mount(".", "/", "", MS_MOVE, ""), "move the new root to /");
    TRY(sys::chroot("."));
    TRY(sys::chdir("/"));
    const char* argv[] = {init.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    return fail_sys("exec " + init + " in the new root");
}

}  // namespace

Result<BootParameters> parse_boot_parameters(std::string_view cmdline) {
    BootParameters params;
    std::map<std::string, std::string> verity_words;
    std::istringstream in{std::string(cmdline)};
    for (std::string word; in >> word;) {
        auto eq = word.find('=');
        if (eq == std::string::npos) continue;
        std::string key = word.substr(0, eq), value = word.substr(eq + 1);
        if (key == "root") params.root = value;
        else if (key == "rootfstype") params.root_fstype = value;
        else if (key == "init") params.init = value;
        else if (key == "berth.slot") params.slot = value;
        else if (key == "berth.state") params.state = value;
        else if (key == "berth.test.hang") params.test_hang = value;
        else if (key == "berth.verity" || key.rfind("berth.verity.", 0) == 0) verity_words[key] = value;
        else if (key == "berth.rootwait") {
            auto seconds = parse_integer<int>(value, 1, 3600);
            if (!seconds)
                return fail("kernel command line: berth.rootwait='" + value + "' is not a number of seconds (1..3600)");
            params.rootwait_seconds = *seconds;
        }
    }
    if (params.root.empty()) return fail("kernel command line has no root= (expected root=PARTLABEL=root-a)");
    params.verity = TRY(parse_verity_words(verity_words));
    return params;
}

BlockDevice parse_block_uevent(std::string_view uevent) {
    BlockDevice device;
    std::istringstream in{std::string(uevent)};
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("DEVNAME=", 0) == 0) device.name = line.substr(8);
        else if (line.rfind("PARTNAME=", 0) == 0) device.partname = line.substr(9);
    }
    return device;
}

std::string find_block_device(const std::string& spec, const std::vector<BlockDevice>& devices) {
    for (const auto& d : devices) {
        if (d.name.empty()) continue;
        if (spec.rfind("PARTLABEL=", 0) == 0 ? d.partname == spec.substr(10) : spec == "/dev/" + d.name) return d.name;
    }
    return "";
}

std::string describe_block_devices(const std::vector<BlockDevice>& devices) {
    if (devices.empty()) return "none (is the disk driver, e.g. virtio_blk, loaded?)";
    std::string out;
    for (const auto& d : devices) {
        if (!out.empty()) out += ", ";
        out += d.name + (d.partname.empty() ? "" : " (" + d.partname + ")");
    }
    return out;
}

bool has_ext_magic(std::string_view head) {
    return head.size() >= 1082 && static_cast<unsigned char>(head[1080]) == 0x53 &&
           static_cast<unsigned char>(head[1081]) == 0xEF;
}

uint64_t ext_block_size(std::string_view head) {
    if (!has_ext_magic(head) || head.size() < 1024 + 28) return 0;
    uint32_t log = 0;
    std::memcpy(&log, head.data() + 1024 + 24, 4);  // s_log_block_size: 1024 << n
    return log < 7 ? uint64_t{1024} << log : 0;
}

uint64_t ext_size_bytes(std::string_view head) {
    if (!has_ext_magic(head) || head.size() < 1024 + 0x154) return 0;
    uint32_t lo = 0, hi = 0, incompat = 0;
    std::memcpy(&lo, head.data() + 1024 + 4, 4);           // s_blocks_count_lo
    std::memcpy(&incompat, head.data() + 1024 + 0x60, 4);  // s_feature_incompat
    if (incompat & 0x80) std::memcpy(&hi, head.data() + 1024 + 0x150, 4);  // 64bit: s_blocks_count_hi
    return (uint64_t{hi} << 32 | lo) * ext_block_size(head);
}

bool ext_is_clean(std::string_view head) {
    if (!has_ext_magic(head) || head.size() < 1024 + 60) return false;
    unsigned state = static_cast<unsigned char>(head[1024 + 58]) | static_cast<unsigned char>(head[1024 + 59]) << 8;
    return (state & 1) != 0 && (state & 2) == 0;  // EXT2_VALID_FS set, EXT2_ERROR_FS clear
}

Result<int> run_program(const std::vector<std::string>& argv, bool quiet) {
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        // quiet: its chatter stays off the console; failures still show on stderr.
        if (int null = ::open("/dev/null", O_WRONLY); quiet && null >= 0) ::dup2(null, STDOUT_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status)) return fail(argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status)));
    return WEXITSTATUS(status);
}

Result<std::string> read_head(const std::string& device, size_t bytes) {
    auto fd = TRY(sys::open(device, O_RDONLY));
    std::string head(bytes, '\0');
    ssize_t n = ::pread(fd.get(), head.data(), bytes, 0);
    if (n < 0) return fail_sys("read " + device);
    head.resize(static_cast<size_t>(n));
    return head;
}

bool fat_volume_dirty(std::string_view boot_sector) {
    if (boot_sector.size() < 512 || boot_sector[510] != '\x55' || boot_sector[511] != '\xaa') return false;
    auto byte = [&](size_t at) { return static_cast<unsigned char>(boot_sector[at]); };
    bool fat32 = byte(22) == 0 && byte(23) == 0;  // BPB_FATSz16: 0 on FAT32
    return (byte(fat32 ? 0x41 : 0x25) & 0x01) != 0;
}

Result<void> run_early_boot() {
    TRY(apply_mounts({
        {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
        {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
        {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
        {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    }));
    // Expedited RCU grace periods until the boot has settled (the machine role turns them off):
    // a normal grace period costs tens of milliseconds under emulation, and booting waits on
    // many (every packet socket closed by the DHCP client, namespaces, module loads). Android's
    // boot does the same. A kernel without the knob boots the same way, only slower.
    if (auto expedited = sys::write_existing(kRcuExpedited, "1"); !expedited && expedited.error().errnum != ENOENT)
        log::warning(expedited.error().describe());
    // There is no modprobe in Berth's images: the kernel is told so, instead of starting a helper
    // process that fails each time a driver, filesystem or crypto algorithm is looked for.
    if (auto no_modprobe = sys::write_existing("/proc/sys/kernel/modprobe", "\n"); !no_modprobe)
        log::warning(no_modprobe.error().describe());
    // Userspace starts here: the boot-time figure ("all services ready") is measured from it.
    struct timespec started{};
    ::clock_gettime(CLOCK_BOOTTIME, &started);
    TRY(sys::mkdir_p(paths::kRun));
    TRY(sys::write_file(paths::kUserspaceStart,
                        std::to_string(started.tv_sec) + "." + std::to_string(started.tv_nsec / 1000000 + 1000).substr(1) + "\n"));
    auto cmdline = TRY(sys::read_file("/proc/cmdline"));
    auto params = TRY(parse_boot_parameters(cmdline));
    // The disk drivers load until the root and state partitions are there; the host loads the
    // rest later, for other disks.
    auto partitions_found = [&params] {
        auto devices = scan_block_devices();
        return !find_block_device(params.root, devices).empty() && !find_block_device(params.state, devices).empty();
    };
    TRY_CTX(load_listed_modules(paths::kModules, partitions_found), "load the initramfs modules");

    auto root_device = TRY(wait_for_device(params.root, "root", params.rootwait_seconds));
    TRY(sys::mkdir_p(kNewRoot));
    if (auto mounted = mount_root(root_device, params); !mounted) {
        note_root_failure(params, mounted.error().describe());
        return mounted;
    }

    // Without its state the host still boots (services that need /var fail visibly): a console
    // message beats a hang, and the admin can still log in through a debug console.
    auto state_device = wait_for_device(params.state, "state", params.rootwait_seconds);
    auto state = state_device ? mount_state(*state_device) : Result<void>(fail(state_device.error()));
    if (!state) {
        log::error(state.error().describe() + "; /var is a tmpfs for this boot: nothing will persist");
        TRY(sys::mount("tmpfs", kStateMount, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
    }
    // The slot we booted, for the machine role (updates write the other one).
    TRY(sys::write_file(paths::kBootSlot, params.slot + "\n"));
    return switch_root(params.init);
}

}  // namespace berth::pid1
