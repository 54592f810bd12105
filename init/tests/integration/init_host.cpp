#include "init_host.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

using nlohmann::json;

namespace berth::test {

InitHost::InitHost() {
    char tmpl[] = "/tmp/berth-init-it-XXXXXX";
    dir_ = mkdtemp(tmpl);
    chmod(dir_.c_str(), 0755);
    std::string image = dir_ + "/images/bb";
    std::string script = "set -e; mkdir -p " + image + "/bin " + image + "/etc " + image + "/proc " + image + "/sys " + image +
                         "/dev " + image + "/tmp " + dir_ + "/services " + dir_ + "/run; cp /bin/busybox " + image +
                         "/bin/; for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -sf busybox " + image +
                         "/bin/$a; done; echo 'root:x:0:0:root:/root:/bin/sh' > " + image + "/etc/passwd; echo 'root:x:0:' > " +
                         image + "/etc/group";
    REQUIRE(run_command({"/bin/sh", "-c", script}).exit_code == 0);
}

InitHost::~InitHost() {
    kill_init();
    if (stdin_writer_ >= 0) close(stdin_writer_);
    run_command({"/bin/sh", "-c", "rm -rf " + dir_});
}

void InitHost::service(const std::string& name, const std::string& toml) {
    std::ofstream(dir_ + "/services/" + name + ".toml") << toml;
}

void InitHost::start(const InitLimits& limits) {
    int stdin_pipe[2];
    REQUIRE(pipe2(stdin_pipe, O_CLOEXEC) == 0);
    if (stdin_writer_ >= 0) close(stdin_writer_);
    stdin_writer_ = stdin_pipe[1];
    exit_status_ = -1;
    unshare_pid_ = fork();
    if (unshare_pid_ == 0) {
        std::string log = dir_ + "/init.log";
        dup2(stdin_pipe[0], 0);
        freopen(log.c_str(), "a", stderr);
        freopen("/dev/null", "w", stdout);
        if (limits.open_files) {
            struct rlimit r{limits.open_files, limits.open_files};
            setrlimit(RLIMIT_NOFILE, &r);
        }
        if (limits.address_space) {
            struct rlimit r{limits.address_space, limits.address_space};
            setrlimit(RLIMIT_AS, &r);
        }
        std::vector<std::string> args{"unshare", "--pid", "--mount", "--fork", BERTH_INIT_BINARY, "--test", "--services",
                                      dir_ + "/services", "--images", dir_ + "/images", "--volumes", dir_ + "/volumes",
                                      "--state", dir_ + "/state", "--control-socket", socket(), "--logd-socket",
                                      dir_ + "/run/logd/ingest.sock"};
        args.insert(args.end(), extra_args_.begin(), extra_args_.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv("/usr/bin/unshare", argv.data());
        _exit(127);
    }
    close(stdin_pipe[0]);
    for (int i = 0; i < 500 && access(socket().c_str(), F_OK) != 0; ++i) usleep(10000);
    REQUIRE(access(socket().c_str(), F_OK) == 0);
}

void InitHost::kill_init() {
    if (unshare_pid_ <= 0) return;
    // Never kill(0, ...): that is our own process group.
    if (pid_t init = init_pid(); init > 0) kill(init, SIGKILL);
    kill(unshare_pid_, SIGKILL);
    waitpid(unshare_pid_, &exit_status_, 0);
    unshare_pid_ = 0;
    unlink(socket().c_str());
}

pid_t InitHost::init_pid() const {
    if (unshare_pid_ <= 0) return 0;
    std::ifstream children("/proc/" + std::to_string(unshare_pid_) + "/task/" + std::to_string(unshare_pid_) + "/children");
    pid_t pid = 0;
    children >> pid;
    return pid;
}

bool InitHost::alive() const {
    pid_t pid = init_pid();
    return pid > 0 && kill(pid, 0) == 0;
}

std::string InitHost::exit_description() {
    if (unshare_pid_ > 0 && waitpid(unshare_pid_, &exit_status_, WNOHANG) == unshare_pid_) unshare_pid_ = 0;
    if (unshare_pid_ > 0 || exit_status_ == -1) return "";
    // unshare --fork exits the way its child did: with its code, or by the same signal.
    if (WIFSIGNALED(exit_status_)) return std::string("killed by SIG") + sigabbrev_np(WTERMSIG(exit_status_));
    return "exited " + std::to_string(WEXITSTATUS(exit_status_));
}

bool InitHost::wait_exit(int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (waitpid(unshare_pid_, &exit_status_, WNOHANG) == unshare_pid_) {
            unshare_pid_ = 0;
            return true;
        }
        usleep(20000);
    }
    return false;
}

Output InitHost::ctl(const std::vector<std::string>& args) const { return ctl_with_input(args, ""); }

Output InitHost::ctl_with_input(const std::vector<std::string>& args, const std::string& input) const {
    std::vector<std::string> argv{BERTHCTL_BINARY, "--socket", socket()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input);
}

json InitHost::services() const {
    auto r = ctl({"--json", "services"});
    return r.exit_code == 0 && !r.out.empty() ? json::parse(r.out)["services"] : json::array();
}

json InitHost::service_status(const std::string& name) const {
    for (const auto& s : services())
        if (s["name"] == name) return s;
    return json();
}

json InitHost::wait_state(const std::string& name, const std::string& state, int timeout_ms) const {
    json s;
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        s = service_status(name);
        if (!s.is_null() && s["state"] == state) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
}

std::string InitHost::init_log() const {
    std::ifstream f(dir_ + "/init.log");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool have_unshare() { return access("/usr/bin/unshare", X_OK) == 0 && geteuid() == 0; }

std::string looping(const std::string& extra_toml, const std::string& prelude) {
    return extra_toml + "\n[container]\nimage = \"bb\"\nread_only = false\ncommand = [\"/bin/sh\", \"-c\", \"" + prelude +
           "trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.1; done\"]\n[stop]\ntimeout = \"2s\"\n";
}

}  // namespace berth::test
