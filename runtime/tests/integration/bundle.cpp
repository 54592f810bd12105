#include "bundle.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace berth::test {

std::string berth_binary() { return BERTH_BINARY; }

bool have_root() { return ::geteuid() == 0; }

void reap_orphans() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

Output run_command(const std::vector<std::string>& argv, const std::string& input) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(126);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (!input.empty()) (void)!write(in[1], input.data(), input.size());
    close(in[1]);
    Output result;
    // A created container keeps our pipes as its stdio, so stop reading once the command
    // itself has exited and the pipes are drained, not at EOF.
    int status = 0;
    bool exited = false;
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    for (;;) {
        int ready = poll(fds, 2, exited ? 0 : 20);
        bool got_data = false;
        for (int i = 0; i < 2 && ready > 0; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                continue;
            }
            got_data = true;
            (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
        }
        if (fds[0].fd < 0 && fds[1].fd < 0) break;
        if (!exited) exited = waitpid(pid, &status, WNOHANG) == pid;
        else if (!got_data) break;
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    if (!exited) waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

Bundle::Bundle() {
    char tmpl[] = "/tmp/berth-it-XXXXXX";
    dir_ = mkdtemp(tmpl);
    chmod(dir_.c_str(), 0755);  // a user-namespaced root must be able to reach the rootfs
    state_root_ = dir_ + "/state";
    std::string script = "set -e; mkdir -p '" + rootfs() + "/bin' '" + rootfs() + "/tmp' '" + rootfs() + "/etc'; cp /bin/busybox '" +
                         rootfs() + "/bin/'; for a in $(/bin/busybox --list); do [ $a = busybox ] || ln -sf busybox '" + rootfs() + "/bin/'$a; done; mkdir -p '" + rootfs() + "/proc' '" + rootfs() + "/sys' '" + rootfs() + "/dev';" +
                         " echo 'root:x:0:0:root:/root:/bin/sh' > '" + rootfs() + "/etc/passwd'";
    if (run_command({"/bin/sh", "-c", script}).exit_code != 0) throw std::runtime_error("make busybox rootfs");
    auto spec = run_command({berth_binary(), "spec", "--bundle", dir_});
    if (spec.exit_code != 0) throw std::runtime_error("berth spec: " + spec.err);
    std::ifstream f(dir_ + "/config.json");
    config = nlohmann::json::parse(f);
    config["root"]["readonly"] = false;
}

Bundle::~Bundle() {
    // Stop anything a failed test left running, then remove the bundle.
    run_command({"/bin/sh", "-c", "for d in '" + state_root_ + "'/*/; do [ -d \"$d\" ] && '" + berth_binary() +
                                      "' --root '" + state_root_ + "' delete --force \"$(basename \"$d\")\"; done; rm -rf '" + dir_ + "'"});
}

void Bundle::set_command(const std::string& shell_script) {
    config["process"]["args"] = {"/bin/sh", "-c", shell_script};
}

void Bundle::write() const {
    std::ofstream f(dir_ + "/config.json");
    f << config.dump(2);
}

Output Bundle::berth(const std::vector<std::string>& args, const std::string& input) const {
    write();
    std::vector<std::string> argv{berth_binary(), "--root", state_root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, input);
}

Output Bundle::run(const std::string& id) const {
    return berth({"run", "--bundle", dir_, id.empty() ? "c-" + dir_.substr(dir_.rfind('-') + 1) : id});
}

}  // namespace berth::test
