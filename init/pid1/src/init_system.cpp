// berth-init's loop, composed of its parts: the event loop, the services' processes, the control
// server around the pure request handler, and log forwarding to logd. This file wires them to
// the Supervisor and performs its actions; each part has its own file.
#include "berth/pid1/init_system.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <set>

#include "berth/log.hpp"
#include "berth/paths.hpp"
#include "berth/pid1/service_config.hpp"
#include "berth/supervisor/wall_time.hpp"
#include "boot_blessing.hpp"
#include "control_handler.hpp"
#include "control_server.hpp"
#include "event_loop.hpp"
#include "log_forwarder.hpp"
#include "manifest_loading.hpp"
#include "update_job.hpp"
#include "resident_code.hpp"
#include "service_processes.hpp"

namespace berth::pid1 {
namespace {

using supervisor::Clock;
using supervisor::TimePoint;
namespace control = supervisor::control;

// A number at the start of a line of /proc or /run (VmRSS, the userspace start mark).
template <typename T>
std::optional<T> leading_number(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    T value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc()) return std::nullopt;
    return value;
}

// berth-init's own resident memory (VmRSS), for `berthctl status`.
std::optional<long> resident_kib() {
    auto status = sys::read_file("/proc/self/status");
    if (!status) return std::nullopt;
    auto at = status->find("\nVmRSS:");
    if (at == std::string::npos) return std::nullopt;
    return leading_number<long>(std::string_view(*status).substr(at + 7));
}

// `berthctl add`, from request to answer: the manifest is read and checked in a child process
// while the loop goes on; one at a time, the others wait their turn.
struct AddJob {
    uint64_t client;
    control::AddRequest request;
    std::string name;    // the service the request names (the file's stem, or `name`)
    std::string target;  // where it is saved: <runtime services dir>/<name>.toml
    std::optional<ChildTask> check;
    TimePoint deadline{};
};
constexpr size_t kMaxQueuedAdds = 16;


}  // namespace

struct InitSystem::Impl final : ControlBackend {
    InitOptions options;
    EventLoop loop;
    sys::UniqueFd signals;
    std::optional<supervisor::Supervisor> super;
    std::unique_ptr<ServiceProcesses> processes;
    LogForwarder forwarder;
    ControlHandler handler{*this};
    ControlServer server{loop, handler};
    std::vector<manifest::Diagnostic> invalid;  // manifests that failed to load
    supervisor::LogRing system_log{64 * 1024};  // berth-init's own events
    PowerAction power = PowerAction::None;
    bool done = false;
    bool boot_settled = false;                  // the "boot: all services ready" line is written once
    std::optional<double> boot_ready_seconds;   // CLOCK_BOOTTIME when every service was first ready
    std::deque<AddJob> adds;
    std::optional<UpdateJob> update_job;        // `berthctl update`: one at a time
    std::set<std::string> removing;             // removed on request, process not gone yet
    // Added services whose name is still taken by a removed one on its way out: each takes the
    // name once the old one is gone.
    std::map<std::string, manifest::ServiceManifest> replacements;
    // Actions are performed in order; those that performing one yields go to the end of the queue.
    std::vector<supervisor::Action> pending_actions;
    bool performing = false;
    std::unique_ptr<BootBlessing> blessing;     // a machine's trial boot (options.boot_trial)

    Impl(InitOptions o, EventLoop l) : options(std::move(o)), loop(std::move(l)), forwarder(loop, options.logd_socket) {}

    // ---- ControlBackend ----
    supervisor::Supervisor& supervisor() override { return *super; }

    void perform(supervisor::Actions actions) override {
        pending_actions.insert(pending_actions.end(), actions.begin(), actions.end());
        if (performing) return;
        performing = true;
        for (size_t i = 0; i < pending_actions.size(); ++i) {
            supervisor::Action action = pending_actions[i];  // a copy: performing may add more
            std::visit([this](const auto& a) { perform_one(a); }, action);
        }
        pending_actions.clear();
        performing = false;
    }

    const supervisor::LogRing* log_ring(std::string_view service) override {
        if (ServiceRuntime* s = processes->find(service)) return &s->ring;
        return service == "berth-init" ? &system_log : nullptr;
    }

    const std::vector<manifest::Diagnostic>& invalid_manifests() override { return invalid; }

