#include "berth/runtime/state.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "berth/sys.hpp"

namespace berth::runtime {

const char* status_name(Status status) {
    switch (status) {
        case Status::Creating: return "creating";
        case Status::Created: return "created";
        case Status::Running: return "running";
        case Status::Paused: return "paused";
        case Status::Stopped: return "stopped";
    }
    return "unknown";
}

Result<void> validate_id(const std::string& id) {
    auto ok_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '+'; };
    if (id.empty()) return fail("container id is empty");
    if (id.size() > 1024 || !std::isalnum(static_cast<unsigned char>(id[0])) || !std::all_of(id.begin(), id.end(), ok_char))
        return fail("invalid container id '" + id + "' (letters, digits, '_', '.', '+', '-'; starting with a letter or digit)");
    return {};
}

Result<void> StateStore::reserve(const std::string& id) const {
    TRY(validate_id(id));
    TRY(sys::mkdir_p(root_, 0711));
    if (::mkdir(dir(id).c_str(), 0711) < 0) {
        if (errno == EEXIST) return fail("container '" + id + "' already exists");
        return fail_sys("create state directory '" + dir(id) + "'");
    }
    return {};
}

Result<void> StateStore::save(const ContainerState& s) const {
    nlohmann::json j{{"id", s.id},           {"bundle", s.bundle},           {"rootfs", s.rootfs},
                     {"pid", s.pid},         {"start_time", s.start_time},   {"created", s.created},
                     {"cgroup_path", s.cgroup_path}, {"annotations", s.annotations}};
    // Write then rename, so a reader never sees half a file.
    std::string tmp = dir(s.id) + "/state.json.tmp";
    TRY(sys::write_file(tmp, j.dump()));
    if (::rename(tmp.c_str(), (dir(s.id) + "/state.json").c_str()) < 0) return fail_sys("save state of '" + s.id + "'");
    return {};
}

Result<ContainerState> StateStore::load(const std::string& id) const {
    TRY(validate_id(id));
    auto text = sys::read_file(dir(id) + "/state.json");
    if (!text) {
        if (text.error().errnum == ENOENT) return fail("container '" + id + "' does not exist");
        return fail(text.error());
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("state of container '" + id + "' is corrupt");
    ContainerState s;
    s.id = j.value("id", id);
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.pid = j.value("pid", 0);
    s.start_time = j.value("start_time", 0ULL);
    s.created = j.value("created", "");
    s.cgroup_path = j.value("cgroup_path", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    return s;
}

Result<void> StateStore::remove(const std::string& id) const {
    std::string d = dir(id);
    DIR* dp = ::opendir(d.c_str());
    if (!dp) return errno == ENOENT ? Result<void>{} : fail_sys("open '" + d + "'");
    while (struct dirent* e = ::readdir(dp)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        ::unlink((d + "/" + name).c_str());
    }
    ::closedir(dp);
    return sys::rmdir(d);
}

Result<std::vector<std::string>> StateStore::list() const {
    std::vector<std::string> ids;
    DIR* dp = ::opendir(root_.c_str());
    if (!dp) return errno == ENOENT ? Result<std::vector<std::string>>{ids} : fail_sys("open '" + root_ + "'");
    while (struct dirent* e = ::readdir(dp)) {
        std::string name = e->d_name;
        if (name != "." && name != ".." && sys::exists(dir(name) + "/state.json")) ids.push_back(name);
    }
    ::closedir(dp);
    std::sort(ids.begin(), ids.end());
    return ids;
}

bool process_alive(const ContainerState& state) {
    if (state.pid <= 0) return false;
    auto start = sys::process_start_time(state.pid);
    if (!start || *start != state.start_time) return false;
    // A zombie has exited: the container is stopped even though its pid is not reaped yet.
    auto stat = sys::read_file("/proc/" + std::to_string(state.pid) + "/stat");
    if (stat) {
        auto close = stat->rfind(')');
        if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z') return false;
    }
    return true;
}

std::string state_json(const ContainerState& s, Status status) {
    nlohmann::ordered_json j;
    j["ociVersion"] = "1.0.2";
    j["id"] = s.id;
    j["status"] = status_name(status);
    j["pid"] = status == Status::Stopped ? 0 : s.pid;
    j["bundle"] = s.bundle;
    j["rootfs"] = s.rootfs;
    j["created"] = s.created;
    j["annotations"] = s.annotations;
    return j.dump();
}

std::string now_rfc3339() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

}  // namespace berth::runtime
