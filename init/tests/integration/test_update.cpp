// berthctl update, end to end through berth-init as PID 1: the bundle's file descriptor goes over
// the control socket (SCM_RIGHTS) to the update job, which writes a layout of files standing in
// for the disk (slots are files, the ESP a directory).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

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

    UpdateHost() {
        REQUIRE(update::init_crypto());
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