    void add_machine_status(nlohmann::json& payload) override {
        struct statvfs root{};
        if (::statvfs("/", &root) == 0) payload["root"] = {{"read_only", (root.f_flag & ST_RDONLY) != 0}};
        // The state partition (/var): its size shows that it took the whole disk.
        if (struct statvfs state{}; options.machine && ::statvfs("/var", &state) == 0)
            payload["state"] = {{"bytes", static_cast<uint64_t>(state.f_blocks) * state.f_frsize},
                                {"free_bytes", static_cast<uint64_t>(state.f_bavail) * state.f_frsize}};
        if (auto slot = sys::read_file(paths::kBootSlot)) payload["boot_slot"] = slot->substr(0, slot->find('\n'));
        if (boot_ready_seconds) payload["boot_ready_seconds"] = *boot_ready_seconds;
        if (auto rss = resident_kib()) payload["init_resident_kib"] = *rss;
    }

    void add_kernel_view(nlohmann::json& service) override {
        ServiceRuntime* s = processes->find(service["name"].get<std::string>());
        if (!s) return;
        ServiceProcesses::read_kernel_view(*s, service["pid"].get<int>());
        if (!s->pid_namespace.empty()) service["pid_namespace"] = s->pid_namespace;
        if (!s->kernel_cgroup.empty()) service["cgroup"] = s->kernel_cgroup;
    }

    Result<void> send_signal(const std::string&, int pid, int signal) override {
        if (::kill(pid, signal) < 0) return fail_sys("signal " + std::to_string(signal));
        return {};
    }

    Result<void> begin_add(const control::AddRequest& request, uint64_t client) override {
        if (super->shutting_down()) return fail("shutting down: no services are added");
        if (adds.size() >= kMaxQueuedAdds) return fail("too many adds in progress; try again later");
        AddJob job{client, request, request.name, "", std::nullopt, {}};
        if (!request.manifest_path.empty()) {
            std::string file = request.manifest_path.substr(request.manifest_path.rfind('/') + 1);
            job.name = file.size() > 5 && file.ends_with(".toml") ? file.substr(0, file.size() - 5) : file;
        }
        if (!manifest::is_valid_service_name(job.name))
            return fail("'" + job.name + "' is not a service name ([a-z0-9][a-z0-9-]*, at most 63 characters)");
        job.target = options.runtime_services_dir + "/" + job.name + ".toml";
        adds.push_back(std::move(job));
        if (adds.size() == 1) start_next_add();
        return {};
    }

    Result<void> begin_update(const control::UpdateRequest& request, uint64_t client) override {
        if (super->shutting_down()) return fail("shutting down");
        if (update_job)
            return fail("another update job is at work (" + update_job->request().action + ", pid " + std::to_string(update_job->pid()) + ")");
        sys::UniqueFd bundle = server.take_received_fd(client);
        if (request.action == "apply" && !bundle)
            return fail("no bundle came with the request (berthctl sends its file or standard input along with it)");
        auto job = TRY(UpdateJob::start(options.update_command, request, client, std::move(bundle)));
        if (auto watched = loop.watch(job.output_fd(), Source::UpdateJob); !watched) {
            job.kill();
            return fail(watched.error());
        }
        update_job.emplace(std::move(job));
        note("", supervisor::LogLevel::Info, "update " + request.action + ": job started (pid " + std::to_string(update_job->pid()) + ")");
        return {};
    }

    void update_job_readable() {
        if (!update_job) return;
        uint64_t client = update_job->client();
        int fd = update_job->output_fd();
        if (auto read = update_job->read([&](const std::string& line) { server.progress(client, line); }); !read) {
            loop.unwatch(fd);
            update_job->kill();
            server.answer(client, control::error_response("update: reading the job's answer: " + read.error().describe()));
            update_job.reset();
            return;
        }
        finish_update_if_done();  // the pipe closes itself at its end; the reaper may come first or last
    }

    void finish_update_if_done() {
        if (!update_job || !update_job->finished()) return;
        auto [line, ok] = update_job->answer();
        control::UpdateRequest request = update_job->request();
        server.answer(update_job->client(), line);
        update_job.reset();
        note("", ok ? supervisor::LogLevel::Info : supervisor::LogLevel::Warning,
             "update " + request.action + (ok ? ": done" : ": failed: " + line.substr(0, 300)));
        if (ok && request.action == "apply" && request.reboot) {
            note("", supervisor::LogLevel::Info, "update applied: rebooting, as asked");
            begin_shutdown(PowerAction::Reboot);
        }
    }

