// Hostile clients of berth-init's control socket: malformed, oversized, endless, idle, greedy.
// Whatever a client sends, PID 1 answers with one well-formed line (or closes that one
// connection), stays responsive to everybody else, and never touches an unrelated service.
//
// Each hostile input is its own SECTION, and all sections of a TEST_CASE share one berth-init
// that is replaced when an input crashed, hung or harmed it: one crash hides no other case.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <dirent.h>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "init_host.hpp"
#include "raw_client.hpp"
#include "skip.hpp"

using namespace berth::test;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kAnswerMs = 2000;  // a live PID 1 answers any request within this
constexpr size_t kMiB = 1024 * 1024;
const std::string kIdle = "h-idle";      // must keep its pid through everything
const std::string kChatty = "h-chatty";  // has output, so `logs` has something; keeps its pid
const std::string kVictim = "h-victim";  // the target of kill and restart

std::string chatty_toml() {
    // A burst that fills its 64 KiB log ring, then a line every 200 ms.
    return "[restart]\npolicy = \"always\"\n[container]\nimage = \"bb\"\nread_only = false\ncommand = [\"/bin/sh\", \"-c\", "
           "\"i=0; while [ $i -lt 1500 ]; do echo chatty line $i padding padding padding padding; i=$((i+1)); done; "
           "trap 'exit 0' TERM; while :; do echo tick; sleep 0.2; done\"]\n[stop]\ntimeout = \"2s\"\n";
}

std::string shorten(const std::string& text) {
    return text.size() > 200 ? text.substr(0, 200) + "... (" + std::to_string(text.size()) + " bytes)" : text;
}

// A value of /proc/PID/status in KiB (VmRSS, VmHWM); 0 if unreadable.
long proc_status_kib(pid_t pid, const std::string& key) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return 0;
}

// User + system CPU time of a process, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close_paren + 2));  // from field 3, the state
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return utime + stime;
}

int open_fds(pid_t pid) {
    int count = 0;
    if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
        while (struct dirent* e = readdir(d))
            if (e->d_name[0] != '.') ++count;
        closedir(d);
    }
    return count;
}

bool raise_own_fd_limit(rlim_t wanted) {
    struct rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_max < wanted) return false;
    r.rlim_cur = r.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &r) == 0;
}

// One berth-init with h-idle, h-chatty and h-victim, started like PID 1 at boot: 1024 open
// files. Its address space is capped so that a runaway allocation ends in a crash the test
// reports, not in the OOM killer on a shared machine.
class HostileHost {
public:
    explicit HostileHost(std::string owner) : owner_(std::move(owner)) {
        host_ = std::make_unique<InitHost>();
        host_->service(kIdle, looping(""));
        host_->service(kChatty, chatty_toml());
        host_->service(kVictim, looping("[restart]\npolicy = \"always\"\ndelay = \"100ms\"\n"));
        host_->start(limits());
        wait_up();
    }
    ~HostileHost() {
        host_.reset();
        // A crashed berth-init leaves its services' (empty) cgroups behind.
        run_command({"/bin/sh", "-c", "rmdir /sys/fs/cgroup/*/berth/h-* /sys/fs/cgroup/berth/h-* 2>/dev/null; true"});
    }

    static InitLimits limits() { return {1024, 2048 * kMiB}; }
    const std::string& owner() const { return owner_; }
    InitHost& host() { return *host_; }
    std::string socket() const { return host_->socket(); }
    pid_t pid() const { return host_->init_pid(); }

    // Replaces a crashed, hung or harmed berth-init by a fresh one with the same services.
    void restart() {
        host_->kill_init();
        host_->start(limits());
        wait_up();
    }

    // The services payload, through a fresh connection; null when not answered in time.
    json services(int timeout_ms = kAnswerMs) const {
        RawClient c(socket(), timeout_ms);
        if (!c.connected()) return json();
        Reply r = c.request(R"({"cmd":"services"})", timeout_ms);
        json j = r.ok() ? json::parse(r.line, nullptr, false) : json();
        return j.is_object() && j["ok"] == true ? j["services"] : json();
    }

    static json pid_of(const json& services, const std::string& name) {
        if (services.is_array())
            for (const auto& s : services)
                if (s["name"] == name) return s["pid"];
        return json();
    }

