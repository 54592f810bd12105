// berthctl update, end to end through berth-init as PID 1: the bundle's file descriptor goes over
// the control socket (SCM_RIGHTS) to the update job, which writes a layout of files standing in
// for the disk (slots are files, the ESP a directory).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "berth/sys.hpp"
#include "berth/update/bundle_builder.hpp"
#include "init_host.hpp"
#include "skip.hpp"

using namespace berth::test;
namespace fs = std::filesystem;
namespace update = berth::update;
using json = nlohmann::json;

namespace {

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(gen());
    return out;
}

void write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

std::string read(const fs::path& path) { return berth::sys::read_file(path.string()).value_or("<missing>"); }

// A host booted from slot A: its ESP, its slots, its identity, its trusted key; and bundles.
struct UpdateHost {
    InitHost host;
    fs::path dir = fs::path(host.dir()) / "update";
    update::SecretKey key;
    std::array<std::string, 3> parts{random_bytes(700000, 1), random_bytes(300000, 2), random_bytes(20000, 3)};
    bool esp_on_vfat;

    // esp_on_vfat: the ESP is a FAT filesystem mounted read-only (a loop device), as on a host: the
    // update job's sandbox then holds it writable for the job. Otherwise a plain directory.
    explicit UpdateHost(bool esp_on_vfat = false) : esp_on_vfat(esp_on_vfat) {
        REQUIRE(update::init_crypto());
        if (esp_on_vfat) {
            fs::create_directories(dir / "esp");
            REQUIRE(run_command({"/usr/sbin/mkfs.vfat", "-C", (dir / "esp.img").string(), "8192"}).exit_code == 0);
            REQUIRE(run_command({"/usr/bin/mount", "-o", "loop,umask=0077", (dir / "esp.img").string(), (dir / "esp").string()}).exit_code == 0);
        }
        key = update::generate_secret_key();
        write(dir / "keys/release.pub", update::format_public_key(key.public_key(), "test"));
        write(dir / "os-release", "NAME=Berth\nVERSION_ID=0.1.0\n");
        write(dir / "compatible", "berth-x86_64-efi\n");
        write(dir / "boot-slot", "a\n");
        write(dir / "esp/loader/entries/berth-a.conf", "version 0.1.0\n");
        write(dir / "esp/loader/entries/berth-b.conf", "version 0.1.0~fallback\n");
        for (const char* slot : {"a", "b"}) {
            write(dir / "esp/berth" / slot / "vmlinuz", "old kernel");
            write(dir / "esp/berth" / slot / "initramfs.img", "old initramfs");
            write(dir / (std::string("root-") + slot), random_bytes(1 << 20, slot[0]));
        }
        if (esp_on_vfat)
            REQUIRE(run_command({"/usr/bin/mount", "-o", "remount,ro,nosuid,nodev,noexec", (dir / "esp").string()}).exit_code == 0);
        std::string command = std::string(BERTH_UPDATE_BINARY) + " --esp " + (dir / "esp").string() + " --state " +
                              (dir / "state").string() + " --keys " + (dir / "keys").string() + " --os-release " +
                              (dir / "os-release").string() + " --compatible " + (dir / "compatible").string() +
                              " --boot-slot " + (dir / "boot-slot").string() + " --device-a " + (dir / "root-a").string() +
                              " --device-b " + (dir / "root-b").string();
        host.extra_args({"--update-command", command});
        host.service("steady", looping(""));
        host.start();
        host.wait_state("steady", "running");
    }

    ~UpdateHost() {
        if (esp_on_vfat) ::umount2((dir / "esp").c_str(), MNT_DETACH);
    }

    fs::path bundle(const std::string& version, const std::string& name) {
        update::BundleManifest m;
        m.version = version;
        m.min_version = "0.1.0";
        m.build_id = "test";
        m.architecture = "x86_64";
        m.compatible = "berth-x86_64-efi";
        m.created = "2026-12-03T13:00:00Z";
        m.verity_root_hash = std::string(64, 'c');
        m.verity_salt = "00";
        m.cmdline = "root=PARTLABEL=root-@SLOT@ berth.slot=@SLOT@ berth.verity=" + m.verity_root_hash;
        std::array<std::string, 3> files;
        for (size_t i = 0; i < 3; ++i) {
            files[i] = (dir / (name + ".part" + std::to_string(i))).string();
            write(files[i], parts[i]);
        }
        fs::path out = dir / name;
        REQUIRE(update::write_bundle(m, files, {key}, out.string()));
        return out;
    }
};

}  // namespace