    void forget_added_manifest(const std::string& service) override {
        removing.insert(service);
        std::string path = options.runtime_services_dir + "/" + service + ".toml";
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            note(service, supervisor::LogLevel::Warning, "removed, but its manifest stays: " + error_text(errno) + ": " + path);
    }

    void request_power(PowerAction action) override { begin_shutdown(action); }

    void note(const std::string& service, supervisor::LogLevel level, const std::string& text) override {
        std::string line = (service.empty() ? "" : service + ": ") + text;
        system_log.append(supervisor::LogStream::Stdout, line + "\n", supervisor::WallClock::now());
        ring_grew("berth-init", system_log);
        log::write(level == supervisor::LogLevel::Error     ? log::Level::Error
                   : level == supervisor::LogLevel::Warning ? log::Level::Warning
                                                            : log::Level::Info,
                   line);
    }

    // ---- the supervisor's actions ----
    void perform_one(const supervisor::StartService& a) { processes->start(a.name); }
    void perform_one(const supervisor::SignalService& a) { processes->signal(a.name, a.pid, a.signal); }
    void perform_one(const supervisor::RunProbe& a) { processes->run_probe(a.name, a.kind); }
    void perform_one(const supervisor::LogEvent& a) { note(a.name, a.level, a.text); }
    void perform_one(const supervisor::AllStopped&) { done = true; }
    void perform_one(const supervisor::ServiceFailedCritical& a) {
        note(a.name, supervisor::LogLevel::Error, "critical service failed: " + a.reason);
        if (blessing) blessing->critical_failed(a, Clock::now());
    }
    void perform_one(const supervisor::ServiceRemoved& a) {
        processes->removed(a.name);
        server.restart_followers(a.name);
        forwarder.forget(a.name);
        removing.erase(a.name);
        if (auto replacement = replacements.find(a.name); replacement != replacements.end()) {
            manifest::ServiceManifest m = std::move(replacement->second);
            replacements.erase(replacement);
            if (auto added = install(std::move(m)); !added)
                note(a.name, supervisor::LogLevel::Error, "not added after all: " + added.error().describe());
        }
    }

    void ring_grew(const std::string& service, const supervisor::LogRing& ring) {
        server.push_logs(service, ring);
        forwarder.forward(service, ring);
    }

    // ---- berthctl add ----
    void start_next_add() {
        while (!adds.empty()) {
            AddJob& job = adds.front();
            const auto& r = job.request;
            std::string parse_as = r.manifest_path.empty() ? job.target : r.manifest_path;
            auto check = start_manifest_check(r.manifest, r.manifest_path, parse_as, options.spec_context);
            if (check) {
                if (auto watched = loop.watch(check->answer_fd(), Source::ManifestCheck); watched) {
                    job.check.emplace(std::move(*check));
                    job.deadline = Clock::now() + std::chrono::seconds(kAddCheckSeconds);
                    return;
                } else {
                    check = tl::unexpected(watched.error());
                }
            }
            finish_add(control::error_response("checking the manifest: " + check.error().describe()));
        }
    }

    // The current add is answered; the next one begins.
    void finish_add(const std::string& response) {
        AddJob job = std::move(adds.front());
        adds.pop_front();
        if (job.check) {
            if (job.check->answer_fd() >= 0) loop.unwatch(job.check->answer_fd());
            job.check->kill_and_reap();
        }
        server.answer(job.client, response);
        if (!adds.empty() && !adds.front().check) start_next_add();
    }

    void add_check_readable() {
        if (adds.empty() || !adds.front().check) return;
        AddJob& job = adds.front();
        auto complete = job.check->read_available();
        if (complete && !*complete) return;
        if (!complete) return finish_add(control::error_response("checking the manifest: " + complete.error().describe()));
        loop.unwatch(job.check->answer_fd());
        auto check = decode_manifest_check(job.check->take_received());
        if (!check)
            return finish_add(control::error_response("checking the manifest: the checking process ended without an answer "
                                                      "(it crashed or ran out of memory)"));
        if (!check->manifest) return finish_add(control::error_response(check->error));
        finish_add(accept_added(job, std::move(*check)));
    }