    // Waits until the service has a process; returns its pid (null on timeout).
    json wait_running(const std::string& name, int timeout_ms = 10000) const {
        for (auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms); Clock::now() < deadline;) {
            json pid = pid_of(services(), name);
            if (pid.is_number()) return pid;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return json();
    }

    // What a hostile input did to berth-init: "" if it still answers status within 2 s and
    // h-idle and h-chatty kept their pids; else a description.
    std::string harm() {
        std::string problem = status_problem();
        if (problem.empty()) {
            json now = services();
            for (const auto& name : {kIdle, kChatty})
                if (pid_of(now, name) != baseline_[name])
                    problem += name + ": pid " + baseline_[name].dump() + " became " + pid_of(now, name).dump() + "; ";
        }
        if (problem.empty()) return "";
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!host_->alive()) {
            std::string log = host_->init_log();
            problem = "berth-init died (" + host_->exit_description() + "); its log ends:\n" +
                      log.substr(log.size() > 1500 ? log.size() - 1500 : 0);
        }
        return problem;
    }

    // Checks that berth-init is unharmed; if not, reports it and starts a fresh one.
    void check_unharmed() {
        std::string problem = harm();
        if (problem.empty()) return;
        FAIL_CHECK(problem);
        restart();
    }

private:
    std::string status_problem() const {
        RawClient c(socket(), kAnswerMs);
        if (!c.connected()) return "berth-init accepts no connection within 2 s";
        Reply r = c.request(R"({"cmd":"status"})", kAnswerMs);
        json j = r.ok() ? json::parse(r.line, nullptr, false) : json();
        if (!j.is_object() || j["ok"] != true) return "status: " + r.describe();
        return "";
    }

    void wait_up() {
        baseline_.clear();
        for (const auto& name : {kIdle, kChatty, kVictim}) {
            json pid = wait_running(name);
            INFO(host_->init_log());
            REQUIRE(pid.is_number());
            baseline_[name] = pid;
        }
        // Let h-chatty's burst land in its ring, so `logs` answers are full size from here on.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }

    std::string owner_;
    std::unique_ptr<InitHost> host_;
    std::map<std::string, json> baseline_;
};

// The berth-init shared by the sections of the current TEST_CASE (Catch runs the test case once
// per section); a new one for each TEST_CASE.
HostileHost& shared_host() {
    static std::unique_ptr<HostileHost> current;
    const std::string owner = Catch::getResultCapture().getCurrentTestName();
    if (!current || current->owner() != owner) {
        current.reset();
        current = std::make_unique<HostileHost>(owner);
    }
    return *current;
}

enum class Want {
    Refused,   // ok:false with an error that holds the needle
    Accepted,  // ok:true
    Answered,  // either, as long as it is one well-formed response line
};

void check_answer(const Reply& reply, Want want, const std::string& needle = "") {
    INFO("answer: " << reply.describe());
    CHECK(reply.ok());
    if (!reply.ok()) return;
    json j = json::parse(reply.line, nullptr, false);
    CHECK(j.is_object());
    if (!j.is_object()) return;
    CHECK(j["ok"].is_boolean());
    if (want == Want::Accepted) CHECK(j["ok"] == true);
    if (want == Want::Refused) {
        CHECK(j["ok"] == false);
        CHECK(j["error"].is_string());
        if (j["error"].is_string()) {
            CHECK(!j["error"].get<std::string>().empty());
            CHECK_THAT(j["error"].get<std::string>(), Catch::Contains(needle));
        }
    }
}

// Sends one request line on a fresh connection, checks its answer, then that berth-init is unharmed.
void expect(HostileHost& h, const std::string& line, Want want, const std::string& needle = "", int timeout_ms = kAnswerMs) {
    INFO("request: " << shorten(line));
    RawClient c(h.socket(), kAnswerMs);
    CHECK(c.connected());
    if (c.connected()) check_answer(c.request(line, timeout_ms), want, needle);
    c.close();
    h.check_unharmed();
}

struct Case {
    std::string name;
    std::string line;
    Want want;
    std::string needle;
};

// Runs each case in its own section against the shared berth-init.
void run_cases(const std::vector<Case>& cases) {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) { expect(h, c.line, c.want, c.needle); }
    }
}

const std::string k30Digits = "123456789012345678901234567890";