TEST_CASE("update apply, status and rollback through berth-init's control socket", "[priv][init][update]") {
    if (!have_unshare()) return skip("needs root and unshare");
    UpdateHost u;
    int steady_pid = u.host.service_status("steady")["pid"].get<int>();
    auto good = u.bundle("0.2.0", "good.bundle");

    SECTION("from a file, then from standard input; a bad one from standard input changes nothing") {
        auto applied = u.host.ctl({"update", "apply", good.string()});
        INFO(applied.err << applied.out << u.host.init_log());
        REQUIRE(applied.exit_code == 0);
        CHECK_THAT(applied.out, Catch::Contains("installed 0.2.0 in slot b (berth-b+3.conf)"));
        CHECK(read(u.dir / "root-b").substr(0, u.parts[0].size()) == u.parts[0]);
        CHECK(read(u.dir / "esp/berth/b/vmlinuz") == u.parts[1]);
        CHECK_THAT(read(u.dir / "esp/loader/entries/berth-b+3.conf"), Catch::Contains("options    root=PARTLABEL=root-b berth.slot=b"));
        CHECK_FALSE(fs::exists(u.dir / "esp/loader/entries/berth-b.conf"));
        CHECK(read(u.dir / "esp/loader/entries/berth-a.conf") == "version 0.1.0\n");

        auto piped = u.host.ctl_with_input({"update", "apply", "-"}, read(good));
        INFO(piped.err);
        CHECK(piped.exit_code == 0);

        std::string slot_before = read(u.dir / "root-b"), esp_entry = read(u.dir / "esp/loader/entries/berth-b+3.conf");
        std::string damaged = read(good);
        damaged[damaged.size() - 100] ^= 1;  // in the initramfs
        auto bad = u.host.ctl_with_input({"update", "apply", "-"}, damaged);
        CHECK(bad.exit_code == 1);
        CHECK_THAT(bad.err, Catch::Contains("part initramfs: its SHA-256"));
        CHECK_THAT(bad.err, Catch::Contains("nothing was written"));
        CHECK(read(u.dir / "root-b") == slot_before);
        CHECK(read(u.dir / "esp/loader/entries/berth-b+3.conf") == esp_entry);

        auto status = json::parse(u.host.ctl({"--json", "update", "status"}).out);
        CHECK(status["booted_slot"] == "a");
        CHECK(status["running_version"] == "0.1.0");
        CHECK(status["slots"]["b"]["state"] == "trying");
        CHECK(status["slots"]["b"]["tries_left"] == 3);
        CHECK(status["slots"]["b"]["version"] == "0.2.0");
        CHECK(status["slots"]["a"]["state"] == "good");
        CHECK(status["last_update"]["outcome"] == "refused");
        CHECK_THAT(status["last_update"]["reason"].get<std::string>(), Catch::Contains("part initramfs"));
    }

    SECTION("refusals before any write: an older version, a file that is not a bundle, no file at all") {
        auto older = u.bundle("0.1.0", "same.bundle");
        auto refused = u.host.ctl({"update", "apply", older.string()});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("not newer than the running 0.1.0 (--allow-downgrade"));
        CHECK(u.host.ctl({"update", "apply", "--allow-downgrade", older.string()}).exit_code == 0);

        write(u.dir / "junk", "hello");
        auto junk = u.host.ctl({"update", "apply", (u.dir / "junk").string()});
        CHECK(junk.exit_code == 1);
        CHECK_THAT(junk.err, Catch::Contains("truncated bundle"));
        auto missing = u.host.ctl({"update", "apply"});
        CHECK(missing.exit_code == 1);
        CHECK_THAT(missing.err, Catch::Contains("expected a bundle file"));
    }

    SECTION("rollback only to a good slot") {
        REQUIRE(u.host.ctl({"update", "apply", good.string()}).exit_code == 0);
        auto not_yet = u.host.ctl({"update", "rollback"});
        CHECK(not_yet.exit_code == 1);
        CHECK_THAT(not_yet.err, Catch::Contains("slot b is trying"));
        // Once slot B's boot has been blessed, its entry has no counter.
        fs::rename(u.dir / "esp/loader/entries/berth-b+3.conf", u.dir / "esp/loader/entries/berth-b.conf");
        auto done = u.host.ctl({"update", "rollback"});
        INFO(done.err);
        CHECK(done.exit_code == 0);
        CHECK(fs::exists(u.dir / "esp/loader/entries/berth-a+0-1.conf"));
        CHECK_FALSE(fs::exists(u.dir / "esp/loader/entries/berth-a.conf"));
    }

    SECTION("one job at a time; a client that sends half a bundle and hangs up gets nothing written") {
        std::string bytes = read(good);
        int in[2];
        REQUIRE(pipe(in) == 0);
        pid_t first = fork();
        if (first == 0) {
            dup2(in[0], 0);
            close(in[1]);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(BERTHCTL_BINARY, "berthctl", "--socket", u.host.socket().c_str(), "update", "apply", "-", nullptr);
            _exit(127);
        }
        close(in[0]);
        REQUIRE(write(in[1], bytes.data(), 1000) == 1000);  // the header and a little: the job waits for more
        usleep(500000);
        auto second = u.host.ctl({"update", "status"});
        CHECK(second.exit_code == 1);
        CHECK_THAT(second.err, Catch::Contains("another update job is at work"));
        std::string slot_before = read(u.dir / "root-b");
        close(in[1]);  // the stream ends short
        int status = 0;
        waitpid(first, &status, 0);
        CHECK(WEXITSTATUS(status) == 1);
        CHECK(read(u.dir / "root-b") == slot_before);
        CHECK(u.host.ctl({"update", "status"}).exit_code == 0);
    }

    SECTION("a job killed in the middle of writing: the client is told, and status says how far it got") {
        pid_t client = fork();
        if (client == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(BERTHCTL_BINARY, "berthctl", "--socket", u.host.socket().c_str(), "update", "apply", "--pause-at", "root-half",
                  good.c_str(), nullptr);
            _exit(127);
        }
        // The job says where it stopped on berth-init's stderr; then it is killed, as a power cut would stop it.
        pid_t job = 0;
        for (int i = 0; i < 100 && !job; ++i) {
            usleep(100000);
            if (u.host.init_log().find("paused at step root-half (--pause-at)") == std::string::npos) continue;
            for (const auto& entry : fs::directory_iterator("/proc")) {
                std::string cmdline = berth::sys::read_file(entry.path().string() + "/cmdline").value_or("");
                if (cmdline.find("--pause-at") != std::string::npos && cmdline.find(BERTH_UPDATE_BINARY) != std::string::npos)
                    job = std::stoi(entry.path().filename().string());
            }
        }
        INFO(u.host.init_log());
        REQUIRE(job > 0);
        CHECK(read(u.dir / "root-b").substr(0, u.parts[0].size() / 2) == u.parts[0].substr(0, u.parts[0].size() / 2));
        kill(job, SIGKILL);
        int status = 0;
        waitpid(client, &status, 0);
        CHECK(WEXITSTATUS(status) == 1);
        auto view = json::parse(u.host.ctl({"--json", "update", "status"}).out);
        CHECK(view["slots"]["b"]["state"] == "empty");
        CHECK(view["last_update"]["outcome"] == "interrupted");
        CHECK(view["last_update"]["interrupted"] == true);
        CHECK(view["last_update"]["version"] == "0.2.0");
        CHECK_THAT(view["last_update"]["reason"].get<std::string>(), Catch::Contains("cut off (power loss or a kill) while it wrote slot b"));
        // The next apply starts over and completes.
        CHECK(u.host.ctl({"update", "apply", good.string()}).exit_code == 0);
        CHECK(read(u.dir / "esp/berth/b/vmlinuz") == u.parts[1]);
    }

    // PID 1 went on with its services all along.
    CHECK(u.host.service_status("steady")["pid"].get<int>() == steady_pid);
}