    // A checked manifest: saved (atomically), then the service is added, or takes over a removed
    // one's name once that one is gone.
    std::string accept_added(const AddJob& job, ManifestCheck check) {
        manifest::ServiceManifest& m = *check.manifest;
        bool replacing = removing.count(m.name) && !replacements.count(m.name);
        if (processes->find(m.name) && !replacing) return control::error_response("service '" + m.name + "' already exists");
        std::string temporary = job.target + ".new";
        auto saved = sys::mkdir_p(options.runtime_services_dir, 0755).and_then([&] {
            return sys::write_file(temporary, check.text);
        });
        if (!saved) return control::error_response("saving the manifest: " + saved.error().describe() + "; not added");
        if (replacing) {
            std::string name = m.name;  // the right side of `=` runs first, and moves m.name away
            replacements[name] = std::move(m);
        } else if (auto added = install(std::move(m)); !added) {
            ::unlink(temporary.c_str());
            return control::error_response(added.error().describe());
        }
        if (::rename(temporary.c_str(), job.target.c_str()) < 0) {
            int error = errno;
            ::unlink(temporary.c_str());
            return control::error_response("added, but not saved for the next boot: rename to '" + job.target +
                                           "': " + error_text(error));
        }
        return control::ok_response({{"service", job.name}});
    }

    Result<void> install(manifest::ServiceManifest m) {
        auto added = super->add_service(service_config_from(m), Clock::now());
        if (!added) return fail(added.error());
        std::erase_if(invalid, [&](const manifest::Diagnostic& d) { return d.service == m.name; });
        processes->add(std::move(m), options.log_ring_bytes);
        perform(std::move(*added));
        return {};
    }

    void add_check_overdue(TimePoint now) {
        if (!adds.empty() && adds.front().check && now >= adds.front().deadline)
            finish_add(control::error_response("checking the manifest took longer than " + std::to_string(kAddCheckSeconds) +
                                               " s; stopped"));
    }