// Values of every JSON type but a string, plus numbers no integer type holds.
const std::vector<std::string> kNotStrings = {"1", "-1", "1.5", "true", "null", "[]", "{}", k30Digits, "-" + k30Digits};

std::string with_field(const std::string& fields, const std::string& field, const std::string& value) {
    return "{" + fields + (fields.empty() ? "" : ",") + "\"" + field + "\":" + value + "}";
}

std::string inline_add(const std::string& name, const std::string& toml) {
    return json{{"cmd", "add"}, {"name", name}, {"manifest", toml}}.dump();
}

const std::string kValidManifest = "[container]\nimage = \"bb\"\ncommand = [\"/bin/sh\", \"-c\", \"sleep 1000\"]\n";

}  // namespace

TEST_CASE("hostile: every field of every command with a value of the wrong type", "[priv][init][hostile]") {
    std::vector<Case> cases;
    // cmd itself, and lines that are not a request object at all.
    for (const auto& v : kNotStrings) cases.push_back({"cmd = " + v, with_field("", "cmd", v), Want::Refused, "request.cmd"});
    cases.push_back({"cmd = \"\"", R"({"cmd":""})", Want::Refused, "request.cmd"});
    cases.push_back({"cmd = 1e999", R"({"cmd":1e999})", Want::Refused, "request"});
    cases.push_back({"cmd = -1e999", R"({"cmd":-1e999})", Want::Refused, "request"});
    for (const auto& line : {"[]", "\"status\"", "1", "null", "{}", "{\"cmd\":\"status\"", "1e999", "\"\\ud800\""})
        cases.push_back({std::string("request line ") + line, line, Want::Refused, "request"});
    cases.push_back({"status with an unknown field", R"({"cmd":"status","service":5})", Want::Refused, "request.service"});
    cases.push_back({"status with a trailing \\r", "{\"cmd\":\"status\"}\r", Want::Accepted, ""});

    // Each command's service field.
    for (const std::string& cmd : std::vector<std::string>{"logs", "start", "stop", "restart", "remove", "kill"})
        for (const auto& v : kNotStrings)
            cases.push_back({cmd + ".service = " + v, with_field("\"cmd\":\"" + cmd + "\"", "service", v), Want::Refused, "request.service"});

    // logs: lines, follow, since.
    const std::string logs = "\"cmd\":\"logs\",\"service\":\"" + kChatty + "\"";
    for (const std::string& v : std::vector<std::string>{"0", "-1", "1.5", "\"x\"", "\"10\"", "true", "null", "[]", "{}", "-" + k30Digits})
        cases.push_back({"logs.lines = " + v, with_field(logs, "lines", v), Want::Refused, "request.lines"});
    cases.push_back({"logs.lines = 1e999", with_field(logs, "lines", "1e999"), Want::Refused, "request"});
    // More lines than there are is just all of them.
    cases.push_back({"logs.lines = " + k30Digits, with_field(logs, "lines", k30Digits), Want::Answered, ""});
    cases.push_back({"logs.lines = 18446744073709551615", with_field(logs, "lines", "18446744073709551615"), Want::Accepted, ""});
    for (const std::string& v : std::vector<std::string>{"\"yes\"", "\"true\"", "1", "0", "null", "[]", "{}", "-1", k30Digits})
        cases.push_back({"logs.follow = " + v, with_field(logs, "follow", v), Want::Refused, "request.follow"});
    for (const std::string& v : std::vector<std::string>{"[]", "{}", "true", "null", "\"x\"", "\"\"", "-1", "-1.5", "-" + k30Digits, "\"-1\"",
                                "\"9999-99-99T99:99:99Z\"", "\"2024-05-01T12:00:00+99:99\"", "\"2024-05-01T12:00:00\""})
        cases.push_back({"logs.since = " + v, with_field(logs, "since", v), Want::Refused, "request.since"});
    cases.push_back({"logs.since = 1e999", with_field(logs, "since", "1e999"), Want::Refused, "request"});
    // Far in the future (and beyond any clock type): valid, no records.
    for (const std::string& v : std::vector<std::string>{k30Digits, "\"" + k30Digits + "\"", "1e300", "\"99999999999999999999.5\""})
        cases.push_back({"logs.since = " + v, with_field(logs, "since", v), Want::Answered, ""});

    // kill: the signal must be a string.
    const std::string kill = "\"cmd\":\"kill\",\"service\":\"" + kVictim + "\"";
    for (const auto& v : kNotStrings)
        cases.push_back({"kill.signal = " + v, with_field(kill, "signal", v), Want::Refused, "request.signal"});
    cases.push_back({"kill.signal = 1e999", with_field(kill, "signal", "1e999"), Want::Refused, "request"});

    // add: manifest_path, manifest, name.
    for (const auto& v : kNotStrings)
        cases.push_back({"add.manifest_path = " + v, with_field("\"cmd\":\"add\"", "manifest_path", v), Want::Refused, "request.manifest_path"});
    cases.push_back({"add.manifest_path = \"\"", R"({"cmd":"add","manifest_path":""})", Want::Refused, "request.manifest_path"});
    cases.push_back({"add.manifest_path relative", R"({"cmd":"add","manifest_path":"x.toml"})", Want::Refused, "request.manifest_path"});
    for (const auto& v : kNotStrings)
        cases.push_back({"add.manifest = " + v, with_field("\"cmd\":\"add\",\"name\":\"h-new\"", "manifest", v), Want::Refused, "request.manifest"});
    for (const auto& v : kNotStrings)
        cases.push_back({"add.name = " + v, with_field("\"cmd\":\"add\",\"manifest\":\"x = 1\"", "name", v), Want::Refused, "request.name"});
    cases.push_back({"add with both forms", R"({"cmd":"add","manifest_path":"/x.toml","manifest":"x","name":"h-new"})", Want::Refused, "request"});
    run_cases(cases);
}