namespace {

std::string proc_file(pid_t pid, const std::string& name) { return read(fs::path("/proc") / std::to_string(pid) / name); }

// "CapEff" → "0000000000000000", from /proc/PID/status.
std::string status_field(pid_t pid, const std::string& field) {
    std::istringstream status(proc_file(pid, "status"));
    for (std::string line; std::getline(status, line);)
        if (line.rfind(field + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", field.size() + 1));
    return "<no " + field + ">";
}

pid_t parent_pid(pid_t pid) {
    std::string stat = proc_file(pid, "stat");  // "PID (COMMAND) STATE PPID ..."; COMMAND may hold spaces
    std::istringstream rest(stat.substr(stat.rfind(')') + 1));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    return parent;
}

// The update job's two processes: the holder (berth-init's child) and the worker (the holder's).
struct JobProcesses {
    pid_t holder = 0, worker = 0;
};

JobProcesses find_update_job() {
    std::vector<pid_t> job;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        std::string cmdline = pid > 0 ? proc_file(pid, "cmdline") : "";
        if (cmdline.substr(0, cmdline.find('\0')) == BERTH_UPDATE_BINARY) job.push_back(pid);
    }
    for (pid_t pid : job)
        if (std::find(job.begin(), job.end(), parent_pid(pid)) != job.end()) return {parent_pid(pid), pid};
    return {};
}

// The job's worker once it waits for more of the bundle (in read(2) on its standard input).
JobProcesses wait_for_paused_job() {
    for (int i = 0; i < 200; ++i) {
        auto job = find_update_job();
        if (job.worker && proc_file(job.worker, "syscall").rfind("0 0x0 ", 0) == 0) return job;
        usleep(50000);
    }
    return {};
}

// Each mount point as a process sees it (/proc/PID/mountinfo): the mount's own options ("ro,nosuid")
// and its superblock's, which every mount of that filesystem shares (the line's last field).
struct MountSeen {
    std::string options, super_options;
};

std::map<std::string, MountSeen> mounts_seen_by(const std::string& pid) {
    std::map<std::string, MountSeen> mounts;
    std::istringstream info(read("/proc/" + pid + "/mountinfo"));
    for (std::string line; std::getline(info, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point, options;
        fields >> id >> parent >> device >> root >> point >> options;
        mounts[point] = {options, line.substr(line.rfind(' ') + 1)};
    }
    return mounts;
}
std::map<std::string, MountSeen> mounts_seen_by(pid_t pid) { return mounts_seen_by(std::to_string(pid)); }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// `berthctl update apply -` fed from a pipe the test writes: the job waits for what is not sent yet.
struct ApplyFromPipe {
    pid_t client = 0;
    int input = -1;

    ApplyFromPipe(const InitHost& host, const fs::path& output) {
        int in[2];
        REQUIRE(pipe(in) == 0);
        client = fork();
        if (client == 0) {
            dup2(in[0], 0);
            close(in[1]);
            int out = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(out, 1);
            dup2(out, 2);
            execl(BERTHCTL_BINARY, "berthctl", "--socket", host.socket().c_str(), "update", "apply", "-", nullptr);
            _exit(127);
        }
        close(in[0]);
        input = in[1];
    }
    void send(std::string_view bytes) { REQUIRE(::write(input, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
    // Ends the stream; berthctl's exit code.
    int finish() {
        close(input);
        int status = 0;
        waitpid(client, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
};

constexpr const char* kNoCapabilities = "0000000000000000";

}  // namespace

TEST_CASE("the update job reads a bundle with no capability, seeing only its target, the ESP, its records and keys",
          "[priv][init][update]") {
    if (!have_unshare()) return skip("needs root and unshare");
    UpdateHost u;
    auto good = u.bundle("0.2.0", "good.bundle");
    std::string bytes = read(good);
    ApplyFromPipe apply(u.host, u.dir / "apply.out");
    apply.send(std::string_view(bytes).substr(0, 1000));  // the header and a little: the job waits for more
    auto job = wait_for_paused_job();
    REQUIRE(job.worker);
    CHECK(parent_pid(job.holder) == u.host.init_pid());

    for (const char* set : {"CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"}) {
        INFO(set);
        CHECK(status_field(job.worker, set) == kNoCapabilities);
        // The ESP is a plain directory here: the holder holds nothing, and keeps nothing either.
        CHECK(status_field(job.holder, set) == kNoCapabilities);
    }
    CHECK(status_field(job.worker, "NoNewPrivs") == "1");
    CHECK(status_field(job.holder, "NoNewPrivs") == "1");

    // Its root holds the paths it was given and nothing else: /dev/null its only device node here
    // (the slots are files), slot A (the running one) absent, nor berth-init's control socket.
    fs::path root = fs::path("/proc") / std::to_string(job.worker) / "root";
    std::set<std::string> dev;
    for (const auto& entry : fs::directory_iterator(root / "dev")) dev.insert(entry.path().filename());
    CHECK(dev == std::set<std::string>{"null"});
    auto inside = [&](const fs::path& path) { return fs::exists(root / path.relative_path()); };
    CHECK(inside(u.dir / "root-b"));
    CHECK_FALSE(inside(u.dir / "root-a"));
    CHECK_FALSE(inside(u.host.socket()));
    CHECK_FALSE(inside("/usr"));
    CHECK_FALSE(inside(BERTH_UPDATE_BINARY));
    std::string d = u.dir.string();
    auto mounts = mounts_seen_by(job.worker);
    std::set<std::string> points;
    for (const auto& [point, options] : mounts) points.insert(point);
    CHECK(points == std::set<std::string>{"/", "/dev/null", "/proc", d + "/boot-slot", d + "/compatible", d + "/esp", d + "/keys",
                                          d + "/os-release", d + "/root-b", d + "/state"});
    CHECK(starts_with(mounts["/"].options, "ro,"));
    CHECK(starts_with(mounts[d + "/keys"].options, "ro,"));
    CHECK(starts_with(mounts[d + "/os-release"].options, "ro,"));
    CHECK(starts_with(mounts[d + "/root-b"].options, "rw,"));
    CHECK(starts_with(mounts[d + "/state"].options, "rw,"));
    // Its /proc is read-only and shows it only the processes it may ptrace: itself.
    CHECK(starts_with(mounts["/proc"].options, "ro,"));
    CHECK_THAT(mounts["/proc"].super_options, Catch::Contains("hidepid=invisible") || Catch::Contains("hidepid=2"));

    // Narrowed, it still does its work.
    apply.send(std::string_view(bytes).substr(1000));
    INFO(read(u.dir / "apply.out") << u.host.init_log());
    CHECK(apply.finish() == 0);
    CHECK(read(u.dir / "root-b").substr(0, u.parts[0].size()) == u.parts[0]);
    auto status = u.host.ctl({"--json", "update", "status"});
    REQUIRE(status.exit_code == 0);
    CHECK(json::parse(status.out)["slots"]["b"]["state"] == "trying");
}

TEST_CASE("with a mounted ESP, the job's holder keeps CAP_SYS_ADMIN alone, and the host's view of the ESP stays read-only",
          "[priv][init][update]") {
    if (!have_unshare()) return skip("needs root and unshare");
    run_command({"/usr/sbin/modprobe", "-q", "vfat"});  // a module on Debian's kernels; built in, or absent, elsewhere
    if (access("/usr/sbin/mkfs.vfat", X_OK) != 0 || access("/dev/loop-control", F_OK) != 0 ||
        read("/proc/filesystems").find("\tvfat\n") == std::string::npos)
        return skip("needs mkfs.vfat, loop devices and a kernel with vfat");
    UpdateHost u(true);
    fs::path esp = u.dir / "esp";
    REQUIRE(starts_with(mounts_seen_by("self")[esp.string()].super_options, "ro,"));
    auto good = u.bundle("0.2.0", "good.bundle");
    std::string bytes = read(good);
    ApplyFromPipe apply(u.host, u.dir / "apply.out");
    apply.send(std::string_view(bytes).substr(0, 1000));
    auto job = wait_for_paused_job();
    REQUIRE(job.worker);

    constexpr const char* kSysAdminOnly = "0000000000200000";  // 1 << CAP_SYS_ADMIN
    CHECK(status_field(job.holder, "CapEff") == kSysAdminOnly);
    CHECK(status_field(job.holder, "CapBnd") == kSysAdminOnly);
    CHECK(status_field(job.worker, "CapEff") == kNoCapabilities);
    CHECK(status_field(job.worker, "CapBnd") == kNoCapabilities);
    auto mounts = mounts_seen_by(job.worker);
    CHECK(starts_with(mounts[esp.string()].options, "rw,"));  // writable for the job, in its namespace
    CHECK(mounts.count("/run/berth/esp.lock") == 1);

    // The remount made the FAT superblock read-write, which every mount of it shares; the host's
    // mount keeps its own read-only flag, so nothing outside the job writes it meanwhile.
    auto host_view = mounts_seen_by("self")[esp.string()];
    CHECK(starts_with(host_view.super_options, "rw,"));
    CHECK(starts_with(host_view.options, "ro,"));
    errno = 0;
    CHECK(open((esp / "probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600) == -1);
    CHECK(errno == EROFS);
    // The lock the boot blessing takes is held.
    int lock = open("/run/berth/esp.lock", O_RDWR | O_CLOEXEC);
    REQUIRE(lock >= 0);
    CHECK(flock(lock, LOCK_EX | LOCK_NB) == -1);

    apply.send(std::string_view(bytes).substr(1000));
    INFO(read(u.dir / "apply.out") << u.host.init_log());
    CHECK(apply.finish() == 0);
    CHECK(read(esp / "berth/b/vmlinuz") == u.parts[1]);
    CHECK(fs::exists(esp / "loader/entries/berth-b+3.conf"));
    // Read-only again once the job is done, and the lock free.
    CHECK(starts_with(mounts_seen_by("self")[esp.string()].super_options, "ro,"));
    CHECK(flock(lock, LOCK_EX | LOCK_NB) == 0);
    close(lock);
    auto status = u.host.ctl({"--json", "update", "status"});
    REQUIRE(status.exit_code == 0);
    CHECK(json::parse(status.out)["slots"]["b"]["state"] == "trying");
}