    // ---- reaping ----
    void reap() {
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) return;
            if (!adds.empty() && adds.front().check && adds.front().check->pid() == pid) {
                adds.front().check->reaped();  // its answer is read from the pipe, whatever the order
                continue;
            }
            if (update_job && update_job->pid() == pid) {
                update_job->reaped(status);
                finish_update_if_done();
                continue;
            }
            if (blessing && blessing->reaped(pid)) continue;
            processes->reaped(pid, status);  // else an orphan re-parented to us: reaping it was the whole job
        }
    }

    void begin_shutdown(PowerAction action) {
        if (power == PowerAction::None) power = action;
        if (!super->shutting_down()) perform(super->shutdown(Clock::now()));
        if (super->all_stopped()) done = true;
    }

    // ---- loop ----
    PowerAction run() {
        if (options.boot_trial)
            blessing = std::make_unique<BootBlessing>(
                loop, *options.boot_trial, BootBlessingPaths{},
                BootBlessingHooks{[this](supervisor::LogLevel level, const std::string& text) { note("", level, text); },
                                  [this] { begin_shutdown(PowerAction::Reboot); }},
                Clock::now());
        perform(super->start_all(Clock::now()));
        while (!done) {
            int timeout = -1;
            auto deadline = super->next_deadline();
            for (auto other : {processes->next_removal(),
                               adds.empty() || !adds.front().check ? std::nullopt : std::optional(adds.front().deadline),
                               blessing ? blessing->next_deadline() : std::nullopt,
                               options.watchdog ? std::optional(options.watchdog->next_pet()) : std::nullopt})
                if (other && (!deadline || *other < *deadline)) deadline = other;
            if (deadline) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
                timeout = static_cast<int>(std::clamp<long long>(ms + 1, 0, 60'000));
            }
            // While a logd service exists but is not connected yet, look for its socket.
            if (!forwarder.connected() && processes->find("logd") && (timeout < 0 || timeout > 500)) timeout = 500;
            if (timeout != 0) release_memory();
            ReadyEvent events[32];
            int n = loop.wait(events, 32, timeout);
            for (int i = 0; i < n; ++i) dispatch(events[i]);
            auto now = Clock::now();
            perform(super->tick(now));
            processes->retry_removals(now);
            add_check_overdue(now);
            if (options.watchdog) options.watchdog->pet_if_due(now);
            if (blessing) {
                blessing->tick(now);
                blessing->observe([&] { return super->statuses(now); }, now);
            }
            if (forwarder.try_connect(now)) {
                note("", supervisor::LogLevel::Info, "forwarding logs to logd");
                forward_all();
            }
            if (!boot_settled) note_boot_settled();
        }
        for (auto& job : adds)  // a check still at work is not waited for
            if (job.check) job.check->kill_and_reap();
        if (update_job) {
            note("", supervisor::LogLevel::Warning, "update " + update_job->request().action + " cut short by the shutdown");
            if (update_job->output_fd() >= 0) loop.unwatch(update_job->output_fd());
            update_job->kill();
        }
        if (blessing) blessing->abandon();
        processes->finish_removals();
        return power == PowerAction::None ? PowerAction::Poweroff : power;
    }

    void forward_all() {
        forwarder.forward("berth-init", system_log);
        for (auto& [name, s] : processes->all()) forwarder.forward(name, s->ring);
    }

    // About to sleep after a burst of work (starts, exits): hand the heap's free pages back to
    // the kernel, and, once the boot has settled, the mappings of code run only in the burst
    // (not during the boot: every service start would fault its code back in under the boot's
    // clock). PID 1 lives as long as the machine; its idle footprint is what counts.
    void release_memory() {
        if (!processes->trim_due || processes->launching()) return;  // more is on its way: trim once the burst is over
        processes->trim_due = false;
        ::malloc_trim(0);
        if (boot_settled) drop_idle_code();
    }

    // Once, when every service has come up (or given up) after boot: the boot-time figure, read
    // from CLOCK_BOOTTIME (since the kernel started) and the initramfs's start mark.
    void note_boot_settled() {
        auto statuses = super->statuses(Clock::now());
        std::vector<std::string> not_ready;
        for (const auto& st : statuses) {
            using S = supervisor::ServiceState;
            if (st.state == S::Waiting || st.state == S::Starting || st.state == S::Running)
                return;  // still coming up (a service in back-off has failed once: settled, not ready)
            if (st.state != S::Ready && st.state != S::Exited) not_ready.push_back(st.name);
        }
        boot_settled = true;
        struct timespec now{};
        ::clock_gettime(CLOCK_BOOTTIME, &now);
        double at = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
        double userspace = at;
        if (auto mark = sys::read_file(paths::kUserspaceStart))
            if (auto start = leading_number<double>(*mark)) userspace = at - *start;
        char figures[96];
        std::snprintf(figures, sizeof figures, " at %.3f s (userspace %.3f s)", at, userspace);
        if (not_ready.empty()) {
            boot_ready_seconds = at;
            note("", supervisor::LogLevel::Info, "boot: all " + std::to_string(statuses.size()) + " services ready" + figures);
            if (options.test_hang_after_ready) hang_for_test();
        } else {
            std::string names;
            for (const auto& n : not_ready) names += (names.empty() ? "" : ", ") + n;
            note("", supervisor::LogLevel::Warning, "boot: settled" + std::string(figures) + " with services not ready: " + names);
        }
        if (options.on_boot_settled) options.on_boot_settled();
        if (blessing) blessing->inspect(Clock::now());
        processes->trim_due = true;  // the boot was the biggest burst of all
    }

    // Test hook berth.test.hang=after-ready (docs/updates.md): PID 1 stops petting and sleeps
    // for good, as a hung PID 1 would; the watchdog must reset the machine.
    [[noreturn]] void hang_for_test() {
        note("", supervisor::LogLevel::Warning,
             "test hook berth.test.hang=after-ready: PID 1 hangs now; the watchdog should reset the machine");
        for (;;) ::pause();
    }

    void dispatch(const ReadyEvent& ev) {
        switch (ev.source) {
            case Source::Signal: return handle_signals();
            case Source::Logd:
                if (forwarder.writable_again(ev.events)) forward_all();
                return;
            case Source::Control: return server.listener_ready();
            case Source::Client: return server.client_ready(ev.fd, ev.events);
            case Source::ReadyFile: return processes->ready_files_changed();
            case Source::ManifestCheck: return add_check_readable();
            case Source::UpdateJob: return update_job_readable();
            case Source::BootBlessing:
                if (blessing) blessing->child_readable(Clock::now());
                return;
            case Source::ServiceOut:
            case Source::ServiceErr:
            case Source::Notify:
            case Source::Launch: return processes->fd_ready(ev.source, ev.fd);
        }
    }

    void handle_signals() {
        struct signalfd_siginfo info;
        while (::read(signals.get(), &info, sizeof info) == sizeof info) {
            switch (info.ssi_signo) {
                case SIGCHLD: reap(); break;
                case SIGTERM: case SIGUSR2: begin_shutdown(PowerAction::Poweroff); break;
                case SIGINT: case SIGUSR1: begin_shutdown(PowerAction::Reboot); break;  // Ctrl-Alt-Del sends SIGINT
                default: break;
            }
        }
    }
};