// Signal 0 delivers nothing (POSIX: only error checking), so it is not a signal "sent to the
// main process": refused. 32 and 33 (RTMIN-2, RTMIN-1) are real kernel signals that glibc keeps
// for itself: either answer is fine. Everything beyond SIGRTMAX (64), negative or unparsable is refused.
TEST_CASE("hostile: kill with signals out of range", "[priv][init][hostile]") {
    std::vector<Case> cases;
    for (const std::string& s : std::vector<std::string>{"0", "SIG0", "65", "-1", "-9", "99999999999", "2147483648", "4294967296", "4294967305", k30Digits,
                                "RTMIN+99999999999", "RTMAX-99999999999", "RTMIN+" + k30Digits, "RTMAX+1", "RTMIN+31", "RTMIN-35",
                                "SIG-1", "SIGRTMIN+-1", "RTMIN+", "SIG", "", "+9", " 9", "9 ", "0x9", "1e3", "KILL\\u0000", "SIGKILLX"})
        cases.push_back({"kill signal \"" + s + "\"", with_field("\"cmd\":\"kill\",\"service\":\"" + kVictim + "\"", "signal", "\"" + s + "\""),
                         Want::Refused, "signal"});
    for (const std::string& s : std::vector<std::string>{"32", "33", "RTMIN-2", "RTMIN-1"})
        cases.push_back({"kill signal \"" + s + "\"", with_field("\"cmd\":\"kill\",\"service\":\"" + kVictim + "\"", "signal", "\"" + s + "\""),
                         Want::Answered, ""});
    cases.push_back({"kill of an unknown service", R"({"cmd":"kill","service":"nosuch","signal":"KILL"})", Want::Refused, "nosuch"});
    run_cases(cases);
}

TEST_CASE("hostile: kill with the highest valid signals is delivered", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    for (const std::string& s : std::vector<std::string>{"64", "RTMAX", "SIGRTMAX", "RTMIN+30", "rtmin", "34"}) {
        DYNAMIC_SECTION("kill signal \"" << s << "\"") {
            REQUIRE(h.wait_running(kVictim).is_number());  // the previous signal killed it; it restarts
            expect(h, with_field("\"cmd\":\"kill\",\"service\":\"" + kVictim + "\"", "signal", "\"" + s + "\""), Want::Accepted);
        }
    }
}

TEST_CASE("hostile: service names with /, .., NUL, invalid UTF-8, 10 000 characters", "[priv][init][hostile]") {
    const std::vector<std::pair<std::string, std::string>> names = {
        {"a/b", "\"a/b\""},
        {"../h-idle", "\"../h-idle\""},
        {"..", "\"..\""},
        {"h-idle/..", "\"h-idle/..\""},
        {"h-idle NUL x", "\"h-idle\\u0000x\""},
        {"NUL", "\"\\u0000\""},
        {"H-IDLE", "\"H-IDLE\""},
        {"invalid UTF-8 ff fe", "\"h-idle\xff\xfe\""},
        {"invalid UTF-8 c3 28", "\"\xc3\x28\""},
        {"overlong UTF-8 c0 af", "\"..\xc0\xaf..\""},
        {"lone surrogate", "\"h-idle\\ud800\""},
        {"10 000 characters", "\"" + std::string(10000, 'a') + "\""},
    };
    std::vector<Case> cases;
    for (const auto& [label, value] : names) {
        for (const std::string& cmd : std::vector<std::string>{"logs", "stop", "restart", "remove"})
            cases.push_back({cmd + " " + label, "{\"cmd\":\"" + cmd + "\",\"service\":" + value + "}", Want::Refused, ""});
        cases.push_back({"kill " + label, "{\"cmd\":\"kill\",\"service\":" + value + ",\"signal\":\"KILL\"}", Want::Refused, ""});
        cases.push_back({"add name " + label, "{\"cmd\":\"add\",\"name\":" + value + ",\"manifest\":" + json(kValidManifest).dump() + "}",
                         Want::Refused, ""});
    }
    run_cases(cases);
    if (have_unshare()) {
        // No name may lead add to write outside the services directory.
        auto strays = run_command({"/bin/sh", "-c", "find " + shared_host().host().dir() + " -name '*.toml' ! -path '*/services/*'"});
        CHECK(strays.out == "");
    }
}