InitSystem::InitSystem(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InitSystem::~InitSystem() = default;

Result<std::unique_ptr<InitSystem>> InitSystem::create(const InitOptions& options, ManifestPreload* preload) {
    auto impl = std::make_unique<Impl>(options, TRY(EventLoop::create()));
    // Every fd a client can make PID 1 hold counts against this: take what the hard limit allows.
    struct rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &files);
    }

    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGPIPE}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return fail_sys("signalfd");
    impl->signals.reset(sfd);
    TRY(impl->loop.watch(sfd, Source::Signal));

    LoadedManifests loaded = load_manifests(options.service_dirs, preload);
    if (!loaded.order_error.empty()) return fail(loaded.order_error);
    impl->invalid = std::move(loaded.errors);
    for (const auto& d : impl->invalid) impl->note(d.service, supervisor::LogLevel::Error, d.message);
    // In start order: a service's dependencies come before it (load_directories checked the graph).
    std::vector<supervisor::ServiceConfig> ordered;
    for (const auto& m : loaded.services) {
        for (const auto& w : m.warnings) impl->note(m.name, supervisor::LogLevel::Warning, w);
        ordered.push_back(service_config_from(m));
    }
    impl->super.emplace(TRY(supervisor::Supervisor::create(std::move(ordered))));
    Impl* self = impl.get();
    impl->processes = std::make_unique<ServiceProcesses>(
        impl->loop, *impl->super, options.spec_context,
        ServiceHooks{[self](supervisor::Actions actions) { self->perform(std::move(actions)); },
                     [self](const std::string& service, supervisor::LogLevel level, const std::string& text) {
                         self->note(service, level, text);
                     },
                     [self](ServiceRuntime& s) { self->ring_grew(s.manifest.name, s.ring); }});
    for (auto& m : loaded.services) impl->processes->add(std::move(m), options.log_ring_bytes);
    TRY(impl->server.listen(options.control_socket, options.admin_gid));
    return std::unique_ptr<InitSystem>(new InitSystem(std::move(impl)));
}

PowerAction InitSystem::run() { return impl_->run(); }

void finish_shutdown(const InitOptions& options, PowerAction action) {
    // Whatever is left (orphans, stragglers of services): TERM, a short grace, then KILL.
    ::kill(-1, SIGTERM);
    for (int i = 0; i < 100; ++i) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        if (::kill(-1, 0) < 0 && errno == ESRCH) break;
        ::usleep(20000);
    }
    ::kill(-1, SIGKILL);
    while (::waitpid(-1, nullptr, 0) > 0) {
    }
    ::sync();
    if (!options.machine) return;
    // Unmounting may wait on a disk: a full timeout for it (the watchdog stays armed).
    if (options.watchdog) options.watchdog->pet();
    // Remount read-only what we cannot unmount (the root), so the next boot finds it clean.
    for (const char* target : {"/sys/fs/cgroup", "/dev/shm", "/dev/pts", "/run"}) ::umount2(target, MNT_DETACH);
    // The state partition: unmounted when nothing holds it, else read-only; either way its
    // filesystem is marked clean for the next boot.
    ::umount2("/efi", 0);
    if (::umount2("/var", 0) != 0) ::mount(nullptr, "/var", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
    ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
    ::sync();
    if (options.watchdog) {
        if (action == PowerAction::Reboot) options.watchdog->arm_for_reboot();
        else options.watchdog->disarm();
    }
    ::reboot(action == PowerAction::Reboot ? RB_AUTOBOOT : RB_POWER_OFF);
}

}  // namespace berth::pid1