TEST_CASE("hostile: line length limits and unfinished lines", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    const std::string status = R"({"cmd":"status"})";

    SECTION("a line of exactly 1 MiB is answered") {
        expect(h, status + std::string(kMiB - status.size(), ' '), Want::Accepted);
    }
    SECTION("a line of 1 MiB + 1 byte is refused with an error line") {
        expect(h, status + std::string(kMiB + 1 - status.size(), ' '), Want::Refused);
    }
    SECTION("clients that send half a line and close are not held") {
        int fds_before = open_fds(h.pid());
        for (int i = 0; i < 50; ++i) {
            RawClient c(h.socket());
            REQUIRE(c.connected());
            c.send(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK(open_fds(h.pid()) <= fds_before);
        h.check_unharmed();
    }
    SECTION("1000 requests in one write get 1000 answers, in order") {
        RawClient c(h.socket());
        REQUIRE(c.connected());
        std::string batch;
        for (int i = 0; i < 1000; ++i) batch += i % 2 ? status + "\n" : "{\"cmd\":\"no-such-" + std::to_string(i) + "\"}\n";
        REQUIRE(c.send(batch, 5000) == batch.size());
        int answered = 0;
        for (; answered < 1000; ++answered) {
            Reply r = c.read_line(5000);
            if (!r.ok()) break;
            json j = json::parse(r.line, nullptr, false);
            bool in_order = j.is_object() && (answered % 2 ? j["ok"] == true && j.contains("state")
                                                           : j["ok"] == false && j["error"].is_string() &&
                                                                 j["error"].get<std::string>().find("'no-such-" + std::to_string(answered) + "'") !=
                                                                     std::string::npos);
            INFO("answer " << answered << ": " << r.describe());
            REQUIRE(in_order);
        }
        CHECK(answered == 1000);
        CHECK(c.read_line(300).kind == Reply::Kind::Timeout);  // and not one more
        h.check_unharmed();
    }
}

TEST_CASE("hostile: many idle connections", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();

    SECTION("200 idle connections: a new client is served at once") {
        std::vector<RawClient> idle;
        for (int i = 0; i < 200; ++i) idle.emplace_back(h.socket());
        for (const auto& c : idle) REQUIRE(c.connected());
        auto start = Clock::now();
        RawClient fresh(h.socket());
        CHECK(fresh.connected());
        check_answer(fresh.request(R"({"cmd":"status"})"), Want::Accepted);
        CHECK(Clock::now() - start < std::chrono::seconds(2));
        idle.clear();
        h.check_unharmed();
    }
    SECTION("more idle connections than berth-init has file descriptors: no busy loop; served once they close") {
        if (!raise_own_fd_limit(1400)) return skip("the test itself cannot open 1400 files");
        std::vector<RawClient> idle;
        // Connects stop succeeding once berth-init stops accepting and its backlog is full.
        for (int i = 0; i < 1100; ++i) idle.emplace_back(h.socket(), 50);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        long before = cpu_ticks(h.pid());
        std::this_thread::sleep_for(std::chrono::seconds(1));
        long used = cpu_ticks(h.pid()) - before;
        std::ifstream limits("/proc/" + std::to_string(h.pid()) + "/limits");
        std::string line;
        while (std::getline(limits, line) && line.rfind("Max open files", 0) != 0) {
        }
        INFO("berth-init: " << line);
        INFO("berth-init used " << used << " of " << sysconf(_SC_CLK_TCK) << " ticks in 1 s");
        CHECK(used < sysconf(_SC_CLK_TCK) / 2);
        idle.clear();
        h.check_unharmed();
    }
}

TEST_CASE("hostile: clients cannot make berth-init hold memory", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();

    SECTION("a client that asks for logs again and again and never reads") {
        RawClient probe(h.socket());
        check_answer(probe.request("{\"cmd\":\"logs\",\"service\":\"" + kChatty + "\"}"), Want::Accepted);
        long before = proc_status_kib(h.pid(), "VmRSS");
        RawClient greedy(h.socket());
        REQUIRE(greedy.connected());
        std::string batch;
        for (int i = 0; i < 200; ++i) batch += "{\"cmd\":\"logs\",\"service\":\"" + kChatty + "\"}\n";
        greedy.send(batch, 1000);  // berth-init may stop reading: that is fine
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        long after = proc_status_kib(h.pid(), "VmRSS");
        INFO("VmRSS " << before << " KiB -> " << after << " KiB");
        CHECK(after - before < 8 * 1024);
        h.check_unharmed();
    }
    SECTION("200 clients each holding 1 MiB without a newline") {
        long before = proc_status_kib(h.pid(), "VmRSS");
        const std::string partial = "{\"cmd\":\"status\"" + std::string(kMiB - 20, ' ');
        std::vector<RawClient> holders;
        for (int i = 0; i < 200; ++i) {
            holders.emplace_back(h.socket(), 500);
            holders.back().send(partial, 200);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        long after = proc_status_kib(h.pid(), "VmRSS");
        INFO("VmRSS " << before << " KiB -> " << after << " KiB");
        CHECK(after - before < 64 * 1024);
        h.check_unharmed();
    }
}

TEST_CASE("hostile: add with manifest paths that are not regular files", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    auto add_path = [&](const std::string& path) { return json{{"cmd", "add"}, {"manifest_path", path}}.dump(); };

    SECTION("/dev/zero") { expect(h, add_path("/dev/zero"), Want::Refused); }
    SECTION("a FIFO nobody writes to") {
        std::string fifo = h.host().dir() + "/h-fifo.toml";
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        expect(h, add_path(fifo), Want::Refused);
    }
    SECTION("a directory") { expect(h, add_path(h.host().dir() + "/services"), Want::Refused); }
    SECTION("/dev/kmsg") { expect(h, add_path("/dev/kmsg"), Want::Refused); }
    SECTION("berth-init's own stdin, a pipe nobody writes to") { expect(h, add_path("/proc/self/fd/0"), Want::Refused); }
    SECTION("a 100 MiB regular file") {
        std::string big = h.host().dir() + "/h-big.toml";
        REQUIRE(run_command({"/bin/sh", "-c", "{ printf 'description = \"'; head -c 104857600 /dev/zero | tr '\\0' a; printf '\"\\n'; } > " + big})
                    .exit_code == 0);
        expect(h, add_path(big), Want::Refused);
        unlink(big.c_str());
    }
}

TEST_CASE("hostile: inline manifests nested 10 000 deep", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    const int depth = 10000;
    auto repeat = [](const std::string& s, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) out += s;
        return out;
    };
    auto deep = [&](const std::string& text) { return inline_add("h-deep", kValidManifest + text); };

    SECTION("inline tables") { expect(h, deep("x = " + repeat("{a = ", depth) + "1" + repeat("}", depth) + "\n"), Want::Refused); }
    SECTION("arrays") { expect(h, deep("x = " + repeat("[", depth) + repeat("]", depth) + "\n"), Want::Refused); }
    SECTION("dotted keys") { expect(h, deep(repeat("a.", depth) + "a = 1\n"), Want::Refused); }
    SECTION("table headers") { expect(h, deep("[" + repeat("a.", depth) + "a]\n"), Want::Refused); }
    SECTION("array-of-tables headers") { expect(h, deep("[[" + repeat("a.", depth) + "a]]\n"), Want::Refused); }
}

TEST_CASE("hostile: add whose requires lists 50 000 names", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    std::string requires_list = "requires = [";
    for (int i = 0; i < 50000; ++i) requires_list += (i ? ", \"r" : "\"r") + std::to_string(i) + "\"";
    requires_list += "]\n";
    RawClient adder(h.socket());
    REQUIRE(adder.connected());
    std::string line = inline_add("h-many", requires_list + kValidManifest) + "\n";
    REQUIRE(adder.send(line, 5000) == line.size());
    // Others are served while it is worked on.
    {
        INFO("status from another client while the add is worked on");
        RawClient other(h.socket());
        auto start = Clock::now();
        check_answer(other.request(R"({"cmd":"status"})"), Want::Accepted);
        CHECK(Clock::now() - start < std::chrono::seconds(2));
    }
    INFO("the answer to the add");
    check_answer(adder.read_line(10000), Want::Refused);
    h.check_unharmed();
}

TEST_CASE("hostile: remove then add the same name at once", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    RawClient c(h.socket());
    check_answer(c.request(inline_add("h-phoenix", kValidManifest)), Want::Accepted);
    REQUIRE(h.wait_running("h-phoenix").is_number());
    check_answer(c.request(R"({"cmd":"remove","service":"h-phoenix"})"), Want::Accepted);
    check_answer(c.request(inline_add("h-phoenix", kValidManifest)), Want::Accepted);
    CHECK(h.wait_running("h-phoenix").is_number());
    h.check_unharmed();
}

TEST_CASE("hostile: a logs follower sees the new instance of a removed and re-added service", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    auto printing = [](const std::string& text) {
        return "[container]\nimage = \"bb\"\ncommand = [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM; while :; do echo " + text +
               "; sleep 0.2; done\"]\n[stop]\ntimeout = \"2s\"\n";
    };
    RawClient c(h.socket());
    check_answer(c.request(inline_add("h-phoenix", printing("first instance"))), Want::Accepted);
    REQUIRE(h.wait_running("h-phoenix").is_number());
    RawClient follower(h.socket());
    check_answer(follower.request(R"({"cmd":"logs","service":"h-phoenix","follow":true})"), Want::Accepted);

    check_answer(c.request(R"({"cmd":"remove","service":"h-phoenix"})"), Want::Accepted);
    // Re-added as soon as berth-init takes it (an immediate add is the previous test case).
    bool added = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(5); !added && Clock::now() < deadline;) {
        Reply r = c.request(inline_add("h-phoenix", printing("second instance")));
        json j = r.ok() ? json::parse(r.line, nullptr, false) : json();
        added = j.is_object() && j["ok"] == true;
        if (!added) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(added);
    bool seen = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(5); !seen && Clock::now() < deadline;) {
        Reply r = follower.read_line(500);
        if (r.kind == Reply::Kind::Closed) break;
        seen = r.ok() && r.line.find("second instance") != std::string::npos;
    }
    CHECK(seen);
    h.check_unharmed();
}

TEST_CASE("hostile: 100 restarts in a row", "[priv][init][hostile]") {
    if (!have_unshare()) return skip("needs root and unshare");
    HostileHost& h = shared_host();
    RawClient c(h.socket());
    REQUIRE(c.connected());
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += "{\"cmd\":\"restart\",\"service\":\"" + kVictim + "\"}\n";
    REQUIRE(c.send(batch) == batch.size());
    for (int i = 0; i < 100; ++i) {
        INFO("answer " << i);
        Reply r = c.read_line(5000);
        check_answer(r, Want::Answered);
        if (!r.ok()) break;
    }
    // It ends up running, and stays so.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    CHECK(h.wait_running(kVictim).is_number());
    h.check_unharmed();
}
